"""The Intervene tab in a real Chromium: an edit changes what the model writes next."""

from __future__ import annotations

import pytest

from .harness import wait_idle, wait_view

pytestmark = pytest.mark.browser

CODE = "[data-testid=stCode]"


def both_shown(alike: bool) -> str:
    """JS that is true once the two continuations are shown and are (or are not) the same."""
    return f"""() => {{
  const shown = [...document.querySelectorAll("{CODE}")].map((e) => e.innerText);
  return shown.length === 2 && (shown[0] === shown[1]) === {str(alike).lower()};
}}"""


def continuations(page) -> list[str]:
    return page.locator(CODE).all_inner_texts()


def test_clamping_the_quote_cell_high_changes_the_continuation_and_a_scale_by_one_does_not(page, app_url):
    page.goto(app_url + "/?layer=2&cell=429")
    wait_view(page)
    wait_idle(page)
    page.get_by_role("tab", name="Intervene").click()
    page.locator(CODE).nth(1).wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    page.get_by_text("its highest c on this text").click()  # as if inside a quote from here on
    page.wait_for_function(both_shown(alike=False), timeout=120_000)
    wait_idle(page, timeout=120_000)
    plain, changed = continuations(page)
    assert plain and changed and plain != changed
    assert page.get_by_text("Layer 2, cell 429: clamp c to").count() == 1
    page.get_by_text("Scale c by").click()
    factor = page.get_by_label("Factor (0 zeroes the cell)")
    factor.wait_for()
    factor.fill("1")
    factor.press("Enter")
    page.wait_for_function(both_shown(alike=True), timeout=120_000)
    wait_idle(page, timeout=120_000)
    assert continuations(page)[0] == plain  # the same seed: only the edit could change it
    assert page.locator("[data-testid=stException]").count() == 0
