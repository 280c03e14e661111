"""Every cell explained: planted cells get their label, the batched scores equal a direct per-cell
computation, two processes give a one-process result, and the shipped file holds the cell pages."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz import CharLSTM, Config, Vocab
from lstm_viz.find import cellpage, explainer, hypotheses
from lstm_viz.find.match import match
from lstm_viz.io import checkpoint
from lstm_viz.train.data import held_out, split_bounds

TOLERANCE = 1e-9  # float64 sums against numpy's least squares

WORDS = "the cat sat on a mat while dogs ran over hills (quickly) to see it"


def prose(n_lines=400, seed=0):
    rng = np.random.default_rng(seed)
    words = WORDS.split()
    lines = []
    for i in range(n_lines):
        line = " ".join(rng.choice(words, rng.integers(3, 9)))
        lines.append(f'{line}, "yes, {line}" he said.' if i % 3 == 0 else line + ".")
    return "\n".join(lines)


def depth_model():
    """A 1-layer model whose cell 3 counts parenthesis depth: its input gate opens only on ( and ),
    its candidate is +0.1 on ( and -0.1 on ), its forget gate stays shut to forgetting. The other
    cells are random."""
    torch.manual_seed(0)
    vocab = Vocab(sorted(set('abcdefghijklmnopqrstuvwxyz .,\n"()')))
    V, H = len(vocab), 8
    model = CharLSTM(Config(V, layers=1, hidden=H, embed=V), vocab).eval()
    with torch.no_grad():
        model.embedding.weight.copy_(torch.eye(V))  # one-hot characters
        w_ih, w_hh, b_ih, b_hh = model.layer_weights(0)
        k, o, c = 3, vocab.index["("], vocab.index[")"]
        for gate in range(4):
            w_ih[gate * H + k] = 0
            w_hh[gate * H + k] = 0
            b_hh[gate * H + k] = 0
        b_ih[k] = -30.0  # input gate shut...
        w_ih[k, [o, c]] = 60.0  # ...except on ( and )
        b_ih[H + k] = 30.0  # forget gate: keep everything
        b_ih[2 * H + k] = 0.0
        w_ih[2 * H + k, o], w_ih[2 * H + k, c] = np.arctanh(0.1), -np.arctanh(0.1)  # candidate +-0.1
        b_ih[3 * H + k] = 30.0  # output gate open
    return model


def test_a_cell_planted_to_count_parenthesis_depth_gets_that_label_with_a_near_perfect_score():
    text = prose()
    table = explainer.explain(depth_model(), text)
    row = table[(table.layer == 0) & (table.cell == 3)].iloc[0]
    assert "depth" in row.label and "(" in row.label
    assert row.score > 0.99 and row.sign == 1
    assert table.iloc[0].cell == 3  # the best explained cell of the model
    assert list(table.columns[:6]) == ["layer", "cell", "label", "score", "runner_up", "runner_up_score"]


def synthetic_sums(y: np.ndarray, z: np.ndarray) -> explainer.Sums:
    """Sums of cells y (C, T) and hypotheses z (F, T), first half then second."""
    sums = explainer.Sums.zeros(len(y), len(z))
    half = y.shape[1] // 2
    for h, part in enumerate((slice(0, half), slice(half, None))):
        sums.add(h, torch.from_numpy(y[:, part]), torch.from_numpy(z[:, part]))
    return sums


def test_scoring_on_synthetic_activations_finds_the_planted_hypothesis_and_pair():
    rng = np.random.default_rng(1)
    T = 4000
    z = rng.normal(size=(6, T))
    family = [hypotheses.Hypothesis(f"h{j}", f"hypothesis {j}", "", None) for j in range(6)]
    y = np.stack(
        [
            np.tanh(0.5 * z[2]) + 0.05 * rng.normal(size=T),  # follows h2
            -0.3 * z[4] + 0.01 * rng.normal(size=T),  # falls with h4
            0.3 * z[0] + 0.3 * z[5] + 0.01 * rng.normal(size=T),  # a pair
            rng.normal(size=T),
        ]
    )  # nothing
    table = explainer.score_table(explainer.Moments.of(synthetic_sums(y, z)), family, np.arange(4), 4).set_index("cell")
    assert table.loc[0, "key"] == "h2" and table.loc[0, "score"] > 0.95
    assert table.loc[1, "key"] == "h4" and table.loc[1, "sign"] == -1 and table.loc[1, "score"] > 0.99
    assert table.loc[2, "pair"] and set(table.loc[2, "key"].split(" + ")) == {"h0", "h5"}
    assert table.loc[2, "score"] > 0.99 and table.loc[2, "runner_up_score"] < 0.8
    assert abs(table.loc[3, "score"]) < 0.1


def test_a_constant_cell_gets_no_label_and_comes_last():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(3, 2000))
    y = np.stack([z[1] + 0.1 * rng.normal(size=2000), np.full(2000, 0.7)])
    family = [hypotheses.Hypothesis(f"h{j}", f"hypothesis {j}", "", None) for j in range(3)]
    table = explainer.score_table(explainer.Moments.of(synthetic_sums(y, z)), family, np.arange(2), 2)
    assert table.cell.tolist() == [0, 1] and table.label[1] == explainer.CONSTANT and np.isnan(table.score[1])
    assert table.runner_up[1] == "" and table.key[0] == "h1"


def test_a_hypothesis_constant_on_the_first_half_fits_nothing_there():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(2, 2000))
    z[1, :1000] = 0.3  # constant on the first half: its sums leave only rounding
    y = rng.normal(size=(3, 2000))
    y[2, 1000:] = 0.5 + 1e-5 * y[2, 1000:]  # a cell that is constant on the second half gets no score
    fit, score = explainer.single_scores(explainer.Moments.of(synthetic_sums(y, z)))
    assert np.isnan(fit[:, 1]).all() and np.isnan(score[:, 1]).all() and np.isfinite(fit[:, 0]).all()
    assert np.isfinite(score[:2, 0]).all() and np.isnan(score[2]).all()


def direct_score(y: np.ndarray, columns: list) -> float:
    """Least squares of y on the columns over the first half, Pearson r of the fit on the second."""
    half = len(y) // 2
    X = np.column_stack([np.ones(len(y))] + [np.asarray(c, dtype=np.float64) for c in columns])
    w, *_ = np.linalg.lstsq(X[:half], y[:half], rcond=None)
    return float(np.corrcoef(X[half:] @ w, y[half:])[0, 1])


def test_batched_scores_equal_a_direct_per_cell_computation(tiny_model):
    text = prose(200)
    family = hypotheses.generate(text, tiny_model.vocab.chars)
    values = hypotheses.Table.of(family, text)
    rows = np.arange(48)
    sums, _ = explainer.collect(tiny_model, text, values, rows, segment=len(text))  # one segment: a plain trace
    m = explainer.Moments.of(sums)
    fit, score = explainer.single_scores(m)
    cells = tiny_model.trace(text).cell  # (L, T, H)
    rng = np.random.default_rng(0)
    for r in rng.choice(48, 6, replace=False):
        y = cells[r // 24, :, r % 24].astype(np.float64)
        for j in rng.choice(len(values), 12, replace=False):
            column = values.columns[j]
            if np.ptp(np.asarray(column[: len(y) // 2], dtype=float)) == 0:
                continue
            assert score[r, j] == pytest.approx(direct_score(y, [column]), abs=TOLERANCE)
    table = explainer.score_table(m, values.family, rows, 24)
    keys = [h.key for h in values.family]
    for row in table.head(8).itertuples():
        y = cells[row.layer, :, row.cell].astype(np.float64)
        columns = [values.columns[keys.index(k)] for k in row.key.split(" + ")]
        assert row.score == pytest.approx(direct_score(y, columns), abs=TOLERANCE)


def test_cells_picks_the_cells_and_bad_ones_are_refused(tiny_model):
    text = prose(60)
    table = explainer.explain(tiny_model, text, cells=[(1, 5), (0, 2)])
    assert sorted(zip(table.layer, table.cell)) == [(0, 2), (1, 5)]
    full = explainer.explain(tiny_model, text).set_index(["layer", "cell"])
    for row in table.itertuples():
        assert row.score == pytest.approx(full.loc[(row.layer, row.cell), "score"], abs=TOLERANCE)
    with pytest.raises(ValueError, match="no cell 24 in layer 0"):
        explainer.explain(tiny_model, text, cells=[(0, 24)])
    with pytest.raises(ValueError, match="scored characters"):
        explainer.explain(tiny_model, "ab")


def test_segments_cover_the_scored_text_and_their_windows_are_equally_long():
    parts = explainer.segments(100_000, 1_000, 40_000)
    assert parts[0][0] == 1_000 and parts[-1][1] == 100_000
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    assert len(parts) == 2 and explainer.segments(500, 0, 40_000) == [(0, 500)]
    parts = explainer.segments(10_001, 1_000, 3_000)
    assert [b - a for a, b in parts] == [3_001, 3_000, 3_000]  # the longer ones first
    spans = explainer.windows(parts, 1_000)
    assert spans[0] == (0, 4_001) and {b - a for a, b in spans} == {4_001}
    assert all(s[1] == p[1] for s, p in zip(spans, parts))
    assert explainer.windows([(0, 300), (300, 600)], 1_000) == [(0, 300), (0, 600)]  # the text's start cuts the first


def test_segments_traced_side_by_side_equal_segments_traced_alone(tiny_model):
    text = prose(40)
    parts = explainer.segments(len(text), 100, 300)
    spans = explainer.windows(parts, 100)
    together = explainer.trace_block(tiny_model, text, parts, spans)
    for (start, stop), (first, _), (cell, hidden) in zip(parts, spans, together):
        alone = tiny_model.trace(text[first:stop])
        assert cell.shape == (2, stop - start, 24)
        np.testing.assert_allclose(cell, alone.cell[:, start - first :], atol=1e-5)
        np.testing.assert_allclose(hidden, alone.hidden[:, start - first :], atol=1e-5)


@pytest.fixture(scope="module")
def model_and_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    torch.manual_seed(0)
    text = prose(3000, seed=2)
    vocab = Vocab.from_text(text)
    model = CharLSTM(Config(len(vocab), layers=2, hidden=16, embed=8), vocab).eval()
    lstm_viz.save(model, folder / "model", {"corpus": {"name": "prose.txt"}})
    (folder / "prose.txt").write_text(text)
    return folder


def run_cli(folder, out, processes, batch=4):
    out.mkdir()
    cmd = [
        "-m",
        "lstm_viz",
        "explain",
        "--model",
        str(folder / "model"),
        "--corpus",
        str(folder / "prose.txt"),
        "--segment",
        "2000",
        "--batch",
        str(batch),
        "--out",
        str(out),
        "--quiet",
    ]
    if processes > 1:
        cmd = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)] + cmd
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable] + cmd, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "explain.json").read_text()), done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("batch", [2, 8])  # 6 segments: 3 blocks, 2 for one process; 1 block, none for the other
def test_two_processes_give_the_one_process_result(model_and_corpus, tmp_path, batch):
    one, printed = run_cli(model_and_corpus, tmp_path / "one", 1, batch)
    two, _ = run_cli(model_and_corpus, tmp_path / "two", 2, batch)
    assert "1 process(es)" in printed and two["processes"] == 2 and two["batch"] == batch
    assert one["chars"] == two["chars"] and len(one["cells"]) == 32
    for a, b in zip(one["cells"], two["cells"]):
        assert a["key"] == b["key"] and a["runner_up_key"] == b["runner_up_key"]
        for k in ("score", "runner_up_score", "fit", "mean", "sd", "h_rms"):
            assert a[k] == pytest.approx(b[k], abs=2e-4)  # both rounded to 4 places
        assert a["histogram"] == b["histogram"] and a["top"] == b["top"] and a["bottom"] == b["bottom"]
        assert a["quantiles"] == b["quantiles"] and a["causal"] == b["causal"]  # the causal check shared out
        assert [r[:2] for r in a["related"]] == [r[:2] for r in b["related"]]


@pytest.mark.slow
def test_the_shipped_file_holds_what_a_cell_page_shows(model_and_corpus, tmp_path):
    record, printed = run_cli(model_and_corpus, tmp_path / "out", 1)
    assert "layer 1: " in printed and "constant cells; match >= 0.5" in printed
    text = (model_and_corpus / "prose.txt").read_text()
    c = cellpage.entry(record, 1, 7)
    assert len(c["histogram"]) == explainer.BINS and abs(sum(c["histogram"]) - 1000) <= explainer.BINS
    start = record["corpus"]["start"]
    for kind in ("top", "quantiles", "bottom"):
        assert c[kind]
        for offset, at, value, snippet, values in c[kind]:
            assert snippet == text[start + offset : start + offset + len(snippet)] and len(values) == len(snippet)
            assert values[at] == round(value * 100)
    assert c["top"][0][2] >= c["quantiles"][-1][2] >= c["quantiles"][0][2] >= c["bottom"][0][2]
    assert len(c["related"]) == explainer.RELATED and all(abs(r[2]) <= 1 for r in c["related"])
    assert c["c_low"] <= c["c_high"] and len(c["map"]) == 2
    checked = [x for x in record["cells"] if x["causal"]]
    assert len(checked) == min(explainer.CAUSAL_CELLS, 32)
    assert {"plain", "low", "high", "change_low", "change_high", "targets"} <= set(checked[0]["causal"])
    frame = cellpage.table(record)
    assert frame.score.is_monotonic_decreasing
    assert set(cellpage.search(record, "since newline").label) <= {x for x in frame.label if "newline" in x}
    with pytest.raises(ValueError, match="no cell"):
        cellpage.entry(record, 2, 0)


@pytest.mark.slow
def test_page_functions_write_drive_and_steer(model_and_corpus, tmp_path):
    record, _ = run_cli(model_and_corpus, tmp_path / "out", 1)
    model = lstm_viz.load(model_and_corpus / "model")
    typical = {(c["layer"], c["cell"]): c["h_rms"] for c in record["cells"]}
    push = model.head.weight[:, 3].detach().numpy() * typical[1, 3]  # its column of the output weights x typical h
    last = cellpage.writes(model, record, 1, 3)
    assert len(last["raises"]) == 8 and len(last["lowers"]) == 8
    assert last["raises"][0] == (model.vocab.symbol(int(push.argmax())), pytest.approx(push.max(), abs=1e-6))
    assert last["lowers"][0] == (model.vocab.symbol(int(push.argmin())), pytest.approx(push.min(), abs=1e-6))
    first = cellpage.writes(model, record, 0, 3)
    w_next = model.layer_weights(1)[0].detach().numpy()[:, 3].reshape(4, 16) * typical[0, 3]  # (gate, next cell)
    assert [f[0] for f in first["feeds"]] == list(np.argsort(-np.abs(w_next).sum(0))[:8])
    assert first["feeds"][0][2] == pytest.approx(
        dict(zip(("input", "forget", "candidate", "output"), w_next[:, first["feeds"][0][0]]))
    )
    found = cellpage.drivers(model, record, 1, 3, k=40)
    assert {d[0] for d in found} == {"layer 0", "layer 1"} and [d[2] for d in found] == sorted(
        (d[2] for d in found), reverse=True
    )
    w_hh = model.layer_weights(1)[1].detach().numpy()[np.arange(4) * 16 + 3]  # (4, H): the gates of cell 3 from h_{t-1}
    same = next(d for d in found if d[0] == "layer 1")
    assert same[2] == pytest.approx(np.abs(w_hh[:, same[1]]).sum() * typical[1, same[1]], abs=1e-6)
    sources = {d[0] for d in cellpage.drivers(model, record, 0, 3, k=40)}
    assert sources <= {"layer 0", "character"} and "character" in sources
    c = cellpage.entry(record, 1, 3)
    runs = cellpage.steer(model, "the cat ", 1, 3, c["c_low"], c["c_high"], n=60, seed=3)
    assert runs["plain"] == model.sample("the cat ", 60, 0.8, 3)
    assert all(len(v) == 60 for v in runs.values())
    strong = cellpage.steer(model, "the cat ", 1, 3, -50.0, 50.0, n=60, seed=3)
    assert strong["low"] != strong["high"]


def test_the_package_data_ships_explain_json_beside_the_weights():
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "lstm_viz_app"
    ]
    assert any(fnmatch.fnmatch(f"pretrained/warpeace/{explainer.FILE}", p) for p in patterns)


SHIPPED = ("warpeace", "linux")


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_has_its_cells_explained_on_held_out_text(name):
    record = cellpage.load(name)
    assert record is not None and not record["stale"]  # built from the shipped weights
    assert (checkpoint.resolve(name) / explainer.FILE).stat().st_size <= 5_000_000
    L, H = record["layers"], record["cells_per_layer"]
    assert [(c["layer"], c["cell"]) for c in record["cells"]] == [(a, b) for a in range(L) for b in range(H)]
    corpus = record["corpus"]
    assert corpus["split"] == "test" and corpus["trained_on"] and corpus["end"] - corpus["start"] == record["chars"]
    assert 100 <= len(record["family"]) <= 5_000  # hundreds to a few thousand hypotheses
    best = cellpage.table(record).head(explainer.CAUSAL_CELLS)
    checked = {(c["layer"], c["cell"]) for c in record["cells"] if c["causal"]}
    assert checked == set(zip(best.layer, best.cell)) and best.change_low.notna().all()


def sums(x: np.ndarray) -> tuple:
    """(cross, y, yy, n): the sums over characters (rows of x) that a record's map is made from."""
    return x.T @ x, x.sum(0), (x**2).sum(0), len(x)


