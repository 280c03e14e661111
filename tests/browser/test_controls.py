"""Every control does what it says, in a real Chromium: a click on the body of a table row picks its
cell; Back and Forward step through the cells shown; a model switch shows that model's example and
cell; your own text gets the cell that follows its quotes; the Intervene tab opens on an edit that
changes what the model writes; and a cell's match reads the same on the main page and its page."""

from __future__ import annotations

import re

import numpy as np
import pytest

import lstm_viz
from lstm_viz.core import features
from lstm_viz.find import cellpage, finder
from ui.session.examples import EXAMPLES

from .harness import TEXT_LABEL, set_text, wait_idle, wait_view

pytestmark = pytest.mark.browser

VIEW = """() => {
  const host = [...document.querySelectorAll("[data-testid=stBidiComponentIsolated]")]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector(".lv[data-chars]"));
  const root = host.shadowRoot.querySelector(".lv[data-chars]");
  return [Number(root.dataset.layer), Number(root.dataset.cell)];
}"""
NEXT_CELL = """() => {
  const host = [...document.querySelectorAll("[data-testid=stBidiComponentIsolated]")]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector(".lv[data-chars]"));
  host.shadowRoot.querySelector(".lv button.next").click();
}"""
ROW = 35  # px: the height of a table's header and of each of its rows
PROSE = (
    "The ferry was late again, and the harbour smelled of diesel and rain.\n"
    '"You said it would be here by nine," Mara told the clerk, tapping the glass.\n'
    "The clerk shrugged and went back to his crossword.\n"
    '"Nine was a hope," he said at last, "not a promise."\n'
    "Outside, the gulls argued over a paper bag, and nobody else seemed to mind the wait.\n"
    '"Then I will hope for ten," she said, and sat down on her suitcase.\n'
)


@pytest.fixture(scope="module")
def warpeace():
    return lstm_viz.load("warpeace")


def open_app(page, url: str, query: str = "") -> None:
    page.goto(url + "/" + query)
    wait_view(page)
    wait_idle(page)


def shown_cell(page) -> tuple[int, int]:
    layer, cell = page.evaluate(VIEW)
    return int(layer), int(cell)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_idle(page, timeout=120_000)


def click_row_body(page, table: int, row: int) -> None:
    """Click the middle of a row of a table (its cells, right of the page link), not its checkbox."""
    grid = page.locator("[data-testid=stDataFrame]").nth(table)
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + ROW + ROW * row + ROW / 2)


