"""Cell pages in a real Chromium: opened by their address, left by a related cell's link, reached
by a click on the cell map, and a bad address answered in one line."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lstm_viz.find import cellpage
from ui.session import labels

from .harness import wait_idle, wait_view

pytestmark = pytest.mark.browser

# The cell map's point farthest from any other (so that a click there hits it alone), scrolled into
# view: its cell and viewport coordinates (plotly's own axes convert the data).
ISOLATED_POINT = """() => {
  const plot = [...document.querySelectorAll(".js-plotly-plot")].find((p) => p._fullLayout);
  plot.scrollIntoView({ block: "center" });
  const size = plot._fullLayout._size, box = plot.getBoundingClientRect();
  const points = plot._fullData.flatMap((trace) => (trace.customdata || []).map((d, k) => ({
    layer: d[0], cell: d[1],
    x: box.left + size.l + plot._fullLayout.xaxis.d2p(trace.x[k]),
    y: box.top + size.t + plot._fullLayout.yaxis.d2p(trace.y[k]) })));
  let best = null, room = -1;
  for (const p of points) {
    const near = Math.min(...points.filter((q) => q !== p).map((q) => Math.hypot(q.x - p.x, q.y - p.y)));
    if (near > room) { best = p; room = near; }
  }
  return best;
}"""


def entry(layer: int, cell: int) -> dict:
    """The cell's top, quantile and bottom snippets in the shipped explain.json."""
    record = cellpage.entry(cellpage.load("warpeace"), layer, cell)
    return {kind: record[kind] for kind in ("top", "quantiles", "bottom")}


def heading(page, text: str):
    return page.get_by_role("heading", name=text, exact=True)


def no_exception(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0


def test_a_cell_page_opened_by_its_address_shows_its_label_and_snippets(page, app_url):
    page.goto(app_url + "/Cell?model=warpeace&cell=2:429")
    heading(page, "Layer 2, cell 429").wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    expect(page.get_by_text("inside double quotes (a blank line ends an unclosed quote)").first).to_be_visible()
    snippets = page.locator("div[title^='character ']")  # top, quantile and bottom snippets, each outlined once
    expect(snippets).to_have_count(sum(len(e) for e in entry(1, 429).values()))
    expect(snippets.locator("span[style*='outline']")).to_have_count(snippets.count())
    no_exception(page)


def test_a_related_cells_link_opens_that_cells_page(page, app_url):
    record = cellpage.load("warpeace")
    layer, cell, r = cellpage.entry(record, 1, 429)["related"][0]
    page.goto(app_url + "/Cell?model=warpeace&cell=2:429")
    heading(page, "Layer 2, cell 429").wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    page.locator("[data-testid=stPageLink] a", has_text=f"{layer + 1}:{cell} \u00b7 r {r:+.2f}").click()
    heading(page, f"Layer {layer + 1}, cell {cell}").wait_for(timeout=60_000)
    wait_idle(page)
    assert re.search(rf"cell={layer + 1}(:|%3A){cell}\b", page.url)
    no_exception(page)


def test_a_click_on_the_cell_map_shows_that_cell_and_its_page_link(page, app_url):
    page.goto(app_url + "/?model=warpeace&layer=1&cell=0")
    wait_view(page, cell="0")
    wait_idle(page)
    page.get_by_role("tab", name="Cell map").click()
    page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=60_000)
    wait_idle(page)
    point = page.evaluate(ISOLATED_POINT)
    assert (point["layer"], point["cell"]) != (0, 0)  # the view is on layer 1, cell 0: the click must move it
    page.mouse.click(point["x"], point["y"])
    wait_view(page, cell=str(point["cell"]), layer=str(point["layer"]))  # the coloured text shows that cell
    wait_idle(page)
    name = f"{point['layer'] + 1}:{point['cell']}"
    page.locator("[data-testid=stPageLink] a", has_text=f"Page of cell {name}").last.click()
    heading(page, f"Layer {point['layer'] + 1}, cell {point['cell']}").wait_for(timeout=60_000)
    wait_idle(page)
    no_exception(page)


def test_a_bad_address_is_answered_in_one_line(page, app_url):
    page.goto(app_url + "/Cell?model=warpeace&cell=%3Cimg%20src=x%20onerror=alert(1)%3E")
    heading(page, "Cell page").wait_for(timeout=60_000)
    wait_idle(page)
    alert = page.locator("[data-testid=stAlertContentError]")
    expect(alert).to_have_count(1)
    assert "write cells as 429 or layer:cell" in alert.inner_text()
    assert page.locator("img[src=x]").count() == 0
    no_exception(page)


def test_a_row_of_the_heatmap_grouped_by_label_picks_its_cell(page, app_url):
    page.goto(app_url + "/?model=warpeace&layer=2&cell=0")
    wait_view(page, cell="0")
    wait_idle(page)
    page.get_by_role("tab", name="All cells").click()
    page.get_by_text("Group by label").click()
    heat = page.locator(".hm[data-grouped='true']")
    heat.wait_for(state="attached", timeout=60_000)
    wait_idle(page)
    cells = [int(c) for c in heat.get_attribute("data-cells").split(",")]
    canvas = heat.locator("canvas")
    canvas.scroll_into_view_if_needed()
    width = canvas.bounding_box()["width"]
    columns = int(heat.get_attribute("data-columns"))
    band = min(260, width / 3)  # heatmap.js: group titles on the right
    row, column = 5, 10
    canvas.click(position={"x": 62 + (column + 0.5) * (width - 62 - band) / columns, "y": row * 14 + 7})
    wait_view(page, cell=str(cells[row]), selected=str(column), layer="1")
    record = cellpage.load("warpeace")
    kinds = [labels.kind(cellpage.entry(record, 1, c)["key"]) for c in cells]
    order = list(labels.KINDS)
    assert [order.index(k) for k in kinds] == sorted(order.index(k) for k in kinds)  # grouped by kind of label
    no_exception(page)
