"""Every control does what it says: a click anywhere on a table row picks its cell; Back and Forward
step through the page's choices; a model switch loads that model's example and suggested cell (or
keeps your own text and says so); the Intervene tab opens on an edit that changes what the model
writes, or says why an edit does not."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.find import finder
from tests.conftest import APP
from ui.session import history, state
from ui.session.examples import EXAMPLES
from ui.views import finder_view
from ui.widgets import cell_table

OWN = 'He looked up. "Is it late?" she asked.\nIt was.\n'


def run(query: dict | None = None, **session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update(query or {})
    at.run()
    for key, value in session.items():
        at.session_state[key] = value
    if session:
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chosen(at: AppTest) -> tuple[int, int]:
    return at.session_state["layer"], at.session_state["cell"]


# a click on a row


def test_a_click_on_any_cell_of_a_row_picks_that_rows_cell(monkeypatch):
    table = pd.DataFrame({"layer": [1, 0, 1], "cell": [429, 7, 12]})
    session = {"t": SimpleNamespace(selection=SimpleNamespace(rows=[], columns=[], cells=[(2, "match")])), "jump": 0}
    monkeypatch.setattr(cell_table, "st", SimpleNamespace(session_state=session))
    cell_table.pick_row("t", table)
    assert (session["layer"], session["cell"], session["jump"]) == (1, 12, 1)


@pytest.mark.slow
def test_the_ranking_is_a_new_table_for_every_chosen_cell_so_a_second_click_on_a_row_counts():
    at = run({"layer": "2", "cell": "430"}, panel="Find cells")
    keys = {d.proto.id for d in at.dataframe}
    assert any(cell_table.widget_key(finder_view.TABLE_KEY, 1, 430) in k for k in keys)
    at.session_state["cell"] = 429  # another cell, chosen anywhere
    rerun(at)
    assert any(cell_table.widget_key(finder_view.TABLE_KEY, 1, 429) in d.proto.id for d in at.dataframe)


# Back and Forward


@pytest.mark.slow
def test_back_and_forward_show_the_cell_of_the_link_the_browser_went_to(monkeypatch):
    at = run({"layer": "2", "cell": "429"})
    links = []
    for cell in (430, 431):  # two "Next cell" clicks: the text view reports each cell
        at.session_state["cell"] = cell
        rerun(at)
        links.append(at.query_params.to_dict() if hasattr(at.query_params, "to_dict") else dict(at.query_params))
    assert at.query_params["cell"] == "431"
    monkeypatch.setattr(history, "navigated", lambda: True)  # the browser's Back: a rerun with the older link
    jump = at.session_state["jump"]
    at.query_params.clear()
    at.query_params.update(links[0])
    rerun(at)
    assert chosen(at) == (1, 430) and at.session_state["jump"] == jump + 1  # the text view moves too
    assert at.query_params["cell"] == "430"
    at.query_params.clear()
    at.query_params.update(links[1])  # Forward
    rerun(at)
    assert chosen(at) == (1, 431)


@pytest.mark.slow
def test_without_back_or_forward_the_page_writes_its_choices_into_the_link():
    at = run({"layer": "2", "cell": "429"})
    at.session_state["cell"] = 5
    rerun(at)
    assert at.query_params["cell"] == "5"  # the page's choice wins over the link it was run with


def test_following_a_link_changes_the_model_text_and_cell_it_names():
    session = {"layer": 1, "cell": 431, "jump": 4, "model": "warpeace", "example": "custom", "text": OWN}
    link = {"model": "linux", "layer": "1", "cell": "425", "example": "c", "pos": "3"}
    state.follow_link(session, link, ["warpeace", "linux"], lambda name: "lstm")
    assert (session["model"], session["example"], session["text"]) == ("linux", "c", EXAMPLES["c"].text)
    assert (session["layer"], session["cell"], session["pos"], session["jump"]) == (0, 425, 3, 5)


def test_a_linked_signal_the_models_kind_lacks_is_ignored_with_a_note_naming_the_kinds_own():
    kinds = {"warpeace": "lstm", "warpeace-gru": "gru", "warpeace-rnn": "rnn"}
    chosen, notes = state.from_query({"model": "warpeace-gru", "signal": "forget"}, list(kinds), kinds.get)
    assert chosen["signal"] == "cell"
    assert notes == ["Ignored `signal='forget'` from the link: choose one of cell, reset, update."]
    chosen, notes = state.from_query({"model": "warpeace-rnn", "signal": "update"}, list(kinds), kinds.get)
    assert chosen["signal"] == "cell" and notes[-1].endswith("choose one of cell.")
    chosen, notes = state.from_query({"model": "warpeace-gru", "signal": "update"}, list(kinds), kinds.get)
    assert chosen["signal"] == "update" and notes == []


# a model switch


@pytest.mark.slow
def test_switching_the_model_loads_its_example_and_the_cell_it_suggests_there():
    at = run()
    assert (at.session_state["example"], chosen(at)) == ("dialogue", (1, 429))
    at.selectbox(key="model").set_value("linux")
    rerun(at)
    assert at.session_state["example"] == "c" and at.text_area(key="text").value == EXAMPLES["c"].text
    best = finder.find_cells(
        lstm_viz.load("linux").trace(lstm_viz.normalise(EXAMPLES["c"].text)), "bracket_depth", top=1
    )
    assert chosen(at) == (int(best.layer[0]), int(best.cell[0])) == (0, 425)
    (marked,) = [b for b in at.button if b.proto.type == "primary" and " follows " in b.label]
    assert marked.label.startswith("layer 1 cell 425 follows bracket depth, match ")


@pytest.mark.slow
def test_switching_the_model_keeps_your_own_text_and_says_so_in_one_line():
    at = run()
    at.text_area(key="text").set_value(OWN)
    rerun(at)
    at.selectbox(key="model").set_value("linux")
    rerun(at)
    assert at.text_area(key="text").value == OWN and at.session_state["example"] == "custom"
    (note,) = [w.value for w in at.warning if "own text" in w.value]
    assert note.startswith("Kept your own text for linux") and "\n" not in note


# the Intervene tab's first edit


@pytest.mark.slow
@pytest.mark.parametrize("model", ["warpeace", "linux"])
def test_the_intervene_tab_opens_on_an_edit_that_changes_the_continuation(model):
    at = run({"model": model}, panel="Intervene")
    plain, changed = (c.value for c in at.code)
    assert plain != changed
    assert at.radio(key="iv_cells").value == "top" and at.radio(key="iv_preset").value == "high"
    assert not [i for i in at.info if "is the same with and without" in i.value]


@pytest.mark.slow
def test_an_edit_that_leaves_the_continuation_as_it_was_says_why_in_one_line():
    at = run({"layer": "2", "cell": "429"}, panel="Intervene", iv_cells="current", iv_preset="low")
    plain, changed = (c.value for c in at.code)
    assert plain == changed  # the quote cell is already low where the dialogue ends
    (why,) = [i.value for i in at.info if "is the same with and without" in i.value]
    assert "layer 2 cell 429 is already low" in why and "\n" not in why