def no_exception(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0


def test_a_click_on_the_body_of_a_ranking_row_or_a_label_row_shows_that_rows_cell(page, app_url, warpeace):
    open_app(page, app_url, "?layer=1&cell=0")
    open_tab(page, "Find cells")
    ranked = finder.find_cells(warpeace.trace(lstm_viz.normalise(EXAMPLES["dialogue"].text)), "quotes", top=3)
    third = int(ranked.layer[2]), int(ranked.cell[2])
    click_row_body(page, 0, 2)
    wait_view(page, cell=str(third[1]))
    wait_idle(page)
    assert shown_cell(page) == third
    open_tab(page, "Cell labels")
    second = cellpage.table(cellpage.load("warpeace")).iloc[1]
    click_row_body(page, 0, 1)
    wait_view(page, cell=str(int(second.cell)))
    wait_idle(page)
    assert shown_cell(page) == (int(second.layer), int(second.cell))
    assert page.get_by_label("Cell (0 to 511)", exact=True).input_value() == str(int(second.cell))
    no_exception(page)


def test_back_and_forward_step_through_the_cells_shown(page, app_url):
    open_app(page, app_url, "?layer=2&cell=429")
    for cell in (430, 431):  # two "Next cell" clicks, each written into the link once the server has it
        page.evaluate(NEXT_CELL)
        page.wait_for_url(re.compile(rf"[?&]cell={cell}\b"), timeout=60_000)
        wait_idle(page)
    for go, cell in ((page.go_back, 430), (page.go_back, 429), (page.go_forward, 430)):
        go()
        wait_view(page, cell=str(cell))
        wait_idle(page)
        assert shown_cell(page) == (1, cell)
        assert re.search(rf"[?&]cell={cell}\b", page.url)
        assert page.get_by_label("Cell (0 to 511)", exact=True).input_value() == str(cell)
    no_exception(page)


def test_switching_the_model_to_linux_shows_its_c_example_and_the_cell_it_suggests_there(page, app_url):
    open_app(page, app_url)
    assert shown_cell(page) == (1, 429)
    page.get_by_label("Model", exact=True).click()
    page.get_by_role("option", name="linux", exact=True).click()
    wait_view(page, cell="425")
    wait_idle(page)
    assert shown_cell(page) == (0, 425)  # the bracket depth cell, layer 1
    assert page.get_by_label(TEXT_LABEL).input_value() == EXAMPLES["c"].text
    suggested = page.get_by_role("button", name="layer 1 cell 425 follows bracket depth")
    assert suggested.count() == 1 and suggested.get_attribute("data-testid") == "stBaseButton-primary"
    no_exception(page)


def test_your_own_prose_gets_the_cell_that_follows_its_quotes_and_a_click_shows_it(page, app_url, warpeace):
    open_app(page, app_url, "?layer=1&cell=0")
    set_text(page, PROSE)
    page.get_by_text("Best cells on your text:").wait_for(timeout=60_000)
    wait_idle(page)
    button = page.get_by_role("button", name=re.compile(r"follows quotes, match"))
    found = re.fullmatch(r"layer (\d+) cell (\d+) follows quotes, match ([\d.]+)", button.inner_text().strip())
    layer, cell, match = int(found[1]) - 1, int(found[2]), float(found[3])
    text = lstm_viz.normalise(PROSE)
    values = warpeace.trace(text).cell[layer, :, cell].astype(np.float64)
    inside = features.quotes(text)
    r = np.corrcoef(values, inside)[0, 1]
    assert match == pytest.approx(abs(r), abs=0.005)  # shown to two decimals
    assert r > 0.8 and values[inside].min() > values[~inside].mean()  # it is up inside every quote of the text
    button.click()
    wait_view(page, cell=str(cell))
    wait_idle(page)
    assert shown_cell(page) == (layer, cell)
    no_exception(page)


def test_the_intervene_tab_opens_on_an_edit_that_changes_what_the_model_writes(page, app_url):
    open_app(page, app_url)
    open_tab(page, "Intervene")
    code = page.locator("[data-testid=stCode]")
    code.nth(1).wait_for(timeout=180_000)
    wait_idle(page, timeout=180_000)
    plain, changed = code.all_inner_texts()[:2]
    assert plain and changed and plain != changed
    assert page.get_by_text("is the same with and without this edit").count() == 0
    no_exception(page)


def test_the_quote_cell_has_one_match_under_one_name_on_the_main_page_and_on_its_page(page, app_url):
    record = cellpage.entry(cellpage.load("warpeace"), 1, 429)
    words = f"match {record['score']:.2f} on held-out text"
    open_app(page, app_url, "?layer=2&cell=429")
    open_tab(page, "Find cells")
    box = page.locator("[data-testid=stMarkdownContainer]", has_text="Layer 2, cell 429: inside double quotes").last
    box.wait_for()
    assert words in box.inner_text() and "auc" not in box.inner_text().lower()
    page.locator("[data-testid=stPageLink] a", has_text="Page of cell 2:429:").click()
    page.get_by_role("heading", name="Layer 2, cell 429", exact=True).wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    assert page.get_by_text(words).count() >= 1
    metric = page.locator("[data-testid=stMetric]").first
    assert metric.locator("[data-testid=stMetricLabel]").inner_text().strip() == "Match"
    assert metric.locator("[data-testid=stMetricValue]").inner_text().strip() == f"{record['score']:.2f}"
    assert page.get_by_text(re.compile(r"\bscore\b", re.I)).count() == 0
    no_exception(page)
