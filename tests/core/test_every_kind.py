"""Every part of the library reads a GRU's and a vanilla RNN's memory (h_t) and gates as it reads an
LSTM's tanh(c_t) and gates; where an analysis has no meaning for a kind, it says so in one line."""

import copy
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_corpus

import lstm_viz
from lstm_viz import Clamp, Scale, View, ablation_ranking, analysis, attribution, cli, explain
from lstm_viz.causal.ablation import closing_positions
from lstm_viz.find import cellpage, finder, hypotheses
from lstm_viz.paper import ngram
from lstm_viz.views import colour, figures, render

TEXT = 'the cat said "hello (there)" [quickly]\nand ran. "so," he said, "it is (over)."\n'
REFERENCE = 1e-5  # a fast path against the step-by-step reference: float32 sums in another order
RECOMPUTED = 1e-6  # one float32 value computed twice by different code paths


def one_line_error(call, match):
    with pytest.raises(ValueError, match=match) as err:
        call()
    assert "\n" not in str(err.value)


# The finder ---------------------------------------------------------------------------------------------


def test_the_finder_ranks_every_kinds_memory_and_its_gates(tiny_any):
    tr = tiny_any.trace(TEXT)
    table = finder.find_cells(tr, "quotes", top=None)
    inside = lstm_viz.core.features.quotes(tr.text)
    row = table.iloc[0]
    y = tr.memory[int(row.layer), :, int(row.cell)].astype(np.float64)  # an LSTM's tanh(c), a GRU's or RNN's h
    assert row.mean_in == pytest.approx(y[inside].mean(), abs=1e-9)
    assert row.mean_out == pytest.approx(y[~inside].mean(), abs=1e-9)
    for gate in tr.gate_names:
        acts = finder.trace_activations(tiny_any, TEXT, gate)
        np.testing.assert_array_equal(acts.values[1], tr.signal(gate, 1))
        assert finder.find_cells(acts, "quotes", gate, top=3).shape[0] == 3
    spans = finder.span_cells(tr, 13, 27, window=10, top=4)
    assert len(finder.pattern_matches(tr, spans)) >= 1


def test_a_signal_another_kind_has_is_refused_in_one_line_that_says_why(tiny_gru, tiny_rnn):
    rnn, gru = tiny_rnn.trace(TEXT), tiny_gru.trace(TEXT)
    one_line_error(lambda: finder.find_cells(rnn, "quotes", "input"), "vanilla RNN has no gates")
    one_line_error(lambda: finder.trace_activations(tiny_rnn, TEXT, "update"), "vanilla RNN has no gates")
    one_line_error(lambda: finder.find_cells(gru, "quotes", "forget"), "it is an LSTM's gate")
    one_line_error(lambda: gru.signal("output", 0), "unknown signal 'output' for a GRU")
    one_line_error(lambda: finder.check_signal("brightness"), "unknown signal 'brightness'")
    assert finder.check_signal("reset") == "reset"  # some kind has it: the model decides


# Explanations and cell pages ------------------------------------------------------------------------------


def test_explain_scores_a_grus_or_rnns_memory_fitted_on_one_half_and_measured_on_the_other(tiny_any):
    text = lstm_viz.normalise(make_corpus(60, seed=1))[:2400]
    family = [h for h in hypotheses.generate(text, tiny_any.vocab.chars) if h.key == "quotes"]
    table = explain(tiny_any, text, cells=[(1, 5)], family=family, segment=10_000)
    y = tiny_any.trace(text).memory[1, :, 5].astype(np.float64)
    z = family[0](text).astype(np.float64)
    half = len(text) // 2
    r1, r2 = np.corrcoef(y[:half], z[:half])[0, 1], np.corrcoef(y[half:], z[half:])[0, 1]
    assert table.score[0] == pytest.approx(np.sign(r1) * r2, abs=1e-6)


