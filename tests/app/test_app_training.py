"""A model over its training in the app (AppTest): the main view's training slider, the cell page's curve
and the Analyses page's dynamics, for the shipped models with snapshots (the slider and the dynamics for
each of the comparison's LSTM, GRU and RNN); none of it for a model without."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lstm_viz.io.checkpoint import snapshots
from tests.conftest import APP
from ui.components import payload
from ui.session import cell_link
from ui.views import training_view
from ui.widgets import controls

WITH = "warpeace-lstm-2x128"  # shipped with its training's snapshots
COMPARED = ("warpeace-lstm-2x128", "warpeace-gru-2x128", "warpeace-rnn-2x128")  # every kind shipped with them
WITHOUT = "warpeace"
PRETRAINED = Path(APP).parent / "pretrained"


def run(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    if page:
        at.switch_page(page)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text_data(at: AppTest) -> dict:
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "lstm_viz_text"]
    return json.loads(element.proto.json)


@pytest.mark.slow
@pytest.mark.parametrize("model", COMPARED)
def test_the_main_view_sends_the_chosen_cell_at_every_snapshot_once_its_training_slider_asks(model):
    at = run(query={"model": model, "layer": "2", "cell": "50"})
    part = text_data(at)["training"]
    found = snapshots(model)
    assert part["values"] is None and part["samples"] is None  # no snapshot is loaded or traced until asked
    assert part["chars_seen"] == [s["chars_seen"] for s in found]
    at.session_state[controls.TRAINING] = True  # what the slider's first move sets (controls.want_training)
    at.run()
    data = text_data(at)
    part = data["training"]
    assert (part["layer"], part["cell"]) == (data["layer"], data["cell"]) == (1, 50)
    assert len(part["values"]) == len(part["samples"]) == len(part["val"]) == len(found) >= 12
    assert part["chars_seen"] == [s["chars_seen"] for s in found] and part["chars_seen"][0] == 0
    first, last = (payload.unpack(part["values"][k], "<f4") for k in (0, -1))
    assert len(first) == len(last) > 0
    assert abs(first - last).max() > 0.5  # training changed the cell's colours
    assert all(isinstance(s, str) and s for s in part["samples"])


def test_a_model_without_snapshots_gets_no_training_slider():
    assert text_data(run(query={"model": WITHOUT}))["training"] is None


@pytest.mark.slow
def test_the_cell_page_draws_the_cells_match_over_training():
    at = run(cell_link.PAGE, {"model": WITH, "cell": "2:50"})
    words = "\n".join(m.value for m in at.markdown)
    assert "**Over training**" in words
    captions = "\n".join(c.value for c in at.caption)
    assert "Its match reaches 0.5 at snapshot" in captions
    other = run(cell_link.PAGE, {"model": WITHOUT, "cell": "2:429"})
    assert "Over training" not in "\n".join(m.value for m in other.markdown)


@pytest.mark.slow
@pytest.mark.parametrize("model", COMPARED)
def test_the_analyses_page_shows_the_lecture_cells_emerging_and_the_ngram_dynamics(model):
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["current_model"] = model
    at.switch_page("pages/1_Analyses.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Over training" in [s.value for s in at.subheader]
    assert any("training dynamics" in m.value for m in at.markdown)


@pytest.mark.parametrize("model", COMPARED)
def test_the_dynamics_figure_plots_the_papers_two_measures_and_ours_against_every_order(model):
    record = json.loads((PRETRAINED / model / "dynamics.json").read_text())
    fig = training_view.dynamics_figure(record)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [title for _, title, _ in training_view.PANELS]
    assert [m for m, _, _ in training_view.PANELS] == ["kl", "gain", "overlap"]
    for col, (measure, _, _) in enumerate(training_view.PANELS):
        drawn = [t for t in fig.data if t.xaxis == ("x" if col == 0 else f"x{col + 1}")]
        assert [t.name for t in drawn] == [f"{n}-gram" for n in record["orders"]]
        for trace, n in zip(drawn, record["orders"]):
            assert list(trace.y) == [r[measure] for r in record["dynamics"] if r["order"] == n]
