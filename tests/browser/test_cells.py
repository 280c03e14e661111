"""Switching cells inside the coloured text: at once, with no message to the server; the page
follows afterwards; pinned cells; links that reopen the cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lstm_viz
from lstm_viz.views import colour
from ui.components import payload
from ui.session.examples import EXAMPLES

from .harness import START_SWITCH, SWITCHED, TEXT_VIEW, wait_idle, wait_view

pytestmark = pytest.mark.browser

COLOURS = "els => els.map(e => getComputedStyle(e).backgroundColor)"


@pytest.fixture(scope="module")
def shown_cells():
    """(H, T) values of layer 1's cell state on the dialogue, as the page gets them."""
    tr = lstm_viz.load("warpeace").trace(EXAMPLES["dialogue"].text)
    return payload.layer_values(payload.layer_part(tr, "warpeace", 0, "cell"))


def open_on(page, url: str, cell: int) -> None:
    page.goto(f"{url}/?layer=1&cell={cell}")
    wait_view(page, cell=str(cell))
    wait_idle(page)


def main_colours(page) -> list[str]:
    return page.locator(f"{TEXT_VIEW} .line.main .ch").evaluate_all(COLOURS)


def want(values: np.ndarray) -> list[str]:
    return [colour.css(v) for v in values]


def frames_sent(page) -> list:
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    return sent


@pytest.mark.parametrize("how", ["key", "button"])
def test_a_key_press_or_next_cell_repaints_with_no_message_to_the_server(page, app_url, shown_cells, how):
    sent = frames_sent(page)
    open_on(page, app_url, 10)
    before = len(sent)
    page.evaluate(START_SWITCH, how)
    page.wait_for_function(SWITCHED)
    assert page.locator(TEXT_VIEW).get_attribute("data-cell") == "11"
    assert main_colours(page) == want(shown_cells[11])
    assert len(sent) == before  # repainted, and nothing has gone to the server yet
    wait_view(page, synced="11")  # then, once the switching stopped, the server was told
    assert len(sent) > before


def test_keys_in_the_text_and_the_toolbar_step_both_ways_and_wrap(page, app_url, shown_cells):
    open_on(page, app_url, 0)
    text = page.locator(f"{TEXT_VIEW} .text")
    text.focus()
    text.press("k")
    wait_view(page, cell="511")
    text.press("ArrowDown")
    text.press("j")
    wait_view(page, cell="1")
    page.get_by_role("button", name="Previous cell", exact=True).click()
    wait_view(page, cell="0")
    number = page.locator(f"{TEXT_VIEW} .num")
    number.fill("300")
    number.press("Enter")
    wait_view(page, cell="300")
    assert main_colours(page) == want(shown_cells[300])


def test_the_sidebar_url_charts_and_downloads_follow_after_the_switching_stops(page, app_url):
    open_on(page, app_url, 20)
    for _ in range(3):
        page.get_by_role("button", name="Next cell", exact=True).click()
    wait_view(page, cell="23")
    wait_view(page, synced="23")
    wait_idle(page)
    assert page.get_by_label("Cell (0 to 511)", exact=True).input_value() == "23"
    assert "cell=23" in page.url
    page.get_by_role("tab", name="All cells").click()
    page.locator(".hm[data-chosen='23']").wait_for(state="attached")  # the heatmap outlines it
    with page.expect_download() as download:  # built when clicked, in a server thread of its own
        page.get_by_role("button", name="Cell 23 as CSV").click()
    rows = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("position,char,unknown,tanh_c") and len(rows) > 100
    card_cell = page.locator(TEXT_VIEW).evaluate("r => r.__view.data.card.cell")
    assert card_cell == 23  # the hover card has this cell's exact gates now


def test_three_pinned_cells_are_three_rows_under_each_line_in_their_own_colours(page, app_url, shown_cells):
    open_on(page, app_url, 5)
    pin = page.get_by_role("button", name="Pin cell", exact=True)
    for cell in (5, 6, 7):
        wait_view(page, cell=str(cell))
        pin.click()
        page.get_by_role("button", name="Next cell", exact=True).click()
    wait_view(page, cell="8", pins="5,6,7")
    lines = EXAMPLES["dialogue"].text.count("\n")
    for cell in (5, 6, 7):
        rows = page.locator(f"{TEXT_VIEW} .line.pin[data-cell='{cell}']")
        assert rows.count() == lines
        assert rows.locator(".ch").evaluate_all(COLOURS) == want(shown_cells[cell])
    assert main_colours(page) == want(shown_cells[8])
    page.get_by_role("button", name="cell 6", exact=True).click()  # show a pinned cell in the main rows
    wait_view(page, cell="6")
    page.get_by_role("button", name="Unpin cell 5").click()
    wait_view(page, pins="6,7")
    assert page.locator(f"{TEXT_VIEW} .line.pin[data-cell='5']").count() == 0


def test_a_link_copied_after_switching_opens_on_the_same_cell(page, app_url, browser, shown_cells):
    open_on(page, app_url, 40)
    page.get_by_role("button", name="Next cell", exact=True).click()
    wait_view(page, synced="41")
    wait_idle(page)
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        other.goto(page.url)
        wait_view(other, cell="41")
        assert main_colours(other) == want(shown_cells[41])
        assert other.get_by_label("Cell (0 to 511)", exact=True).input_value() == "41"
    finally:
        other.context.close()


def test_a_cell_typed_in_the_sidebar_moves_the_view(page, app_url, shown_cells):
    open_on(page, app_url, 0)
    box = page.get_by_label("Cell (0 to 511)", exact=True)
    box.fill("77")
    box.press("Enter")
    wait_view(page, cell="77")
    assert main_colours(page) == want(shown_cells[77])


def test_the_hover_card_says_the_other_signals_are_on_their_way_until_the_server_catches_up(page, app_url):
    open_on(page, app_url, 50)
    t = EXAMPLES["dialogue"].text.index("Prince")
    card = """(t) => {  // switch and hover in one task, so the server cannot have answered yet
      const root = [...document.querySelectorAll("[data-testid=stBidiComponentIsolated]")]
        .map((h) => h.shadowRoot && h.shadowRoot.querySelector(".lv")).find(Boolean);
      root.querySelector("button.next").click();
      root.querySelectorAll(".line.main .ch")[t].dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
      return root.querySelector(".card").innerText;
    }"""
    early = page.evaluate(card, t)
    assert "cell 51" in early and "arrive once the page has caught up" in early
    assert "forget gate\t\u2026" in early  # not yet known
    wait_view(page, synced="51")
    wait_idle(page)
    page.locator(f"{TEXT_VIEW} .line.main .ch").nth(t + 1).hover()
    page.locator(f"{TEXT_VIEW}[data-hover='{t + 1}']").wait_for(state="attached")
    late = page.locator(f"{TEXT_VIEW} .card").inner_text()
    assert "cell 51" in late and "caught up" not in late and "\u2026" not in late