@pytest.fixture(scope="module")
def explained(tmp_path_factory):
    """A GRU and an RNN model folder, each explained through the command line."""
    folder = tmp_path_factory.mktemp("kinds")
    text = make_corpus(400, seed=2)
    (folder / "prose.txt").write_text(text)
    vocab = lstm_viz.Vocab.from_text(text)
    out = {}
    for kind in ("gru", "rnn"):
        torch.manual_seed(0)
        model = lstm_viz.CharLSTM(lstm_viz.Config(len(vocab), layers=2, hidden=16, embed=8, kind=kind), vocab).eval()
        lstm_viz.save(model, folder / kind, {"corpus": {"name": "prose.txt"}})
        argv = ["explain", "--model", str(folder / kind), "--corpus", str(folder / "prose.txt")]
        assert cli.main(argv + ["--segment", "1500", "--causal-cells", "4", "--quiet", "--threads", "1"]) in (0, None)
        out[kind] = json.loads((folder / kind / "explain.json").read_text())
    return folder, out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_the_explain_command_writes_a_grus_or_rnns_explanation_table(explained, kind):
    folder, records = explained
    record, model = records[kind], lstm_viz.load(folder / kind)
    assert record["layers"] == 2 and len(record["cells"]) == 32
    assert cellpage.table(record).score.notna().sum() > 0
    checked = [c for c in record["cells"] if c["causal"]]
    assert len(checked) == 4 and all(np.isfinite(c["causal"]["change_high"]) for c in checked)
    for c in record["cells"]:  # h is the memory a clamp holds: its percentiles lie in [-1, 1]
        assert -1 <= c["c_low"] <= c["c_high"] <= 1
    blocks = {"gru": ("reset", "update", "candidate"), "rnn": ("state",)}[kind]
    feeds = cellpage.writes(model, record, 0, 3)["feeds"]
    w = (
        model.layer_weights(1)[0].detach().numpy()[:, 3].reshape(len(blocks), 16)
        * cellpage.entry(record, 0, 3)["h_rms"]
    )
    assert feeds[0][0] == int(np.abs(w).sum(0).argmax()) and tuple(feeds[0][2]) == blocks
    found = cellpage.drivers(model, record, 1, 3, k=5)
    assert all(tuple(d[3]) == blocks for d in found)
    runs = cellpage.steer(model, "the cat ", 1, 3, -1.0, 1.0, n=40, seed=3)
    assert runs["plain"] == model.sample("the cat ", 40, 0.8, 3) and runs["low"] != runs["high"]


# Ablation and attribution ---------------------------------------------------------------------------------


def mean_log_p(trace, positions):
    return trace.log_probs[positions - 1, trace.ids[positions]].mean()


@pytest.mark.parametrize("mode", ["zero", "mean"])
def test_the_ablation_ranking_of_a_gru_or_rnn_is_one_intervened_trace_per_cell(tiny_gru, tiny_rnn, mode):
    for model in (tiny_gru, tiny_rnn):
        table = ablation_ranking(model, TEXT, mode=mode, precision="float32", batch=10)
        assert len(table) == 48 and table["delta"].is_monotonic_increasing
        positions = closing_positions(TEXT)
        plain, before = model.trace(TEXT), model.trace(TEXT[: positions.max()])
        for row in table.iloc[::7].itertuples():
            mean = float(before.raw_memory(row.layer)[:, row.cell].mean())
            knock = Scale(row.layer, row.cell, 0.0) if mode == "zero" else Clamp(row.layer, row.cell, mean)
            after = model.trace(TEXT, interventions=[knock])
            want = mean_log_p(after, positions) - mean_log_p(plain, positions)
            assert row.delta == pytest.approx(want, abs=REFERENCE)
        fast = ablation_ranking(model, TEXT, mode=mode).set_index(["layer", "cell"])["delta"]  # bfloat16 products
        assert np.corrcoef(fast, table.set_index(["layer", "cell"])["delta"].loc[fast.index])[0, 1] > 0.9


def test_attribution_runs_through_a_grus_or_rnns_own_layers(tiny_gru, tiny_rnn):
    for model in (tiny_gru, tiny_rnn):
        ids = torch.as_tensor(model.vocab.encode(TEXT[:6]))
        x = model.embedding(ids).detach().requires_grad_()
        out, _ = model.recurrent(x[None])
        torch.log_softmax(model.head(out[0, -1]), -1)[model.vocab.encode(TEXT[6])[0]].backward()
        np.testing.assert_allclose(attribution(model, TEXT, 5), (x.grad * x).sum(1).detach().numpy(), atol=1e-6)


