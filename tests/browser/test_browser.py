"""The app in a real Chromium: what a visitor sees, hovers and clicks."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_viz
from lstm_viz.find import finder
from lstm_viz.views import colour, glyphs
from ui.components import payload
from ui.session.examples import EXAMPLES

from .harness import TEXT_LABEL, TEXT_VIEW, set_text, wait_idle, wait_view

pytestmark = pytest.mark.browser

FIRST_CELL = "?layer=1&cell=0"  # a link naming a cell gets no suggested one
PASTED = 'He said, "no<b>t</b> yet."\n\tThe snow \u2603 fell;\n  and then   it stopped.\n'


@pytest.fixture(scope="module")
def models():
    return {name: lstm_viz.load(name) for name in ("warpeace", "linux")}


def open_app(page, url: str, query: str = "") -> None:
    page.goto(url + "/" + query)
    wait_view(page)
    wait_idle(page)


def spans(page):
    """The characters of the main rows (pinned cells add rows of their own)."""
    return page.locator(f"{TEXT_VIEW} .line.main .ch")


def colours(page, rows=None) -> list[str]:
    return (rows or spans(page)).evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")


def expected_colours(tr, name: str, layer: int, cell: int) -> list[str]:
    """The colours of one cell as the view gets its values (one byte each), checked against the exact
    values: never more than one level of the colour scale away."""
    shown = payload.layer_values(payload.layer_part(tr, "any", layer, name))[cell]
    exact = tr.signal(name, layer, [cell])[:, 0]
    assert max(abs(np.subtract(colour.rgb(a), colour.rgb(b))).max() for a, b in zip(shown, exact)) <= 1
    return [colour.css(v) for v in shown]


def test_the_page_opens_on_war_and_peace_with_the_example_already_coloured(page, app_url, models):
    open_app(page, app_url)
    text = EXAMPLES["dialogue"].text
    tr = models["warpeace"].trace(text)
    best = finder.find_cells(tr, "quotes", top=1).iloc[0]
    layer, cell = int(best["layer"]), int(best["cell"])
    assert spans(page).count() == len(text)
    assert colours(page) == expected_colours(tr, "cell", layer, cell)
    legend = page.locator(f"{TEXT_VIEW} .legend .what").inner_text()
    assert legend == f"Layer {layer + 1}, cell {cell}: cell state tanh(c)"
    assert page.locator("[data-testid=stException]").count() == 0


def test_pasted_text_gets_one_coloured_span_per_character_and_stays_plain_text(page, app_url, models):
    open_app(page, app_url, FIRST_CELL)
    set_text(page, PASTED)
    wait_view(page, key=payload.text_key("warpeace", PASTED))
    wait_idle(page)
    assert spans(page).count() == len(PASTED)
    assert spans(page).all_text_contents() == [glyphs.NAMES["\n"] if c == "\n" else c for c in PASTED]
    tr = models["warpeace"].trace(PASTED)
    assert colours(page) == expected_colours(tr, "cell", 0, 0)
    assert page.locator(f"{TEXT_VIEW} b").count() == 0  # "<b>" was shown, not obeyed
    unknown = spans(page).evaluate_all("els => els.flatMap((e, i) => e.classList.contains('unk') ? [i] : [])")
    assert unknown == np.flatnonzero(tr.unknown).tolist()


def test_hovering_a_character_shows_its_card_without_a_rerun(page, app_url, models):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    open_app(page, app_url, FIRST_CELL)
    text = EXAMPLES["dialogue"].text
    tr = models["warpeace"].trace(text)
    before = len(sent)
    t = text.index("Prince")
    spans(page).nth(t).hover()
    card = page.locator(f"{TEXT_VIEW} .card")
    card.wait_for(state="visible")
    lines = card.inner_text().splitlines()
    assert lines[0] == f"position {t} \u00b7 cell 0" and lines[1] == "P"
    values = dict(line.split("\t")[1:] for line in lines if line.count("\t") == 2)
    assert values["cell state tanh(c)"] == f"{tr.cell[0, t, 0]:.3f}"  # the card names signals as the sidebar does
    for gate in ("input", "forget", "output"):
        assert values[f"{gate} gate"] == f"{tr.gate(gate, 0)[t, 0]:.3f}"
    top = [glyphs.label(c) for c, _ in tr.top_k(t)]
    assert [line for line in lines if line in top] == top
    spans(page).nth(t + 3).hover()
    page.locator(f"{TEXT_VIEW}[data-hover='{t + 3}']").wait_for(state="attached")
    page.mouse.move(5, 5)
    card.wait_for(state="hidden")
    assert len(sent) == before  # nothing went to the server: the script did not rerun


def test_clicking_a_character_shows_its_top_five_in_the_next_character_panel(page, app_url, models):
    open_app(page, app_url)
    text = EXAMPLES["dialogue"].text
    t = text.index("army") + 1
    spans(page).nth(t).click()
    wait_view(page, selected=str(t))
    wait_idle(page)
    panel = page.locator(f".bars[data-title^='Next character after position {t} ']")
    labels = [s.split(". ", 1)[1] for s in panel.locator(".sym").all_text_contents()]  # "rank. character"
    top = models["warpeace"].trace(text).top_k(t)
    assert labels[:5] == [glyphs.label(c) for c, _ in top]
    actual = glyphs.label(text[t + 1])
    marked = panel.locator(".sym.hit").all_text_contents()
    assert len(marked) == 1 and panel.locator(".p.hit").count() == 1
    assert actual in labels[:5] or labels[5] == f"{actual} (actual)"
    assert f"pos={t}" in page.url


def test_changing_the_cell_changes_the_colours(page, app_url, models):
    open_app(page, app_url, FIRST_CELL)
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    before = colours(page)
    page.get_by_role("button", name="Next cell").click()
    wait_view(page, cell="1")
    after = colours(page)
    assert after == expected_colours(tr, "cell", 0, 1) and after != before
    page.get_by_role("radio", name="forget gate").check(force=True)
    wait_view(page, cell="1", signal="forget")
    assert colours(page) == expected_colours(tr, "forget", 0, 1)


def test_clicking_a_bar_of_the_all_cells_chart_picks_that_cell(page, app_url, models):
    open_app(page, app_url, FIRST_CELL)
    page.get_by_role("tab", name="All cells").click()
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    cell = int(np.argmax(tr.cell[0, 0]))  # the tallest bar at position 0
    canvas = page.locator('.bars[data-title="Every cell\'s cell state tanh(c) at position 0"] canvas')
    box = canvas.bounding_box()
    canvas.click(position={"x": (cell + 0.5) * box["width"] / tr.shape[2], "y": box["height"] / 2})
    wait_view(page, cell=str(cell))
    assert colours(page) == expected_colours(tr, "cell", 0, cell)


def test_a_shared_url_opens_on_its_model_layer_cell_and_example(page, app_url, models):
    open_app(page, app_url, "?model=linux&layer=2&cell=7&example=c")
    wait_view(page, layer="1", cell="7")
    assert page.get_by_label(TEXT_LABEL).input_value() == EXAMPLES["c"].text
    tr = models["linux"].trace(EXAMPLES["c"].text)
    assert colours(page) == expected_colours(tr, "cell", 1, 7)
    assert page.get_by_label("Cell (0 to 511)", exact=True).input_value() == "7"


def test_text_over_the_limit_is_refused_with_the_limit_and_the_box_keeps_it(page, app_url):
    open_app(page, app_url)
    key = page.locator(TEXT_VIEW).get_attribute("data-key")
    too_long = "word " * 2000 + "!"
    set_text(page, too_long)
    error = page.locator("[data-testid=stAlertContentError]")
    error.wait_for()
    wait_idle(page)
    assert "10,000" in error.inner_text() and "10,001" in error.inner_text()
    assert page.get_by_label(TEXT_LABEL).input_value() == too_long
    assert page.locator(TEXT_VIEW).get_attribute("data-key") == key  # the last good text is still shown


def test_clicking_a_heatmap_row_shows_that_cell_at_that_character(page, app_url, models):
    open_app(page, app_url, FIRST_CELL)
    page.get_by_role("tab", name="All cells").click()
    heat = page.locator(".hm[data-cells]")
    cells = [int(c) for c in heat.get_attribute("data-cells").split(",")]
    canvas = heat.locator("canvas")
    width = canvas.bounding_box()["width"]
    columns = int(heat.get_attribute("data-columns"))  # characters 0 to columns - 1: position 0 is selected
    row, column = 3, 40
    canvas.click(position={"x": 62 + (column + 0.5) * (width - 62) / columns, "y": row * 14 + 7})  # 62 px of labels
    wait_view(page, cell=str(cells[row]), selected=str(column))
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    assert colours(page) == expected_colours(tr, "cell", 0, cells[row])
    page.locator(f".hm[data-chosen='{cells[row]}']").wait_for(state="attached")


RUNNING_ANIMATIONS = "() => document.getAnimations().filter(a => a.playState === 'running').length"


def test_a_page_waiting_for_its_trace_is_still_and_says_so(page, app_url):
    """Nothing is animated while the server traces (every animated frame is CPU the browser takes,
    which in a class on one machine the server shares: ui/assets/still.css); the spinner's words show."""
    open_app(page, app_url, FIRST_CELL)
    set_text(page, " ".join(f"word {i}," for i in range(1300))[:9_000])  # a new text: traced now, for a while
    page.get_by_text("Running the model over the text").wait_for(timeout=60_000)
    assert page.evaluate(RUNNING_ANIMATIONS) == 0
    wait_idle(page, timeout=120_000)
    assert page.evaluate(RUNNING_ANIMATIONS) == 0