def test_the_map_spreads_the_cells_that_vary_and_leaves_out_the_all_but_constant_ones():
    rng = np.random.default_rng(0)
    n = 5_000
    a, b = rng.standard_normal((2, n))
    varying = np.stack([a, a + 0.3 * b, b, b - 0.3 * a, a + b], axis=1) * 0.3  # two directions of change
    wobble = rng.standard_normal(n) * 1e-4  # all but constant cells, wobbling together (sd 0.0001)
    constant = np.stack([0.99 + wobble, -0.99 - wobble, 0.98 + wobble], axis=1)
    _, layout = explainer.related_and_map(*sums(np.concatenate([varying, constant], axis=1)))
    assert np.isnan(layout[5:]).all()
    placed = layout[:5]
    assert np.isfinite(placed).all() and (np.ptp(placed, axis=0) > 0.3).all()


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_map_places_every_cell_that_varies_on_two_axes_and_no_constant_one(name):
    cells = cellpage.load(name)["cells"]
    placed = np.array([c["map"] for c in cells if c["map"] is not None])
    assert all(c["map"] is None for c in cells if c["sd"] <= 0.0009)  # sd below 0.001: all but constant
    assert all(c["map"] is not None for c in cells if c["sd"] >= 0.0011)
    assert len(placed) >= 0.7 * len(cells)
    spread = np.percentile(placed, 95, axis=0) - np.percentile(placed, 5, axis=0)
    assert (spread > 0.2).all()  # the middle nine tenths not on one line


