"""The Analyses page in a real Chromium: opened from its own URL, and reached from the main page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ui.components import payload

from .harness import set_text, wait_idle, wait_view

pytestmark = pytest.mark.browser

CODE = "static int f(int x)\n{\n\tif (x) {\n\t\treturn 1;\n\t}\n\treturn 0;\n}\n"


def metric(page, label: str) -> str:
    box = page.locator("[data-testid=stMetric]").filter(has_text=label)
    return box.locator("[data-testid=stMetricValue]").inner_text()


def test_opened_from_its_own_url_it_analyses_the_default_example(page, app_url):
    page.goto(app_url + "/Analyses")
    page.get_by_role("heading", name="Analyses").wait_for(timeout=60_000)
    page.locator("[data-testid=stMetric]").first.wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    assert page.locator("[data-testid=stImage]").count() >= 1  # the held-out figure of the first tab
    expect(page.locator("[data-testid=stPlotlyChart]")).to_have_count(3, timeout=30_000)  # drawn as plotly loads
    assert page.locator("[data-testid=stException]").count() == 0


def test_reached_from_the_main_page_it_analyses_the_text_shown_there(page, app_url):
    page.goto(app_url + "/?model=linux")
    wait_view(page)
    wait_idle(page)
    set_text(page, CODE)
    wait_view(page, key=payload.text_key("linux", CODE))
    wait_idle(page)
    page.locator("[data-testid=stSidebar] a", has_text="Analyses").first.click()
    page.get_by_role("heading", name="Analyses").wait_for(timeout=60_000)
    page.locator("[data-testid=stMetric]").first.wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    assert metric(page, "Characters") == f"{len(CODE):,}"
    assert "model linux" in page.locator("[data-testid=stCaptionContainer]").first.inner_text()
    spans = page.locator("span[title^='LSTM - n-gram']")
    expect(spans).to_have_count(len(CODE) - 1, timeout=30_000)  # every character but the first is predicted
    assert page.locator("[data-testid=stException]").count() == 0