# Figures, static HTML and the notebook widget ------------------------------------------------------------


def backgrounds(html):
    return re.findall(r'<span style="background:(rgb\([^)]*\));[^"]*" title="[^"]*">', html)


def test_static_html_colours_a_grus_or_rnns_memory_and_names_it(tiny_gru, tiny_rnn):
    for model in (tiny_gru, tiny_rnn):
        tr = model.trace(TEXT)
        html = tr.to_html(layer=1, cell=5)
        assert backgrounds(html) == [colour.css(v) for v in tr.hidden[1, :, 5]]
        assert "Layer 2, cell 5, memory h" in html and "-1.00" in html and "tanh(c)" not in html
        assert "memory h" in tr._repr_html_()


def test_a_grus_gates_are_drawn_on_their_own_scales(tiny_gru):
    tr = tiny_gru.trace(TEXT)
    for gate, legend in (("reset", "+0.00"), ("update", "+0.00"), ("candidate", "-1.00")):
        html = tr.to_html(layer=0, cell=3, signal=gate)
        assert backgrounds(html) == [colour.css(v) for v in tr.gate(gate, 0, [3])[:, 0]]
        assert legend in html and render.signal_name(gate, "gru") in html
    assert render.signal_names("gru") == {
        "cell": "memory h",
        "hidden": "hidden state h",
        "reset": "reset gate",
        "update": "update gate",
        "candidate": "candidate",
    }
    assert render.gate_note("gru") == "" and render.gate_note("lstm") == ""