@pytest.mark.slow
def test_a_line_position_cell_held_high_or_low_steers_the_line_length_of_the_shipped_model():
    model, record = lstm_viz.load("warpeace"), cellpage.load("warpeace")
    table = cellpage.table(record)
    line = table[table.key.str.contains("since:\n", regex=False) | table.key.str.contains("line_position")].iloc[0]
    assert line.score >= 0.85  # strongly explained
    e = cellpage.entry(record, line.layer, line.cell)
    runs = cellpage.steer(model, "\n\n", line.layer, line.cell, e["c_low"], e["c_high"], n=200, seed=0)
    assert all(len(v) == 200 for v in runs.values())  # plain is model.sample's: see the test above
    assert runs["low"] != runs["plain"] and runs["high"] != runs["plain"]
    longer_lines = "low" if e["sign"] > 0 else "high"  # the cell rises along a line: held low, the line never ends
    shorter_lines = "high" if longer_lines == "low" else "low"
    assert runs[longer_lines].count("\n") < runs["plain"].count("\n") < runs[shorter_lines].count("\n")


@pytest.mark.parametrize("fails", [False, True])
def test_a_process_group_started_for_a_run_ends_with_it_on_every_path(monkeypatch, fails):
    calls = []
    dist = torch.distributed
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(dist, "is_initialized", lambda: "init" in calls and "destroy" not in calls)
    monkeypatch.setattr(dist, "init_process_group", lambda backend: calls.append("init"))
    monkeypatch.setattr(dist, "destroy_process_group", lambda: calls.append("destroy"))

    @explainer.in_process_group
    def run():
        with explainer.process_group():  # nested: the outer one owns the group
            calls.append("run")
        if fails:
            raise RuntimeError("a step failed")

    if fails:
        with pytest.raises(RuntimeError, match="a step failed"):
            run()
    else:
        run()
    assert calls == ["init", "run", "destroy"]


