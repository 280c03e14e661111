"""A model over its training: a cell's match at every snapshot (when it learnt its label) and the
paper's training dynamics against n-gram models, on a tiny model trained here with snapshots."""

import json

import numpy as np
import pandas as pd
import pytest

import lstm_viz
from lstm_viz import cli
from lstm_viz.find import hypotheses
from lstm_viz.find.match import match
from lstm_viz.paper import dynamics
from lstm_viz.paper import ngram as ngrams
from lstm_viz.train.loop import TrainArgs, train

SMALL = dict(layers=1, hidden=16, embed=8, dropout=0.0, batch=8, seq_len=32, lr=5e-3, min_count=2, val_chars=2000)


@pytest.fixture(scope="module")
def trained(corpus_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("dyn") / "model"
    train(TrainArgs(str(corpus_file), str(out), epochs=1, snapshots=5, seed=1, **SMALL), quiet=True)
    return out


@pytest.fixture(scope="module")
def run(trained, corpus_file):
    text = corpus_file.read_bytes().decode()[-6000:]
    return dynamics.trace_snapshots(trained, text, warm=200)


def test_a_cells_match_is_the_finders_match_fitted_on_one_half_and_measured_on_the_other():
    rng = np.random.default_rng(0)
    z = (rng.random(400) < 0.3).astype(float)
    y = np.stack([np.tanh(2 * z - 1 + rng.normal(0, 0.5, 400)), rng.normal(size=400), -z], axis=1)  # (T, 3)
    got = dynamics.cell_matches(y, z)
    r1 = [np.corrcoef(y[:200, c], z[:200])[0, 1] for c in range(3)]
    r2 = [np.corrcoef(y[200:, c], z[200:])[0, 1] for c in range(3)]
    assert np.allclose(got, match(np.array(r1), np.array(r2)), atol=1e-12)
    assert got[2] == pytest.approx(1.0) and got[0] > 0.7 and abs(got[1]) < 0.2
    assert dynamics.line_match(y[:, 0], z[:, None]) == pytest.approx(got[0], abs=1e-9)  # one hypothesis: the same match


def test_the_emergence_curve_follows_the_last_snapshots_best_cell_back_through_training(run):
    curves = dynamics.emergence(run, ("quotes", "in_word"))
    assert set(curves["feature"]) == {"quotes", "in_word"}
    for _, curve in curves.groupby("feature"):
        assert list(curve["snapshot"]) == [s.row["index"] for s in run.snapshots]
        assert curve["layer"].nunique() == 1 and curve["cell"].nunique() == 1  # one cell, followed by its index
        last = curve.iloc[-1]
        assert last["match"] == pytest.approx(last["best"])  # the best cell of the last snapshot
        assert (curve["match"] <= curve["best"] + 1e-12).all() and curve["match"].between(-1, 1).all()
    assert curves["chars_seen"].iloc[0] == 0 and curves["val"].notna().all()
    assert curves["val"].iloc[-1] < curves["val"].iloc[0]  # the curve runs from untrained to trained


def test_first_above_names_the_snapshot_from_which_the_match_stays_above_the_threshold():
    curve = pd.DataFrame(
        {
            "feature": "quotes",
            "layer": 1,
            "cell": 7,
            "snapshot": range(6),
            "chars_seen": [0, 10, 20, 40, 80, 160],
            "match": [0.0, 0.6, 0.2, 0.55, 0.7, 0.9],
        }
    )
    never = curve.assign(feature="in_word", match=0.1)
    table = dynamics.first_above(pd.concat([curve, never]), threshold=0.5).set_index("feature")
    assert table.loc["quotes", "snapshot"] == 3 and table.loc["quotes", "chars_seen"] == 40  # not 1: it fell back
    assert table.loc["quotes", "first"] == 0.0 and table.loc["quotes", "last"] == 0.9
    assert table.loc["in_word"].isna()["snapshot"] and dynamics.records(table.reset_index())[1]["snapshot"] is None


def test_every_cells_label_curve_uses_the_explanation_tables_hypothesis(run):
    text = run.text[run.warm :]
    quotes = next(h for h in hypotheses.generate(text) if h(text).dtype == bool and "double quote" in h.label)
    cells = [{"layer": 0, "cell": 3, "key": quotes.key}, {"layer": 0, "cell": 4, "key": "no such key"}]
    curves = dynamics.label_curves(run, cells)
    assert curves.shape == (len(run.snapshots), 2) and np.isnan(curves[:, 1]).all()
    expected = [dynamics.cell_matches(s.memory[0, run.warm :, 3:4], quotes(text))[0] for s in run.snapshots]
    assert np.allclose(curves[:, 0], expected, atol=1e-9)


def test_ngram_distributions_are_the_order_n_models_probabilities_of_every_character(corpus_file):
    text = corpus_file.read_bytes().decode()
    model = ngrams.train(text[:20_000], ngrams.Vocab(sorted(set(text))), order=5)
    ids = model.vocab.encode(ngrams.normalise(text[20_000:21_000]))
    dists = model.distributions(ids, (1, 3, 5))
    rows = model.order_probs(ids)
    for n, p in dists.items():
        assert p.shape == (len(ids) - 1, len(model.vocab))
        assert np.allclose(p.sum(axis=1), 1, atol=1e-5)
        assert np.allclose(p[np.arange(len(ids) - 1), ids[1:]], rows[n], atol=1e-6)
    with pytest.raises(ValueError, match="orders go from 1 to 5"):
        model.distributions(ids, (6,))


def test_the_dynamics_measure_zero_distance_and_full_overlap_against_the_model_itself(run, corpus_file):
    text = corpus_file.read_bytes().decode()
    chars = run.snapshots[0].chars
    ngram = ngrams.train(text[:20_000], ngrams.Vocab(list(chars)), order=3)
    ids = ngram.vocab.encode(run.text)
    as_model = np.log(ngram.distributions(ids, (2,))[2])  # a "snapshot" that predicts as the 2-gram does
    fake = dynamics.Run(
        run.text, run.warm, [dynamics.Traced(run.snapshots[0].row, None, np.vstack([as_model, as_model[-1:]]), chars)]
    )
    table = dynamics.ngram_dynamics(fake, ngram, orders=(1, 2, 3)).set_index("order")
    assert table.loc[2, "kl"] == pytest.approx(0, abs=1e-6) and table.loc[2, "overlap"] == pytest.approx(1)
    assert table.loc[1, "kl"] > 0.1 and table.loc[3, "kl"] > 0
    assert table.loc[2, "model_errors"] == pytest.approx(table.loc[2, "ngram_errors"])
    assert table.loc[2, "gain"] == pytest.approx(0, abs=1e-6)  # no better than the 2-gram it copies
    assert table.loc[1, "gain"] > 0  # better than the 1-gram, which ignores the context
    assert table["model_loss"].nunique() == 1  # one snapshot: one loss, whatever the order

    real = dynamics.ngram_dynamics(run, ngram, orders=(1, 2, 3))
    assert len(real) == 3 * len(run.snapshots) and (real["kl"] >= 0).all() and real["overlap"].between(0, 1).all()
    assert real["characters"].iloc[0] == np.count_nonzero(ids[1 + run.warm :])


def test_the_gain_is_the_ngrams_mean_loss_on_the_coming_characters_minus_the_models(run, corpus_file):
    text = corpus_file.read_bytes().decode()
    ngram = ngrams.train(text[:20_000], ngrams.Vocab(list(run.snapshots[0].chars)), order=3)
    table = dynamics.ngram_dynamics(run, ngram, orders=(1, 3))
    ids = ngram.vocab.encode(run.text)
    at = np.arange(run.warm, len(ids) - 1)
    at = at[ids[at + 1] != 0]  # known next characters after the warm-up
    for snap in (run.snapshots[0], run.snapshots[-1]):
        rows = table[table["snapshot"] == snap.row["index"]].set_index("order")
        model = -snap.log_probs[at, ids[at + 1]].astype(np.float64).mean()
        for n in (1, 3):
            ngram_loss = -np.log(ngram.order_probs(ids)[n][at]).mean()
            assert rows.loc[n, "model_loss"] == pytest.approx(model, abs=1e-6)
            assert rows.loc[n, "ngram_loss"] == pytest.approx(ngram_loss, abs=1e-5)
            assert rows.loc[n, "gain"] == pytest.approx(ngram_loss - model, abs=1e-5)
    untrained, trained = (
        table[table["snapshot"] == s.row["index"]].set_index("order") for s in (run.snapshots[0], run.snapshots[-1])
    )
    assert untrained.loc[1, "gain"] < 0  # untrained, it predicts worse than the characters' frequencies
    assert trained.loc[1, "gain"] > untrained.loc[1, "gain"]  # training closes that gap


def test_the_dynamics_command_writes_the_record_and_prints_both_tables(trained, corpus_file, tmp_path, capsys):
    text = corpus_file.read_bytes().decode()
    card = json.loads((trained / "card.json").read_text())
    ngrams.train(text[:30_000], ngrams.Vocab(card["alphabet"]), order=4).save(trained / ngrams.FILE)
    code = cli.main(["dynamics", "--model", str(trained), "--corpus", str(corpus_file), "--max-chars", "3000"])
    out = capsys.readouterr().out
    assert code == 0 and "When each cell learnt its label" in out and "symmetric KL divergence" in out
    assert "the n-gram's mean loss minus the model's" in out and "errors in common" in out
    record = dynamics.read(trained)
    assert record["format"] == dynamics.FORMAT and len(record["emergence"]) % len(record["snapshots"]) == 0
    assert record["cells"] is None  # no explain.json beside the model: no label to follow
    assert {r["order"] for r in record["dynamics"]} == {1, 2, 3, 4} and record["threshold"] == dynamics.THRESHOLD
    assert cli.main(["dynamics", "--model", str(tmp_path), "--corpus", str(corpus_file)]) == 2
    assert "has no snapshots" in capsys.readouterr().err


def test_any_snapshot_is_a_model_like_any_other_for_the_notebook_views(trained):
    tr = lstm_viz.load(trained, snapshot=0).trace('the "cat"')
    assert tr.shape == (1, 9, 16) and "the" in tr.to_html(layer=0, cell=3)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_a_gru_or_an_rnn_is_followed_through_training_the_same_way(kind, corpus_file, tmp_path):
    out = tmp_path / kind
    train(TrainArgs(str(corpus_file), str(out), epochs=1, snapshots=3, seed=2, kind=kind, **SMALL), quiet=True)
    text = corpus_file.read_bytes().decode()
    run = dynamics.trace_snapshots(out, text[-3000:], warm=100)
    curves = dynamics.emergence(run, ("quotes",))
    assert len(curves) == len(run.snapshots) == 3 and curves["match"].notna().all()
    ngram = ngrams.train(text[:20_000], ngrams.Vocab(list(run.snapshots[0].chars)), order=3)
    table = dynamics.ngram_dynamics(run, ngram, orders=(1, 3))
    assert len(table) == 6 and (table["kl"] >= 0).all()