@pytest.mark.parametrize("figure", ["text", "cells", "strip", "heatmap"])
def test_every_figure_draws_every_kinds_memory_and_gates(tiny_any, figure):
    tr = tiny_any.trace(TEXT)
    for signal in tr.signals:
        svg = tr.figure(figure, layer=1, cell=5, signal=signal, cells=[5, 7] if figure == "cells" else None)
        root = ET.fromstring(svg)
        texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert any(render.signal_name(signal, tiny_any.kind) in t for t in texts)
        gate = View(signal=signal).gate
        assert ("+0.00" if gate else "-1.00") in texts and "+1.00" in texts
    png = tr.figure("text", layer=0, cell=1, format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_rnn_has_no_gates_and_every_view_says_so_in_one_line(tiny_rnn):
    tr = tiny_rnn.trace(TEXT)
    assert render.signal_names("rnn") == {"cell": "memory h", "hidden": "hidden state h"}
    assert render.gate_note("rnn") == "A vanilla RNN has no gates: its one state, h, is its memory."
    for view in (
        lambda: tr.to_html(signal="forget"),
        lambda: tr.figure("text", signal="input"),
        lambda: tr.figure("heatmap", signal="update"),
    ):
        one_line_error(view, "vanilla RNN has no gates")


def test_the_notebook_widget_shows_a_grus_memory_and_gates_and_refuses_an_rnns_gate(tiny_gru, tiny_rnn):
    pytest.importorskip("anywidget")
    tr = tiny_gru.trace(TEXT)
    view = tr.show(layer=0, cell=2)
    assert view.caption == "Layer 1, cell 2, memory h"
    assert view.shades == [float(v) for v in tr.hidden[0, :, 2]]
    view.signal = "update"
    assert view.caption == "Layer 1, cell 2, update gate" and view.legend["lo"] == 0.0
    assert view.shades == [float(v) for v in tr.gate("update", 0, [2])[:, 0]]
    with pytest.raises(Exception, match="it is an LSTM's gate"):
        view.signal = "forget"
    rnn = tiny_rnn.trace(TEXT).show(layer=1, cell=4)
    assert rnn.caption == "Layer 2, cell 4, memory h"
    with pytest.raises(Exception, match="vanilla RNN has no gates"):
        rnn.signal = "input"
    assert rnn.signal == "cell"


# The paper's analyses -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saturated_gru(tiny_gru):
    """The tiny GRU with layer 1's update gate pinned open (z = 1: keep h) and its reset gate shut
    (r = 0) for cells 0-3 (zero weights, biases of +-40)."""
    model = copy.deepcopy(tiny_gru)
    H = model.config.hidden
    with torch.no_grad():
        for name in ("weight_ih_l1", "weight_hh_l1"):
            getattr(model.gru, name)[0:4] = 0  # reset rows of cells 0-3
            getattr(model.gru, name)[H : H + 4] = 0  # update rows
        model.gru.bias_ih_l1[0:4], model.gru.bias_ih_l1[H : H + 4] = -40, 40
        model.gru.bias_hh_l1[0:4], model.gru.bias_hh_l1[H : H + 4] = 0, 0
    return model


def test_gate_saturation_of_a_gru_reads_its_reset_and_update_gates(saturated_gru):
    table = analysis.gate_saturation(saturated_gru.trace(TEXT * 2), 1)
    assert table["gate"].unique().tolist() == ["reset", "update"] and len(table) == 2 * 24
    row = table.set_index(["gate", "cell"])
    for cell in range(4):
        assert tuple(row.loc[("reset", cell)]) == (1.0, 0.0) and tuple(row.loc[("update", cell)]) == (0.0, 1.0)
    gates = saturated_gru.trace(TEXT * 2).gates(("reset", "update"), 1)
    assert row.loc[("update", 9), "right"] == pytest.approx((gates["update"][:, 9] > 0.9).mean())


def test_an_rnn_has_no_gate_saturation_and_the_live_analyses_say_so(tiny_rnn):
    tr = tiny_rnn.trace(TEXT)
    one_line_error(lambda: analysis.gate_saturation(tr, 0), "vanilla RNN has no gates: gate saturation has no meaning")
    result = analysis.of_text(tr, ngram.train(TEXT * 20, tiny_rnn.vocab, order=4))
    assert result["saturation"] == [] and "has no gates" in result["saturation_problem"]
    assert result["breakdown"]["errors"].sum() == result["errors"]


def test_the_long_memory_test_averages_p_of_each_closing_quote_by_its_distance():
    text = 'a "bc" d "' + "e" * 12 + '" f "g\n\n"' + "h" * 50 + '"'
    # pairs: (2, 5) distance 3; (9, 22) distance 13; the quote at 26 left open at a blank line; (30, 81) distance 51
    loss = np.full(len(text), 2.0)
    loss[[4, 21, 80]] = -np.log([0.9, 0.5, 0.3])  # each closer is predicted one character before it
    table = analysis.quote_memory_from(text, loss)
    assert table[["low", "high", "pairs"]].values.tolist() == [[1, 5, 1], [10, 20, 1], [40, 80, 1]]
    np.testing.assert_allclose(table["p"], [0.9, 0.5, 0.3])
    wide = analysis.quote_memory_from(text, loss, edges=(1, 20, 10**9))
    np.testing.assert_allclose(wide["p"], [0.7, 0.3])
    one_line_error(lambda: analysis.quote_memory_from("no quotes", np.zeros(9)), "no pairs of double quotes")


def test_the_long_memory_test_reads_any_kinds_trace(tiny_any):
    tr = tiny_any.trace(TEXT)
    table = analysis.quote_memory(tr)
    closers = [m.start() for m in re.finditer('"', TEXT)][1::2]
    want = np.exp(-tr.loss_per_char[np.array(closers) - 1].astype(np.float64))
    assert table["pairs"].sum() == 3 and table["p"].to_numpy() @ table["pairs"].to_numpy() == pytest.approx(want.sum())


def test_the_comparison_figures_draw_several_models_side_by_side(tiny_model, saturated_gru):
    lstm, gru = tiny_model.trace(TEXT), saturated_gru.trace(TEXT)
    tables = {
        "LSTM": [analysis.gate_saturation(lstm, layer) for layer in range(2)],
        "GRU": [analysis.gate_saturation(gru, layer) for layer in range(2)],
    }
    fig = figures.gate_saturation(tables)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 2 * 5 and "GRU\nlayer 2, update gate" in titles and "LSTM\nlayer 1, forget gate" in titles
    quotes = {name: analysis.quote_memory(tr) for name, tr in (("LSTM", lstm), ("GRU", gru))}
    (ax,) = figures.quote_memory(quotes).axes
    assert [line.get_label() for line in ax.get_lines()] == ["LSTM", "GRU"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), quotes["GRU"]["p"])
    abab = ngram.train(TEXT * 20, tiny_model.vocab, order=4)
    breakdowns = {name: analysis.error_breakdown(tr, abab) for name, tr in (("LSTM", lstm), ("GRU", gru))}
    (ax,) = figures.error_breakdown(breakdowns).axes
    assert len(ax.patches) == 2 * len(breakdowns["GRU"]) and ax.get_legend() is not None


