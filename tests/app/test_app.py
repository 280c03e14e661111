"""The page logic of app.py, run headless with Streamlit's AppTest, and the ui/ helpers.

These use the shipped models in pretrained/ (warpeace and linux). Clicks inside the
coloured text cannot be made here; the selected position is set through session state,
and tests/browser/ clicks for real.
"""

from __future__ import annotations

import gc
import io
import json
import math
import subprocess
import sys
import weakref
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.find import finder
from lstm_viz.views import colour, glyphs
from ui.backend import cache, own_model, runlog
from ui.components import component, payload
from ui.session import state, texts
from ui.session.examples import CUSTOM, EXAMPLES
from ui.views import cells_view
from ui.widgets import downloads

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
FIRST_CELL = {"layer": "1", "cell": "0"}  # a link naming a cell gets no suggested one


@pytest.fixture(scope="module")
def models():
    names = lstm_viz.available()
    assert "warpeace" in names and "linux" in names, f"shipped models missing from pretrained/: {names}"
    return {name: lstm_viz.load(name) for name in ("warpeace", "linux")}


def run(query: dict | None = None, **session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
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


def view(at: AppTest) -> dict:
    """What the coloured text was given in the last run: "text", the layer part's header; "cell", the
    view's own data; "blob", the layer part's bytes."""
    (layer,) = [e for e in at.get("bidi_component") if e.proto.component_name == "lstm_viz_layer"]
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "lstm_viz_text"]
    header, _ = payload.unblob(layer.proto.bytes)
    return {"text": header, "cell": json.loads(element.proto.json), "blob": layer.proto.bytes}


def component_data(at: AppTest, name: str) -> dict:
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == name]
    return json.loads(element.proto.json)


def strip(at: AppTest) -> dict:
    return component_data(at, "lstm_viz_strip")


def heatmap(at: AppTest) -> dict:
    return component_data(at, "lstm_viz_heatmap")


def next_char(at: AppTest) -> dict:
    (panel,) = [
        e
        for e in at.get("bidi_component")
        if e.proto.component_name == "lstm_viz_bars" and json.loads(e.proto.json)["kind"] == "next"
    ]
    return json.loads(panel.proto.json)


def shown_values(at: AppTest, name: str = "cell") -> np.ndarray:
    """The exact values of the cell the server knows, as the hover card gets them."""
    return payload.unpack(view(at)["cell"]["card"]["values"][name], "<f4")


def text_area(at: AppTest):
    return at.text_area(key="text")


# --- the page -----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_run_log_has_a_line_per_run_with_the_text_shown_when_asked_for(tmp_path, monkeypatch):
    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv(runlog.ENV, str(log))
    at = run()
    at.text_area(key="text").set_value("Hello there.").run()
    first, second = (json.loads(line) for line in log.read_text().splitlines())
    assert first["finished"] and second["finished"] and first["session"] == second["session"]
    assert second["key"] == payload.text_key("warpeace", "Hello there.") != first["key"]
    assert first["start"] <= first["end"] <= second["start"] <= second["end"]
    assert {"requests", "batches"} <= set(second["service"])


