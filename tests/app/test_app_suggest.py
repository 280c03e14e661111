"""Suggestions for the text on the page: whatever the model and text, the page names the cell that
follows quotes, line position and bracket depth most closely on it (its match, measured live), says
so when the text has none of a thing, and a click on a suggestion makes that cell the chosen one."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.find import finder
from tests.conftest import APP

OWN = (
    'The rain had stopped. "Shall we go out?" she asked, and he said nothing for a while.\n'
    'Then: "Yes, let us go (if only to the gate)."\n'
    "They walked to the end of the lane and back, and nobody spoke.\n"
)
NO_QUOTES = "A plain line with no speech in it at all.\nAnd a second one, just as plain.\n"


def page(text: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.run()
    if text is not None:
        at.text_area(key="text").set_value(text).run()  # typed: the example becomes your own text
    assert not at.exception, [e.value for e in at.exception]
    return at


def top(text: str, hypothesis: str) -> tuple[int, int, float]:
    """(layer, cell, match) of the finder's best cell for `hypothesis` on `text`."""
    best = finder.find_cells(lstm_viz.load("warpeace").trace(lstm_viz.normalise(text)), hypothesis, top=1).iloc[0]
    return int(best["layer"]), int(best["cell"]), float(best["match"])


def suggestions(at: AppTest) -> dict[str, str]:
    """The suggestion buttons by hypothesis: "layer 2 cell 429 follows quotes, match 0.97"."""
    found = {}
    for b in at.button:
        for hypothesis in ("quotes", "line_position", "bracket_depth"):
            if f" follows {hypothesis.replace('_', ' ')}, match " in b.label:
                found[hypothesis] = b.label
    return found


def suggestion_button(at: AppTest, hypothesis: str):
    (button,) = [b for b in at.button if f" follows {hypothesis.replace('_', ' ')}, match " in b.label]
    return button


@pytest.mark.slow
def test_your_own_text_gets_the_cell_that_follows_its_quotes_best_with_its_match_on_your_text():
    at = page(OWN)
    assert at.session_state["example"] == "custom"
    layer, cell, match = top(OWN, "quotes")
    shown = suggestions(at)
    assert shown["quotes"] == f"layer {layer + 1} cell {cell} follows quotes, match {match:.2f}"
    assert set(shown) == {"quotes", "line_position", "bracket_depth"}
    assert any(c.value == "Best cells on your text:" for c in at.caption)


@pytest.mark.slow
def test_a_click_on_a_suggestion_makes_that_cell_the_chosen_cell():
    at = page(OWN, layer="1", cell="0")
    layer, cell, _ = top(OWN, "line_position")
    jump = at.session_state["jump"]
    suggestion_button(at, "line_position").click().run()
    assert not at.exception
    assert (at.session_state["layer"], at.session_state["cell"]) == (layer, cell)
    assert at.session_state["jump"] == jump + 1  # the coloured text is told to move there
    assert (at.query_params["layer"], at.query_params["cell"]) == (str(layer + 1), str(cell))


@pytest.mark.slow
def test_a_text_without_quotes_or_brackets_says_so_instead_of_naming_a_cell():
    at = page(NO_QUOTES)
    assert set(suggestions(at)) == {"line_position"}
    captions = [c.value for c in at.caption]
    assert "no quotes in your text" in captions and "no brackets in your text" in captions


@pytest.mark.slow
@pytest.mark.parametrize("model, example", [("warpeace", "dialogue"), ("linux", "c")])
def test_an_example_gets_its_suggestions_on_this_example(model, example):
    at = page(model=model)
    assert at.session_state["example"] == example
    assert any(c.value == "Best cells on this example:" for c in at.caption)
    text = lstm_viz.normalise(at.session_state["text"])
    found = finder.best_matches(lstm_viz.load(model).trace(text), ["quotes", "line_position", "bracket_depth"])
    for hypothesis, label in suggestions(at).items():
        assert label.startswith(f"layer {found[hypothesis]['layer'] + 1} cell {found[hypothesis]['cell']} follows")


@pytest.mark.slow
def test_an_example_shows_off_its_own_thing_in_the_same_row_and_its_cell_is_the_marked_one():
    at = page(model="linux", example="ifs")
    (marked,) = [b for b in at.button if b.proto.type == "primary" and " follows " in b.label]
    assert " follows if condition, match " in marked.label
    assert (at.session_state["layer"], at.session_state["cell"]) == tuple(
        int(n) - (i == 0) for i, n in enumerate(marked.label.split(" follows ")[0].split()[1::2])
    )
    assert not [c for c in at.caption if c.value.startswith("Suggested")]