@pytest.fixture(scope="module")
def three_kinds(tmp_path_factory):
    """An LSTM (with its n-gram), a GRU and an RNN trained on nothing, and their corpus."""
    folder = tmp_path_factory.mktemp("three")
    text = make_corpus(900, seed=3)
    (folder / "corpus.txt").write_text(text)
    vocab = lstm_viz.Vocab.from_text(text)
    for kind in ("lstm", "gru", "rnn"):
        torch.manual_seed(0)
        model = lstm_viz.CharLSTM(lstm_viz.Config(len(vocab), layers=2, hidden=16, embed=8, kind=kind), vocab).eval()
        lstm_viz.save(model, folder / kind, {})
    ngram.build_for_model(folder / "lstm", folder / "corpus.txt", train_chars=20_000, min_counts=(1,))
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_the_analyse_command_reports_on_a_gru_or_rnn(three_kinds, kind, tmp_path, capsys):
    (three_kinds / kind / "ngram.npz").write_bytes((three_kinds / "lstm" / "ngram.npz").read_bytes())
    argv = ["analyse", "--model", str(three_kinds / kind), "--corpus", str(three_kinds / "corpus.txt")]
    assert cli.main(argv + ["--out", str(tmp_path), "--max-chars", "3000"]) == 0
    assert f"{kind.upper()} " in capsys.readouterr().out
    names = {p.stem for p in tmp_path.iterdir()}
    md = (tmp_path / "report.md").read_text()
    assert f"| {kind.upper()} |" in md and "LSTM's memory" not in md
    if kind == "gru":
        assert "gate_saturation" in names and "| 1 | reset |" in md
    else:
        assert "gate_saturation" not in names
        assert "A vanilla RNN has no gates: gate saturation has no meaning for it." in md


@pytest.mark.slow
def test_the_compare_command_puts_the_three_kinds_side_by_side(three_kinds, tmp_path, capsys):
    models = [str(three_kinds / k) for k in ("lstm", "gru", "rnn")]
    argv = ["compare", "--models", *models, "--corpus", str(three_kinds / "corpus.txt"), "--out", str(tmp_path)]
    assert cli.main(argv + ["--max-chars", "4000"]) == 0
    assert "rnn (RNN)" in capsys.readouterr().out
    names = {p.name for p in tmp_path.iterdir()}
    assert {f"{f}.{e}" for f in ("gate_saturation", "quote_memory", "error_breakdown") for e in ("svg", "png")} <= names
    report = json.loads((tmp_path / "compare.json").read_text())
    assert [report["models"][k]["kind"] for k in ("lstm", "gru", "rnn")] == ["lstm", "gru", "rnn"]
    assert report["models"]["rnn"]["saturation_summary"] == [] and report["models"]["gru"]["errors"] > 0
    text = lstm_viz.normalise((three_kinds / "corpus.txt").read_text())
    lo = report["corpus"]["start"]
    held_out = text[lo : lo + 4000]
    for kind in ("lstm", "gru", "rnn"):
        want = analysis.quote_memory(lstm_viz.load(three_kinds / kind).trace(held_out))
        got = pd.DataFrame(report["models"][kind]["quote_memory"])
        assert got["pairs"].tolist() == want["pairs"].tolist()
        np.testing.assert_allclose(got["p"], want["p"], atol=1e-5)
    md = (tmp_path / "compare.md").read_text()
    assert "![](quote_memory.svg)" in md and "rnn (RNN): a vanilla RNN has no gates." in md
