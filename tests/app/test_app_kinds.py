"""The app for every kind of model: tiny LSTM, GRU and vanilla RNN models trained on the same
(named) corpus, found through $LSTM_VIZ_MODELS, each shown with every tab, every signal it offers
and the Analyses page, with no exception; the Compare tab puts the three side by side, as it does the
shipped War and Peace LSTMs, GRU and RNN."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.find import finder
from lstm_viz.paper import ngram
from lstm_viz.serve.service import TraceService
from tests.conftest import APP, make_corpus, tiny
from ui import panels
from ui.session import signals

KINDS = ("lstm", "gru", "rnn")
TEXT = 'the cat sat. "yes," he said (quickly).\nand the dogs ran over [it] "to see".\n'
CORPUS = {"corpus": {"name": "tiny text", "sha256": "0" * 64}}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A models folder holding tiny-lstm, tiny-gru and tiny-rnn, all with the same corpus."""
    root = tmp_path_factory.mktemp("kinds")
    for kind in KINDS:
        model = tiny(kind)
        folder = lstm_viz.save(model, root / f"tiny-{kind}", CORPUS)
        ngram.train(lstm_viz.normalise(make_corpus(300)), model.vocab, order=5).save(folder / ngram.FILE)
    return root


@pytest.fixture
def kinds(folder, monkeypatch):
    monkeypatch.setenv("LSTM_VIZ_MODELS", str(folder))
    return folder


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def opened(kind: str, text: str = TEXT) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["model"] = f"tiny-{kind}"
    rerun(at)
    at.session_state["text"] = text
    at.session_state["example"] = "custom"
    return rerun(at)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_every_tab_and_every_signal_of_a_kind_draws_without_an_exception(kinds, kind):
    at = opened(kind)
    assert at.session_state["current_model"] == f"tiny-{kind}"
    (text,) = [e for e in at.get("bidi_component") if e.proto.component_name.endswith("lstm_viz_text")]
    data = json.loads(text.proto.json)
    assert data["signal_label"] == ("cell state tanh(c)" if kind == "lstm" else "memory h")
    assert data["card"]["rows"] == [list(row) for row in signals.offered(kind).items()]  # the hover card's rows
    assert list(at.radio(key="signal").options) == list(signals.offered(kind).values())
    for signal in signals.offered(kind):
        at.radio(key="signal").set_value(signal)
        rerun(at)
    for label in panels.PANELS:
        at.session_state["panel"] = label
        rerun(at)
    assert not at.error