# the file and the held-out text


def random_model(folder) -> object:
    torch.manual_seed(0)
    vocab = Vocab(sorted(set('abc \n"().')))
    checkpoint.save(CharLSTM(Config(len(vocab), layers=2, hidden=8, embed=4), vocab), folder, {})
    return folder


RECORD = {"format": explainer.FORMAT, "layers": 1, "cells_per_layer": 1, "cells": [{"layer": 0, "cell": 0}]}


def test_write_then_load_round_trips_and_absent_is_none(tmp_path):
    model = random_model(tmp_path / "m")
    assert cellpage.load(model) is None
    explainer.write(model, {**RECORD, "model": {"weights_sha256": explainer.weights_sha256(model)}})
    loaded = cellpage.load(model)
    assert loaded.pop("stale") is False
    assert loaded["cells"] == RECORD["cells"]


def test_a_record_of_other_weights_is_flagged_stale(tmp_path):
    model = random_model(tmp_path / "m")
    explainer.write(model, {**RECORD, "model": {"weights_sha256": "0" * 64}})
    assert cellpage.load(model)["stale"] is True


def test_a_broken_explain_file_raises_one_clear_line(tmp_path):
    model = random_model(tmp_path / "m")
    (model / explainer.FILE).write_text("{not json")
    with pytest.raises(ValueError, match="explain.json: not valid JSON"):
        cellpage.load(model)
    (model / explainer.FILE).write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match=f"not a {explainer.FORMAT} file"):
        cellpage.load(model)


