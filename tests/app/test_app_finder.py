"""The "Find cells" section: cells ranked by their match with a hypothesis or a regex on your text, or
by their contrast around a span, and the chosen cell's label box from the explanation table."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.find import cellpage, finder
from lstm_viz.views import colour
from tests.conftest import APP
from ui.session.examples import EXAMPLES
from ui.views import finder_view
from ui.widgets import cell_table


def page(query: dict | None = None, **session) -> AppTest:
    """The app with the "Find cells" tab open (tabs below the text run only when open)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    for key, value in {"panel": "Find cells", **session}.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ranked(at: AppTest) -> pd.DataFrame:
    return at.dataframe[0].value


def details(at: AppTest) -> pd.DataFrame:
    """The ranking's figures behind its Details expander."""
    return at.dataframe[1].value


@pytest.mark.slow
def test_the_first_visit_ranks_cells_by_the_first_hypothesis():
    at = page()
    assert [t.label for t in at.tabs] == [
        "Predictions",
        "All cells",
        "Find cells",
        "Intervene",
        "Cell labels",
        "Cell map",
        "Compare kinds",
    ]
    assert at.selectbox(key="find_hypothesis").value == "quotes"
    text = lstm_viz.normalise(at.session_state["text"])
    best = finder.find_cells(lstm_viz.load("warpeace").trace(text), "quotes", top=1).iloc[0]
    top = ranked(at).iloc[0]
    assert (top["layer"], top["cell"]) == (best["layer"] + 1, best["cell"])  # layers are shown 1-based
    assert top["match"] == pytest.approx(best["match"])
    assert ranked(at).columns.tolist() == ["page", "layer", "cell", "match"]  # the figures behind it in Details
    behind = details(at)
    assert {"sign", "pearson", "auc"} <= set(behind.columns)
    assert behind.iloc[0]["pearson"] == pytest.approx(best["pearson"])


@pytest.mark.slow
def test_the_finder_starts_on_the_examples_own_hypothesis():
    at = page({"model": "linux"})
    assert at.session_state["example"] == "c"
    assert at.selectbox(key="find_hypothesis").value == "bracket_depth"
    at.selectbox(key="example").set_value("long").run()
    assert at.selectbox(key="find_hypothesis").value == "line_position"


def test_the_finder_runs_only_once_its_tab_is_open():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.dataframe and "Find cells that follow" not in [r.label for r in at.radio]


@pytest.mark.slow
def test_another_hypothesis_ranks_again():
    at = page(model="linux", text=EXAMPLES["c"].text)
    at.selectbox(key="find_hypothesis").set_value("bracket_depth").run()
    assert not at.exception
    assert "spearman" in details(at).columns  # a count's own figure
    assert len(ranked(at)) == 20


@pytest.mark.slow
def test_a_bad_regex_gets_one_line_and_keeps_the_page():
    at = page()
    at.radio(key="find_mode").set_value("regex").run()
    assert any("Type a regular expression" in i.value for i in at.info)
    at.text_input(key="find_regex").set_value("(unclosed").run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "regular expression" in w.value]
    assert "\n" not in warning and at.text_input(key="find_regex").value == "(unclosed"


@pytest.mark.slow
def test_a_regex_ranks_cells_by_its_matches():
    at = page()
    at.radio(key="find_mode").set_value("regex").run()
    at.text_input(key="find_regex").set_value(r'"[^"]*"').run()
    assert not at.exception and ranked(at).iloc[0]["match"] > 0.9


@pytest.mark.slow
def test_a_hypothesis_that_never_changes_is_explained():
    at = page(text="no quotes in this line at all")
    assert any("constant on this text" in w.value for w in at.warning)


@pytest.mark.slow
def test_a_marked_span_finds_cells_and_other_places():
    text = lstm_viz.normalise(EXAMPLES["dialogue"].text)
    start = text.index('"') + 1
    at = page()
    at.radio(key="find_mode").set_value("span").run()
    at.number_input(key="find_start").set_value(start).run()
    at.number_input(key="find_end").set_value(start + 8).run()
    assert not at.exception
    cells, matches = at.dataframe[0].value, at.dataframe[1].value
    assert list(cells.columns[:4]) == ["page", "layer", "cell", "contrast"] and len(cells) == 10
    assert {"start", "end", "text"} <= set(matches.columns)


@pytest.mark.slow
def test_a_span_that_ends_before_it_starts_is_refused():
    at = page()
    at.radio(key="find_mode").set_value("span").run()
    at.number_input(key="find_start").set_value(20).run()
    at.number_input(key="find_end").set_value(5).run()
    assert any("end must come after its start" in w.value for w in at.warning)


def test_clicking_a_row_of_a_cell_table_makes_it_the_chosen_cell(monkeypatch):
    table = pd.DataFrame({"layer": [1, 0], "cell": [429, 7]})
    state = {finder_view.TABLE_KEY: SimpleNamespace(selection=SimpleNamespace(rows=[1])), "jump": 3}
    monkeypatch.setattr(cell_table, "st", SimpleNamespace(session_state=state))
    cell_table.pick_row(finder_view.TABLE_KEY, table)
    assert (state["layer"], state["cell"]) == (0, 7)
    assert state["jump"] == 4  # the coloured text is told to jump to it


@pytest.mark.slow
def test_the_chosen_cell_shows_its_label_and_match_on_held_out_text_and_its_snippets_coloured():
    at = page(layer=1, cell=429)
    entry = cellpage.entry(cellpage.load("warpeace"), 1, 429)
    (box,) = [m for m in at.markdown if m.value.startswith("**Layer 2, cell 429:")]
    assert f"match {entry['score']:.2f} on held-out text" in box.value and "inside double quotes" in box.value
    assert "auc" not in box.value.lower() and "statistic" not in box.value
    snippets = sum(m.value.count('<div style="font-family:monospace') for m in at.markdown)
    assert snippets == len(entry["top"]) + len(entry["bottom"]) == 6
    assert any("rises with its label (sign +1)" in m.value for m in at.markdown)  # behind Details


def test_snippets_are_escaped_and_coloured_per_character():
    html = finder_view.snippet_html("<b>&", 1, [-100, 0, 100, 50])
    assert "<b>" not in html and "&lt;" in html and "&amp;" in html
    assert html.count("<span") == 4
    assert "rgb(255, 0, 0)" in html and "rgb(0, 0, 255)" in html and "outline" in html
    assert "background:rgb(0, 0, 255);color:#fff" in html and "background:rgb(255, 255, 255);color:#000" in html


def test_snippet_text_is_white_on_saturated_colours_and_black_on_pale_ones():
    assert colour.ink(1) == "#fff" and colour.ink(0.8) == "#fff"  # deep blue
    assert colour.ink(0) == "#000" and colour.ink(0.2) == "#000"  # white and pale blue
    assert colour.ink(-1) == "#fff" and colour.ink(-0.2) == "#000"  # deep red, pale red
    assert colour.ink(float("nan")) == "#000"  # white background


@pytest.mark.slow
def test_a_model_without_labels_says_how_to_build_them(tmp_path, monkeypatch):
    shutil.copytree(
        lstm_viz.io.checkpoint.resolve("warpeace"),
        tmp_path / "no-labels",  # a new name: nothing cached
        ignore=shutil.ignore_patterns("explain.json"),
    )
    monkeypatch.setattr(lstm_viz.io.checkpoint, "PRETRAINED", tmp_path)
    at = page()
    assert any("has no cell labels (explain.json)" in i.value for i in at.info)