def test_a_gru_offers_its_reset_and_update_gates_and_an_rnn_only_its_memory():
    assert list(signals.offered("gru")) == ["cell", "reset", "update"]
    assert list(signals.offered("rnn")) == ["cell"]
    assert signals.offered("rnn")["cell"] == "memory h"


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_colour_by_help_explains_the_signals_of_the_models_kind_only(kinds, kind):
    at = opened(kind)
    shown = at.radio(key="signal").help
    assert "one state h" in shown if kind != "lstm" else "forget gate f" in shown
    assert ("forget gate f" in shown) == (kind == "lstm") and ("reset gate r" in shown) == (kind == "gru")


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_analyses_page_draws_for_every_kind_and_says_where_an_analysis_has_no_meaning(kinds, kind):
    at = opened(kind, TEXT * 8)
    at.switch_page("pages/1_Analyses.py")
    rerun(at)
    notes = [i.value for i in at.info]
    assert at.metric[0].label == {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[kind] + " loss"
    charts = len(at.get("plotly_chart"))
    if kind == "rnn":  # no gate saturation: one line says why, the other figures stay
        assert "A vanilla RNN has no gates: gate saturation has no meaning for it" in notes
        assert charts >= 1
    else:
        assert not [n for n in notes if "no gates" in n] and charts >= 2


@pytest.mark.slow
def test_the_compare_tab_shows_one_row_per_kind_each_with_its_best_quote_cell_and_match(kinds):
    at = opened("lstm")
    at.session_state["panel"] = "Compare kinds"
    rerun(at)
    rows = [m.value for m in at.markdown if m.value.startswith("**tiny\\-")]
    assert [row.split("**")[1] for row in rows] == [r"tiny\-lstm", r"tiny\-gru", r"tiny\-rnn"]  # markdown-escaped
    text = lstm_viz.normalise(TEXT)
    for kind, row in zip(KINDS, rows):
        best = finder.best_matches(lstm_viz.load(f"tiny-{kind}").trace(text), ["quotes"])["quotes"]
        assert (
            f"layer {best['layer'] + 1} cell {best['cell']}, follows quotes with match **{best['match']:.2f}**" in row
        )
    assert not [c for c in at.caption if c.value.startswith("Only ")]
    views = [v for v in at.get("bidi_component") if v.proto.component_name.endswith("lstm_viz_text")]
    assert len(views) == 1 + len(KINDS)  # the page's own text, then one row per model


@pytest.mark.slow
def test_the_compare_tab_follows_the_hypothesis_picked(kinds):
    at = opened("gru")
    at.session_state["panel"] = "Compare kinds"
    rerun(at)
    at.selectbox(key="compare_hypothesis").set_value("bracket_depth")
    rerun(at)
    rows = [m.value for m in at.markdown if m.value.startswith("**tiny\\-")]
    assert len(rows) == 3 and all("follows bracket depth" in row for row in rows)


@pytest.mark.slow
def test_with_the_compare_tab_open_a_new_texts_other_models_are_asked_for_ahead_of_the_one_shown(kinds, monkeypatch):
    asked = []
    submit = TraceService.submit

    def recording(self, model, text, ahead=False):
        asked.append((model.config.kind, ahead))
        return submit(self, model, text, ahead)

    monkeypatch.setattr(TraceService, "submit", recording)
    at = opened("gru")
    at.session_state["panel"] = "Compare kinds"
    rerun(at)
    asked.clear()
    at.session_state["text"] = TEXT.replace("cat", "hen")
    rerun(at)
    assert asked == [("gru", False), ("lstm", True), ("rnn", True)]  # each once: the rows use these
    rows = [m.value for m in at.markdown if m.value.startswith("**tiny\\-")]
    assert len(rows) == 3 and all("follows quotes with match" in row for row in rows)
    at.session_state["panel"] = "Predictions"
    asked.clear()
    at.session_state["text"] = TEXT.replace("cat", "fox")
    rerun(at)
    assert asked == [("gru", False)]  # a closed tab asks for nothing


@pytest.mark.slow
def test_the_row_of_the_model_shown_on_the_layer_shown_sends_no_layer_part_of_its_own(kinds):
    at = opened("lstm")
    best = finder.best_matches(lstm_viz.load("tiny-lstm").trace(lstm_viz.normalise(TEXT)), ["quotes"])["quotes"]
    at.session_state["panel"] = "Compare kinds"
    for layer, parts in ((best["layer"], 3), (1 - best["layer"], 4)):  # the page's and each row's, less its own
        at.session_state["layer"] = layer
        rerun(at)
        names = [v.proto.component_name for v in at.get("bidi_component")]
        assert sum(n.endswith("lstm_viz_layer") for n in names) == parts
        assert sum(n.endswith("lstm_viz_text") for n in names) == 1 + len(KINDS)


def compare_shipped(model: str) -> AppTest:
    """The Compare kinds tab for a shipped model, with the page's own example text."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["model"] = model
    rerun(at)
    at.session_state["panel"] = "Compare kinds"
    return rerun(at)


@pytest.mark.slow
def test_the_shipped_war_and_peace_lstm_gru_and_rnn_are_compared_side_by_side():
    at = compare_shipped("warpeace")
    rows = [m.value for m in at.markdown if m.value.startswith("**warpeace")]
    assert [row.split(": ")[0] for row in rows] == [
        r"**warpeace\-lstm\-2x128** (LSTM, 2 x 128)",
        "**warpeace** (LSTM, 2 x 512)",
        r"**warpeace\-gru\-2x128** (GRU, 2 x 128)",
        r"**warpeace\-rnn\-2x128** (vanilla RNN, 2 x 128)",
    ]
    assert all(", follows quotes with match **" in row for row in rows), rows
    assert not [c for c in at.caption if c.value.startswith("Only ")]
    views = [v for v in at.get("bidi_component") if v.proto.component_name.endswith("lstm_viz_text")]
    assert len(views) == 1 + len(rows)


@pytest.mark.slow
def test_with_one_kind_for_the_corpus_the_compare_tab_says_so_in_one_line():
    at = compare_shipped("linux")  # only an LSTM is shipped for the Linux kernel
    (note,) = [c.value for c in at.caption if c.value.startswith("Only ")]
    assert note.startswith("Only an LSTM is available for this corpus")


@pytest.fixture(scope="module")
def explained(tmp_path_factory):
    """A models folder of explained-gru and explained-rnn with their explain.json (`lstm_viz explain`); named
    apart from the tiny models, whose pages the app has cached without a table."""
    root = tmp_path_factory.mktemp("explained")
    corpus = root / "prose.txt"
    corpus.write_text(lstm_viz.normalise(make_corpus(400)))
    for kind in ("gru", "rnn"):
        folder = lstm_viz.save(tiny(kind), root / f"explained-{kind}", CORPUS)
        args = ["explain", "--model", str(folder), "--corpus", str(corpus), "--segment", "2000", "--out", str(folder)]
        done = subprocess.run(
            [sys.executable, "-m", "lstm_viz", *args, "--quiet"],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return root


@pytest.mark.slow
@pytest.mark.parametrize("kind, drives", [("gru", "three gates (reset, update and candidate)"), ("rnn", "state")])
def test_a_gru_or_rnn_cells_page_names_what_its_weights_feed(explained, monkeypatch, kind, drives):
    monkeypatch.setenv("LSTM_VIZ_MODELS", str(explained))
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page("pages/2_Cell.py")
    at.query_params.update({"model": f"explained-{kind}", "cell": "2:3"})
    rerun(at)
    text = "\n".join(m.value for m in at.markdown)
    assert f"the largest weight into its {drives}" in text
    assert "four gates" not in text
    metrics = [m.label for m in at.metric]
    assert "Mean h" in metrics and "H low / high" in metrics  # its one state, where an LSTM's page says c
    words = text + "\n".join(c.value for c in at.caption) + "\n".join(metrics)
    assert "tanh(c)" not in words and "raw c" not in words


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_cell_and_glossary_pages_draw_for_every_kind(kinds, kind):
    at = opened(kind)
    at.switch_page("pages/2_Cell.py")
    at.query_params.update({"model": f"tiny-{kind}", "cell": "1:3"})
    rerun(at)
    assert at.title[0].value == "Layer 1, cell 3"
    at.switch_page("pages/3_Glossary.py")
    rerun(at)