def test_held_out_text_starts_after_a_paragraph_break_of_the_test_split_with_warm_up(tmp_path):
    text = "\n\n".join(prose(6, seed=k) for k in range(200)) + "\n"
    path = tmp_path / "corpus.txt"
    path.write_text(text)
    lo, hi = split_bounds(len(text))["test"]
    slice_, start, warm = held_out(path, max_chars=500, warmup=100)
    assert lo <= start < hi and text[start - 2 : start] == "\n\n" and "\n\n" not in text[lo : start - 1]
    assert warm == 100 and slice_ == text[start - 100 : start + 500]
    whole, start2, _ = held_out(path, max_chars=10**9)
    assert start2 == start and whole.endswith(text[start:hi]) and len(whole) <= hi - start + 1000


def test_a_single_hypothesis_scores_its_match_fitted_on_the_first_half_and_measured_on_the_second():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(1, 600))
    y = -0.8 * z + rng.normal(0, 0.5, (2, 600))  # two cells that fall with the hypothesis
    fit, score = explainer.single_scores(explainer.Moments.of(synthetic_sums(y, z)))
    r1 = [np.corrcoef(y[c, :300], z[0, :300])[0, 1] for c in range(2)]
    r2 = [np.corrcoef(y[c, 300:], z[0, 300:])[0, 1] for c in range(2)]
    np.testing.assert_allclose(score[:, 0], match(np.array(r1), np.array(r2)), atol=TOLERANCE)
    assert (score > 0.7).all()  # the fall is found on one half and holds on the other