@pytest.mark.slow
def test_no_run_log_is_written_unless_asked_for(tmp_path, monkeypatch):
    monkeypatch.delenv(runlog.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    run()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_first_visit_shows_war_and_peace_with_the_dialogue_coloured_by_its_quote_cell(models):
    at = run()
    assert at.selectbox(key="model").value == "warpeace"
    assert text_area(at).value == EXAMPLES["dialogue"].text
    data = view(at)
    assert data["text"]["text"] == EXAMPLES["dialogue"].text
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    best = finder.find_cells(tr, "quotes", top=1).iloc[0]
    layer, cell = int(best["layer"]), int(best["cell"])
    assert (data["cell"]["layer"], data["cell"]["cell"], data["cell"]["signal"]) == (layer, cell, "cell")
    np.testing.assert_array_equal(shown_values(at), tr.cell[layer, :, cell])
    assert marked(at) == [f"layer {layer + 1} cell {cell} follows quotes"]
    assert (at.query_params["layer"], at.query_params["cell"]) == (str(layer + 1), str(cell))
    assert not at.error and not at.warning


def marked(at) -> list[str]:
    """The best cells' buttons marked as the cell shown, up to their match."""
    return [b.label.split(",")[0] for b in at.button if b.proto.type == "primary" and " follows " in b.label]


@pytest.mark.slow
def test_the_suggested_cell_is_named_once_and_unmarked_once_another_cell_is_shown():
    at = run()
    assert not [c for c in at.caption if c.value.startswith("Suggested")]  # one list: the best cells' row
    assert len([b for b in at.button if " follows quotes, " in b.label]) == 1
    at.session_state["cell"] = (at.session_state["cell"] + 1) % 512  # the view's Next cell, synced
    rerun(at)
    assert marked(at) == []


@pytest.mark.slow
def test_the_view_carries_every_signal_of_the_chosen_cell(models):
    at = run({"layer": "2", "cell": "17"})
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    np.testing.assert_array_equal(shown_values(at, "cell"), tr.cell[1, :, 17])
    np.testing.assert_array_equal(shown_values(at, "hidden"), tr.hidden[1, :, 17])
    for gate in ("input", "forget", "output"):
        np.testing.assert_allclose(shown_values(at, gate), tr.gate(gate, 1)[:, 17], atol=2e-6)


@pytest.mark.slow
def test_the_view_carries_each_positions_top_five_next_characters(models):
    data = view(run())["text"]
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    _, sections = payload.unblob(view(run())["blob"])
    ids = np.frombuffer(sections["top_ids"], "<u2").reshape(-1, 5)
    probs = np.frombuffer(sections["top_probs"], "<u2").reshape(-1, 5) / 65535
    for t in (0, 17, len(tr.text) - 1):
        got = [(data["alphabet"][i], p) for i, p in zip(ids[t], probs[t])]
        for (char, p), (want_char, want_p) in zip(got, tr.top_k(t)):
            assert char == want_char and p == pytest.approx(want_p, abs=1 / 65535)


@pytest.mark.slow
def test_the_view_gets_every_cell_of_the_layer_one_byte_per_value_within_half_a_step(models):
    at = run({"layer": "2", "cell": "3"})
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    data = view(at)
    assert (data["text"]["layer"], data["text"]["signal"], data["text"]["cells"]) == (1, "cell", 512)
    shown = payload.layer_values(data["blob"])  # (H, T)
    exact = tr.cell[1].T
    span = exact.max(axis=1) - exact.min(axis=1)
    assert np.all(np.abs(shown - exact) <= span[:, None] / 510 + 1e-6)


@pytest.mark.slow
def test_one_layer_of_a_ten_thousand_character_text_is_sent_in_at_most_six_megabytes(models):
    text = (EXAMPLES["long"].text * 40)[: state.LIMIT]
    for signal in ("cell", "forget"):
        blob = payload.layer_part(models["warpeace"].trace(text), "warpeace", 0, signal)
        assert len(blob) <= 6_000_000, len(blob)


@pytest.mark.slow
def test_a_switch_made_in_the_view_is_followed_by_the_page_without_moving_the_view(models):
    at = run(FIRST_CELL)
    jump = view(at)["cell"]["jump"]
    blob = view(at)["blob"]
    at.session_state["cell"] = 7  # what the view's "cell" trigger does (controls.cell_from_view)
    rerun(at)
    data = view(at)
    assert data["cell"]["cell"] == 7 and data["cell"]["jump"] == jump  # the view is not told to move
    assert data["blob"] is blob or data["blob"] == blob  # the layer part is the same message again
    assert at.number_input(key="cell").value == 7 and at.query_params["cell"] == "7"
    assert [b.proto.label for b in at.get("download_button")][0] == "Cell 7 as CSV"
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    np.testing.assert_array_equal(shown_values(at, "hidden"), tr.hidden[0, :, 7])  # the card's exact values


@pytest.mark.slow
def test_what_does_not_depend_on_the_cell_is_sent_unchanged_when_the_cell_changes():
    def independent(at):
        return [
            e.proto.SerializeToString()
            for e in at.get("bidi_component")
            if e.proto.component_name in ("lstm_viz_layer", "lstm_viz_bars", "lstm_viz_strip")
        ]

    at = run(FIRST_CELL, pos=30)
    before = independent(at)
    assert len(before) == 3  # the layer part, and in the Predictions tab the next-character panel and the strip
    at.session_state["cell"] = 8
    rerun(at)
    assert independent(at) == before  # identical messages: Streamlit sends them by hash, the views skip them


def test_clicking_a_bar_of_the_all_cells_chart_is_a_server_side_move(monkeypatch):
    session = {**state.DEFAULTS, "jump": 2}
    monkeypatch.setattr(cells_view, "st", SimpleNamespace(session_state=session))
    monkeypatch.setattr(cells_view.component, "picked_bar", lambda: 300)
    cells_view.pick_bar()
    assert session["cell"] == 300 and session["jump"] == 3


@pytest.mark.slow
def test_a_cell_chosen_on_the_server_side_makes_the_view_jump():
    at = run(FIRST_CELL)
    jump = view(at)["cell"]["jump"]
    at.number_input(key="cell").set_value(42)
    rerun(at)
    assert view(at)["cell"]["cell"] == 42 and view(at)["cell"]["jump"] == jump + 1


def test_follow_view_and_move_cell():
    session = dict(state.DEFAULTS)
    state.follow_view(session, 9)
    assert session["cell"] == 9 and session["jump"] == 0
    state.move_cell(session, 4, layer=1)
    assert (session["layer"], session["cell"], session["jump"]) == (1, 4, 1)


@pytest.mark.slow
def test_typing_a_cell_number_shows_that_cell_and_puts_it_in_the_url(models):
    at = run(FIRST_CELL)
    at.number_input(key="cell").set_value(42)
    rerun(at)
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    np.testing.assert_array_equal(shown_values(at), tr.cell[0, :, 42])
    assert at.query_params["cell"] == "42" and at.query_params["layer"] == "1"


@pytest.mark.slow
def test_switching_cell_layer_or_signal_never_runs_the_model_again(model_runs):
    calls = model_runs
    text = "A text no other test traces: 'switching cells is free.'"
    at = run(text=text)
    assert calls.count(text) == 1
    at.number_input(key="cell").set_value(9)
    rerun(at)
    at.selectbox(key="layer").set_value(1)
    rerun(at)
    at.radio(key="signal").set_value("forget")
    rerun(at)
    at.session_state["cell"] = 10  # the view's Next cell, synced
    rerun(at)
    cell = view(at)["cell"]
    assert (cell["layer"], cell["cell"], cell["signal"]) == (1, 10, "forget")
    assert calls.count(text) == 1


@pytest.mark.slow
def test_text_over_the_limit_is_refused_with_the_limit_and_kept_in_the_box():
    at = run()
    too_long = "x" * (state.LIMIT + 1)
    text_area(at).set_value(too_long)
    rerun(at)
    (error,) = at.error
    assert "10,000" in error.value and "10,001" in error.value
    assert text_area(at).value == too_long
    assert view(at)["text"]["text"] == EXAMPLES["dialogue"].text  # the last text within the limit stays shown


def test_the_limit_counts_characters_after_line_ending_normalisation():
    assert state.text_problem("a" * state.LIMIT) is None
    assert state.text_problem("a\r\n" * (state.LIMIT // 2)) is None
    assert "10,000" in state.text_problem("a" * (state.LIMIT + 1))


@pytest.mark.slow
def test_an_empty_text_asks_for_text_instead_of_failing():
    at = run()
    text_area(at).set_value("")
    rerun(at)
    assert any("Type or paste" in i.value for i in at.info)
    assert not at.get("bidi_component")


@pytest.mark.slow
def test_picking_an_example_loads_its_text_shows_its_best_cell_and_names_it_in_the_url(models):
    at = run({"model": "linux"})
    at.selectbox(key="example").set_value("long")
    rerun(at)
    text = EXAMPLES["long"].text
    assert text_area(at).value == text and view(at)["text"]["text"] == text
    best = finder.find_cells(models["linux"].trace(text), "line_position", top=1).iloc[0]
    assert (view(at)["cell"]["layer"], view(at)["cell"]["cell"]) == (int(best["layer"]), int(best["cell"]))
    assert marked(at) == [f"layer {int(best['layer']) + 1} cell {int(best['cell'])} follows line position"]
    assert at.query_params["example"] == "long"


@pytest.mark.slow
def test_editing_the_text_makes_it_your_own_named_in_the_url_by_its_id():
    at = run()
    text_area(at).set_value("My own words.")
    rerun(at)
    assert at.selectbox(key="example").value == CUSTOM
    assert "example" not in at.query_params and at.query_params["text"] == texts.key("My own words.")
    assert view(at)["text"]["text"] == "My own words."


@pytest.mark.slow
def test_a_link_to_your_own_text_reopens_it_with_its_cell_in_a_new_session():
    text = 'Her own text, pasted:\n"Is it kept?" (she asked).' * 20
    at = run(FIRST_CELL)
    text_area(at).set_value(text)
    rerun(at)
    at.number_input(key="cell").set_value(42)
    rerun(at)
    link = dict(at.query_params)
    again = run(link)  # another replica, or another person with the link
    assert text_area(again).value == text and view(again)["text"]["text"] == text
    assert again.selectbox(key="example").value == CUSTOM
    assert (view(again)["cell"]["layer"], view(again)["cell"]["cell"]) == (0, 42)
    assert dict(again.query_params) == link and not again.warning


def test_a_link_to_a_text_this_server_does_not_keep_opens_the_example_with_a_note():
    at = run({**FIRST_CELL, "text": "0" * 24})
    assert [w.value for w in at.warning] == [
        "Ignored `text='000000000000000000000000'` from the link: this server keeps no such text (any more)."
    ]
    assert text_area(at).value == EXAMPLES["dialogue"].text and "text" not in at.query_params


def test_a_shared_url_reopens_model_layer_cell_signal_example_and_position(models):
    at = run({"model": "linux", "layer": "2", "cell": "7", "signal": "output", "example": "c", "pos": "12"})
    assert at.selectbox(key="model").value == "linux"
    assert at.selectbox(key="layer").value == 1 and at.number_input(key="cell").value == 7
    assert at.radio(key="signal").value == "output"
    assert text_area(at).value == EXAMPLES["c"].text
    cell = view(at)["cell"]
    assert (cell["layer"], cell["cell"], cell["signal"], cell["selected"]) == (1, 7, "output", 12)
    tr = models["linux"].trace(EXAMPLES["c"].text)
    np.testing.assert_array_equal(shown_values(at), tr.cell[1, :, 7])
    assert at.query_params == {
        "model": "linux",
        "layer": "2",
        "cell": "7",
        "signal": "output",
        "example": "c",
        "pos": "12",
    }


def test_a_model_without_an_example_in_the_url_opens_on_its_own_kind_of_text():
    at = run({"model": "linux"})
    assert text_area(at).value == EXAMPLES["c"].text


def test_bad_values_in_a_url_are_ignored_with_one_line_each(models):
    at = run({"model": "nope", "layer": "9", "cell": "abc", "example": "poem", "signal": "gamma"})
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 5 and all("\n" not in w for w in warnings)
    assert any("model='nope'" in w for w in warnings) and any("Layer 9" in w for w in warnings)
    assert any("cell='abc'" in w for w in warnings)
    assert at.selectbox(key="model").value == "warpeace" and view(at)["cell"]["layer"] == 0


@pytest.mark.slow
def test_notes_about_a_link_stay_through_reruns_until_a_choice_changes():
    at = run({"model": "nope", "cell": "4"})
    for _ in range(2):  # the browser's own reruns, with nothing changed
        assert [w.value for w in at.warning if "model='nope'" in w.value]
        rerun(at)
    at.number_input(key="cell").set_value(5)
    rerun(at)
    assert not at.warning


def test_every_session_key_has_one_declared_default():
    at = run()
    events = ("text_view", "layer_data", "strip_view", "heatmap_view", "next_char", "cells_bars")  # the views' clicks
    no_default = {own_model.KEY}  # a file uploader's value cannot be set, so it has no default
    keys = at.session_state.keys()
    undeclared = {k for k in keys if not k.startswith(events)} - no_default
    assert undeclared <= set(state.DEFAULTS), undeclared - set(state.DEFAULTS)


@pytest.mark.slow
def test_the_selected_position_drives_the_next_character_panel_and_the_strip(models):
    at = run(pos=12)
    text = EXAMPLES["dialogue"].text
    tr = models["warpeace"].trace(text)
    assert view(at)["cell"]["selected"] == 12
    panel = next_char(at)
    assert "position 12" in panel["title"]
    assert [r["label"] for r in panel["rows"][:5]] == [glyphs.label(c) for c, _ in tr.top_k(12)]
    marked = [r for r in panel["rows"] if r["actual"]]
    assert len(marked) == 1 and marked[0]["label"].startswith(glyphs.label(text[13]))
    data = strip(at)
    assert data["selected"] == 12 and 12 in [c["t"] for c in data["cols"]]
    assert at.query_params["pos"] == "12"


@pytest.mark.slow
def test_a_position_past_the_end_of_a_shorter_text_moves_to_its_last_character():
    at = run(pos=400)
    text_area(at).set_value("Short.")
    rerun(at)
    assert view(at)["cell"]["selected"] == 5
    assert "nothing came after" in next_char(at)["note"]


@pytest.mark.slow
def test_characters_outside_the_alphabet_are_marked():
    at = run(text="snow \u2603 and \u65e5")
    data = view(at)["text"]
    assert data["unknown"] == [5, 11]
    assert any("2 characters are outside" in c.value for c in at.caption)


@pytest.mark.slow
def test_user_text_reaches_the_page_as_data_and_charts_as_escaped_text():
    text = '<b>bold</b> & <img src=x onerror="alert(1)">'
    at = run(text=text, pos=0)
    assert view(at)["text"]["text"] == text
    assert next_char(at)["title"].endswith("(<)")  # data, set as text in the page
    at.session_state["panel"] = "All cells"
    rerun(at)
    assert "".join(heatmap(at)["labels"]).startswith("<b>bold</b>\u2423&")  # drawn on a canvas as text


@pytest.mark.slow
def test_any_signal_can_colour_the_text_and_gates_use_the_zero_to_one_legend():
    at = run()
    at.radio(key="signal").set_value("input")
    rerun(at)
    cell = view(at)["cell"]
    assert cell["signal"] == "input" and cell["gate"] is True
    assert at.query_params["signal"] == "input"
    at.radio(key="signal").set_value("hidden")
    rerun(at)
    assert view(at)["cell"]["gate"] is False


@pytest.mark.slow
def test_the_heatmap_shows_the_most_variable_cells_around_the_selected_position(models):
    at = run(FIRST_CELL, pos=100, panel="All cells")
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    data = heatmap(at)
    rows = np.argsort(-tr.cell[0].std(axis=0), kind="stable")[:32].tolist()
    assert data["cells"] == rows and data["chosen"] == 0 and data["selected"] == 100
    assert data["start"] == 100 - 30 and len(data["labels"]) == 120
    values = payload.unpack(data["values"], "<f4").reshape(32, 120)
    np.testing.assert_array_equal(values, tr.cell[0, 70:190][:, rows].T)


@pytest.mark.slow
def test_the_heatmap_can_order_cells_by_strength_at_the_selected_position(models):
    at = run(FIRST_CELL, pos=10, panel="All cells")
    at.selectbox(key="heatmap_order").set_value("strength")
    rerun(at)
    tr = models["warpeace"].trace(EXAMPLES["dialogue"].text)
    assert heatmap(at)["cells"] == np.argsort(-np.abs(tr.cell[0, 10]), kind="stable")[:32].tolist()


@pytest.mark.slow
def test_the_heatmap_takes_a_typed_order_and_says_what_it_ignored():
    at = run(panel="All cells")
    at.selectbox(key="heatmap_order").set_value("custom")
    rerun(at)
    at.text_input(key="heatmap_custom").set_value("5, 2 99999 x, 5")
    rerun(at)
    assert heatmap(at)["cells"] == [5, 2]
    (warning,) = at.warning
    assert "x" in warning.value and "99999" in warning.value


@pytest.mark.slow
def test_a_broken_model_folder_is_one_error_line_and_the_others_still_work(tmp_path, monkeypatch):
    (tmp_path / "warpeace").symlink_to(lstm_viz.io.checkpoint.resolve("warpeace"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "card.json").write_text('{"format": "lstm-viz/1", "config": {}, "alphabet": []}')
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    monkeypatch.setattr(lstm_viz.io.checkpoint, "PRETRAINED", tmp_path)
    at = run({"cell": "5"})
    text_area(at).set_value(EXAMPLES["dialogue"].text + "!")
    at.selectbox(key="model").set_value("broken")
    rerun(at)
    (error,) = at.error
    assert error.value.startswith("Cannot load model 'broken'") and "\n" not in error.value
    assert text_area(at).value == EXAMPLES["dialogue"].text + "!"
    assert at.number_input(key="cell").value == 5 and at.number_input(key="cell").disabled
    at.selectbox(key="model").set_value("warpeace")
    rerun(at)
    assert not at.error and view(at)["text"]["text"] == EXAMPLES["dialogue"].text + "!"
    assert view(at)["cell"]["cell"] == 5


@pytest.mark.slow
def test_switching_to_a_smaller_model_keeps_layer_and_cell_in_range(tmp_path, monkeypatch, models):
    small = lstm_viz.CharLSTM(
        lstm_viz.Config(vocab_size=len(models["warpeace"].vocab), layers=1, hidden=8, embed=4), models["warpeace"].vocab
    )
    lstm_viz.save(small, tmp_path / "tiny", {"corpus": {"name": "nothing"}})
    (tmp_path / "warpeace").symlink_to(lstm_viz.io.checkpoint.resolve("warpeace"))
    monkeypatch.setattr(lstm_viz.io.checkpoint, "PRETRAINED", tmp_path)
    at = run({"layer": "2", "cell": str(models["warpeace"].config.hidden - 1)})
    at.text_area(key="text").set_value("Your own text: a switch keeps it, and the cell.")
    rerun(at)
    at.selectbox(key="model").set_value("tiny")
    rerun(at)
    cell = view(at)["cell"]
    assert (cell["layer"], cell["cell"]) == (0, 0)
    assert len([w for w in at.warning if "does not exist in this model" in w.value]) == 2


def test_downloads_are_offered_for_the_chosen_cell_and_the_whole_trace():
    at = run({"cell": "3"})
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Cell 3 as CSV", "All cells as NPZ", "Coloured text as SVG", "Coloured text as PNG"]


def test_a_download_built_when_clicked_holds_no_trace_and_traces_again_one_the_cache_dropped(models):
    text = "A text whose trace a download must not keep alive."
    tr = models["warpeace"].trace(text)
    source = cache.trace_source("warpeace", tr)
    csv = downloads.later(downloads.cell_csv, source, 1, 5)
    assert source() is tr
    held = weakref.ref(tr)
    del tr
    gc.collect()
    assert held() is None  # nothing but the page run held it
    again = source()
    np.testing.assert_allclose(again.cell, models["warpeace"].trace(text).cell, atol=1e-5)
    assert csv().decode().splitlines()[0].startswith("position,char,unknown,tanh_c")


# --- the helpers behind it ---------------------------------------------------------------


def test_colour_scale_runs_red_through_white_to_blue():
    assert colour.rgb(-1) == (255, 0, 0)
    assert colour.rgb(0) == (255, 255, 255)
    assert colour.rgb(1) == (0, 0, 255)
    assert colour.rgb(0.5) == (128, 128, 255) and colour.rgb(-0.5) == (255, 128, 128)
    assert colour.rgb(7) == colour.rgb(1) and colour.rgb(math.nan) == (255, 255, 255)
    assert colour.css(-1) == "rgb(255, 0, 0)"


def test_the_browsers_recipe_for_the_scale_gives_the_same_colours_as_the_library():
    scale = colour.scale()  # what every view's script is given (component.SHARED), and how common.js uses it
    assert component.SHARED["scale"] == scale and component.SHARED["glyphs"] == glyphs.NAMES
    assert component.SHARED["top"] == payload.TOP
    for v in np.linspace(-1.2, 1.2, 1001):
        k = math.floor(scale["levels"] * (1 - min(1.0, abs(v))) + 0.5)
        end = scale["low"] if v < 0 else scale["high"]
        browser = tuple(round(e + (z - e) * k / scale["levels"]) for e, z in zip(end, scale["zero"]))
        assert browser == colour.rgb(v), v


def test_whitespace_and_control_characters_get_visible_labels():
    assert [glyphs.label(c) for c in " \n\ta\x00"] == ["\u2423", "\u21b5", "\u21e5", "a", "U+0000"]
    assert glyphs.plotly_label("<") == "&lt;" and glyphs.plotly_label("&") == "&amp;"


def test_packed_arrays_come_back_unchanged():
    a = np.array([-1.0, 0.25, np.float32(1 / 3)], dtype=np.float32)
    np.testing.assert_array_equal(payload.unpack(payload.pack(a, "<f4"), "<f4"), a)


def test_strip_columns_mark_the_guess_that_was_right(models):
    text = "the the the the the"
    tr = models["warpeace"].trace(text)
    data = payload.strip_part(tr, selected=4, before=2, after=3)
    assert [c["t"] for c in data["cols"]] == [2, 3, 4, 5, 6, 7]
    for col in data["cols"]:
        guesses = [g for g, _ in col["top"]]
        right = glyphs.label(text[col["t"] + 1])
        assert col["hit"] == (guesses.index(right) if right in guesses else -1)


def test_cell_csv_has_one_row_per_character_with_the_cells_signals(models):
    import pandas as pd

    text = 'He said, "yes."\n'
    tr = models["warpeace"].trace(text)
    frame = pd.read_csv(io.BytesIO(downloads.cell_csv(tr, 1, 5)), keep_default_na=False)
    assert list(frame["char"]) == list(text)
    np.testing.assert_allclose(frame["tanh_c"], tr.cell[1, :, 5], atol=1e-5)
    np.testing.assert_allclose(frame["forget_gate"], tr.gate("forget", 1)[:, 5], atol=1e-5)


def test_trace_npz_holds_every_cell_and_loads_without_pickle(models):
    tr = models["warpeace"].trace("Anna Pavlovna\x00")
    with np.load(io.BytesIO(downloads.trace_npz(tr)), allow_pickle=False) as npz:
        assert "".join(map(chr, npz["text"])) == "Anna Pavlovna\x00"  # a trailing NUL survives
        assert "".join(map(chr, npz["alphabet"])) == "".join(tr.vocab.chars)
        np.testing.assert_array_equal(npz["cell"], tr.cell)
        np.testing.assert_array_equal(npz["log_probs"], tr.log_probs)


@pytest.mark.slow
def test_the_library_never_imports_streamlit():
    code = (
        "import pkgutil, importlib, sys, lstm_viz\n"
        "for m in pkgutil.walk_packages(lstm_viz.__path__, 'lstm_viz.'):\n"
        "    if not m.name.rpartition('.')[2].startswith('__'): importlib.import_module(m.name)\n"
        "sys.exit('streamlit' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
