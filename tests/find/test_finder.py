"""Ranking cells against hypotheses, and pattern search from a marked span."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lstm_viz import CharLSTM, Config, Vocab, cli
from lstm_viz.find.finder import (
    Activations,
    activations,
    average_ranks,
    best_matches,
    find_cells,
    pattern_matches,
    score_all,
    span_cells,
    trace_activations,
)
from lstm_viz.find.match import match
from lstm_viz.io import checkpoint

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PAREN, LINE, LETTER, DEAD = range(4)  # the wired cells


def wired_model() -> CharLSTM:
    """One layer of four cells wired by hand: a paren counter (tanh c = tanh(0.1 depth)), a line
    position counter (0.02 per character, reset by newline), a letter detector (+-0.9) and a
    cell that never moves. Embeddings are one-hot, every output gate is open."""
    vocab = Vocab(list(LETTERS + " \n().,"))
    V, H = len(vocab), 4
    model = CharLSTM(Config(V, layers=1, hidden=H, embed=V, dropout=0.0, forget_bias=0.0), vocab)
    w_ih = torch.zeros(4 * H, V)
    b = torch.zeros(4 * H)
    i, f, g, o = (slice(k * H, (k + 1) * H) for k in range(4))
    b[i], b[o] = 20.0, 20.0
    b[f] = torch.tensor([20.0, 20.0, -20.0, 0.0])
    w_ih[2 * H + PAREN, vocab.index["("]] = math.atanh(0.1)
    w_ih[2 * H + PAREN, vocab.index[")"]] = -math.atanh(0.1)
    b[2 * H + LINE] = math.atanh(0.02)
    w_ih[2 * H + LINE, vocab.index["\n"]] = -math.atanh(0.02)
    w_ih[H + LINE, vocab.index["\n"]] = -60.0
    b[2 * H + LETTER] = -math.atanh(0.9)
    for c in LETTERS:
        w_ih[2 * H + LETTER, vocab.index[c]] = 2 * math.atanh(0.9)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.eye(V))
        model.lstm.weight_ih_l0.copy_(w_ih)
        model.lstm.weight_hh_l0.zero_()
        model.lstm.bias_ih_l0.copy_(b)
        model.lstm.bias_hh_l0.zero_()
        model.head.weight.zero_()
        model.head.bias.zero_()
    return model.eval()


def wired_text(n_lines: int = 120, seed: int = 0) -> str:
    """Lines of words and balanced parentheses of random depth and length."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n_lines):
        words = []
        for _ in range(rng.integers(1, 8)):
            d = int(rng.integers(0, 4))
            words.append("(" * d + "".join(rng.choice(list(LETTERS), rng.integers(1, 6))) + ")" * d)
        lines.append(" ".join(words) + ".")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def model():
    return wired_model()


@pytest.fixture(scope="module")
def trace(model):
    return model.trace(wired_text())


def brute_auc(values, mask):
    pos, neg = values[mask][:, None], values[~mask][None, :]
    return ((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size)


# ranking on synthetic activations, against slow reference statistics


def planted(T=400, L=2, H=6, seed=0):
    """Noise activations (L, T, H) with a binary hypothesis planted in cell (1, 2) and its
    opposite in (0, 4); values rounded so that ties occur."""
    rng = np.random.default_rng(seed)
    mask = rng.random(T) < 0.3
    values = np.round(rng.uniform(-1, 1, (L, T, H)), 1).astype(np.float32)
    values[1, :, 2] = np.where(mask, 0.9, -0.2) + np.round(rng.normal(0, 0.1, T), 1)
    values[0, :, 4] = np.where(mask, -0.8, 0.5)
    return Activations("x" * T, values), mask


def test_binary_features_are_scored_by_the_exact_auc_of_every_cell_ties_counting_half():
    acts, mask = planted()
    table = find_cells(acts, mask, top=None)
    assert len(table) == 2 * 6
    for row in table.itertuples():
        assert row.auc == pytest.approx(brute_auc(acts.values[row.layer, :, row.cell], mask), abs=1e-12)
        assert row.mean_in == pytest.approx(acts.values[row.layer, mask, row.cell].mean(), abs=1e-6)
        assert row.mean_out == pytest.approx(acts.values[row.layer, ~mask, row.cell].mean(), abs=1e-6)


def test_binary_features_rank_cells_by_their_match_so_on_and_off_cells_both_rank_high_with_the_sign_kept():
    acts, mask = planted()
    table = find_cells(acts, mask, top=2)
    assert list(zip(table.layer, table.cell, table.sign)) == [(0, 4, -1), (1, 2, 1)]
    assert table.match[0] == pytest.approx(1.0) and table.auc[0] == 0.0
    for row in table.itertuples():
        r = np.corrcoef(acts.values[row.layer, :, row.cell], mask)[0, 1]
        assert row.pearson == pytest.approx(r, abs=1e-9)
        assert row.match == pytest.approx(abs(r), abs=1e-9)


def test_count_features_rank_cells_by_their_match_absolute_pearson_with_spearman_beside_it():
    rng = np.random.default_rng(1)
    T = 300
    count = rng.integers(0, 6, T)
    values = np.round(rng.uniform(-1, 1, (2, T, 3)), 1).astype(np.float32)
    values[1, :, 0] = -np.tanh(0.5 * count)  # monotone: Spearman -1, Pearson a little less
    table = find_cells(Activations("x" * T, values), count, top=None)
    assert (table.layer[0], table.cell[0], table.sign[0]) == (1, 0, -1)
    assert table.spearman[0] == pytest.approx(-1.0)
    for row in table.itertuples():
        v = pd.Series(values[row.layer, :, row.cell].astype(np.float64))
        assert row.pearson == pytest.approx(v.corr(pd.Series(count)), abs=1e-9)
        assert row.spearman == pytest.approx(v.rank().corr(pd.Series(count).rank()), abs=1e-9)
        assert row.match == pytest.approx(abs(row.pearson))
    assert table.match.is_monotonic_decreasing


def test_average_ranks_share_ties_like_pandas():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.integers(-3, 4, (3, 50)), rng.normal(size=(1, 50))]).astype(np.float32)
    x[0, :3] = [0.0, -0.0, 0.0]  # -0.0 equals 0.0
    expected = np.stack([pd.Series(row).rank().to_numpy() for row in x])
    assert np.array_equal(average_ranks(x), expected)


def test_every_block_of_a_wide_model_is_scored(monkeypatch):
    import lstm_viz.find.finder as finder

    monkeypatch.setattr(finder, "BLOCK_ELEMENTS", 800)  # two cells per block
    acts, mask = planted(H=7)
    table = find_cells(acts, mask, top=None)
    full = {(r.layer, r.cell): brute_auc(acts.values[r.layer, :, r.cell], mask) for r in table.itertuples()}
    assert len(full) == 14 and all(table.auc == [full[(r.layer, r.cell)] for r in table.itertuples()])


def test_score_all_scores_several_features_and_marks_constant_ones_nan():
    acts, mask = planted()
    scores = score_all(acts, {"planted": mask, "never": np.zeros(400, bool), "ramp": np.arange(400)})
    assert scores["planted"].kind == "binary" and scores["ramp"].kind == "count"
    assert np.isnan(scores["never"].match).all()
    assert scores["planted"].match[1, 2] > 0.95
    assert scores["planted"].match[0, 4] == pytest.approx(1.0)


# errors


def test_a_feature_that_never_changes_cannot_rank_cells():
    acts, _ = planted()
    with pytest.raises(ValueError, match="constant on this text"):
        find_cells(acts, np.ones(400, bool))


def test_unknown_features_and_signals_raise_listing_the_valid_names(trace):
    with pytest.raises(ValueError, match="unknown hypothesis 'depth'; choose one of quotes"):
        find_cells(trace, "depth")
    with pytest.raises(ValueError, match="unknown signal 'gates'; choose one of cell, hidden, input"):
        find_cells(trace, "quotes", signal="gates")


def test_a_feature_of_the_wrong_length_is_refused():
    acts, mask = planted()
    with pytest.raises(ValueError, match="has shape \\(399,\\); the text has 400 characters"):
        find_cells(acts, mask[:-1])


# on a real trace: the wired cells are found


def test_the_paren_counter_tops_paren_depth(trace):
    table = find_cells(trace, "paren_depth", top=3)
    assert (table.layer[0], table.cell[0], table.sign[0]) == (0, PAREN, 1)
    assert table.spearman[0] > 0.9999
    assert table.match[0] > 0.99


def test_the_line_counter_tops_line_position(trace):
    table = find_cells(trace, "line_position", top=1)
    assert (table.cell[0], table.sign[0]) == (LINE, 1)
    assert table.spearman[0] > 0.9999


def test_the_letter_detector_tops_in_word_with_a_perfect_auc(trace):
    table = find_cells(trace, "in_word", top=4)
    assert (table.cell[0], table.auc[0]) == (LETTER, 1.0)
    assert table.set_index("cell").auc[DEAD] == 0.5  # a constant cell knows nothing


def test_best_matches_name_the_top_cell_of_the_ranking_for_each_feature_and_none_for_a_constant_one(trace):
    found = best_matches(trace, ["paren_depth", "line_position", "quotes"])
    for name in ("paren_depth", "line_position"):
        top = find_cells(trace, name, top=1).iloc[0]
        assert (found[name]["layer"], found[name]["cell"], found[name]["sign"]) == (top.layer, top.cell, top.sign)
        assert found[name]["match"] == pytest.approx(top.match, abs=1e-4)  # float32 sums against float64
    assert '"' not in trace.text and found["quotes"] is None


def test_the_match_is_the_correlation_measured_signed_by_the_direction_fitted():
    assert match(0.7, 0.9) == pytest.approx(0.9)
    assert match(-0.7, -0.9) == pytest.approx(0.9)  # falls with the label on both texts
    assert match(0.7, -0.9) == pytest.approx(-0.9)  # the direction fitted does not hold
    r = np.array([-0.5, 0.0, 0.8])
    assert np.array_equal(match(r, r), np.abs(r))  # fitted and measured on one text: |r|


def test_signals_other_than_the_cell_state(trace):
    forget = find_cells(trace, "regex", signal="forget", regex="\n", top=1)
    assert (forget.cell[0], forget.sign[0], forget.auc[0]) == (LINE, -1, 0.0)  # forgets only at newlines
    hidden = find_cells(trace, "paren_depth", signal="hidden", top=1)
    assert hidden.cell[0] == PAREN


def test_the_pieces_of_a_long_text_give_the_same_activations_as_one_trace(model, trace):
    text = trace.text
    pieces = list(model.trace_chunks(text, chunk=1000))  # (start, Trace) pairs
    for acts in (
        activations(iter(pieces)),
        activations([piece for _, piece in pieces]),
        trace_activations(model, text, chunk=1500),
    ):
        assert acts.text == text
        np.testing.assert_allclose(acts.values, trace.cell, atol=1e-6)
    gates = activations(pieces, "input")
    np.testing.assert_allclose(gates.values[0], trace.gate("input", 0), atol=1e-6)
    assert find_cells(pieces, "paren_depth", top=1).cell[0] == PAREN


# pattern search


def pattern_activations():
    """Cells (0, 1) and (1, 3) are on and (1, 0) off in the three spans [10, 20), [50, 58),
    [80, 95); cell (0, 1) alone is also on in [30, 35)."""
    rng = np.random.default_rng(3)
    T = 120
    values = rng.uniform(-0.2, 0.2, (2, T, 4)).astype(np.float32)
    for a, b in ((10, 20), (50, 58), (80, 95)):
        values[0, a:b, 1] += 0.7
        values[1, a:b, 3] += 0.6
        values[1, a:b, 0] -= 0.7
    values[0, 30:35, 1] += 0.7
    return Activations("".join(chr(97 + i % 26) for i in range(T)), values)


def test_span_cells_rank_by_the_contrast_between_the_span_and_its_surroundings():
    acts = pattern_activations()
    table = span_cells(acts, 10, 20, window=8, top=3)
    assert set(zip(table.layer, table.cell, table.sign)) == {(0, 1, 1), (1, 3, 1), (1, 0, -1)}
    row = next(table.itertuples())
    v = acts.values[row.layer, :, row.cell].astype(np.float64)
    around = np.concatenate([v[2:10], v[20:28]]).mean()
    assert row.inside == pytest.approx(v[10:20].mean())
    assert row.around == pytest.approx(around)
    assert row.contrast == pytest.approx(v[10:20].mean() - around)
    assert row.score == pytest.approx(abs(row.contrast))
    assert row.threshold == pytest.approx((row.inside + row.around) / 2)


def test_pattern_matches_find_where_the_chosen_cells_are_on_together():
    acts = pattern_activations()
    matches = pattern_matches(acts, span_cells(acts, 10, 20, window=8, top=3))
    assert sorted(zip(matches.start, matches.end)) == [(10, 20), (50, 58), (80, 95)]
    assert matches.text.tolist() == [acts.text[a:b] for a, b in zip(matches.start, matches.end)]
    assert (matches.length == matches.end - matches.start).all() and matches.score.is_monotonic_decreasing


def test_a_looser_agreement_also_finds_places_where_only_some_cells_are_on():
    acts = pattern_activations()
    cells = span_cells(acts, 10, 20, window=8, top=3)
    assert (30, 35) in set(zip(*pattern_matches(acts, cells, agree=0.3)[["start", "end"]].to_numpy().T))
    assert pattern_matches(acts, cells, min_length=9)[["start", "end"]].values.tolist() == [[10, 20], [80, 95]]


def test_bad_spans_are_refused():
    acts = pattern_activations()
    for start, end in ((5, 5), (-1, 3), (100, 121)):
        with pytest.raises(ValueError, match="is not a non-empty part of the text"):
            span_cells(acts, start, end)
    with pytest.raises(ValueError, match="nothing around it"):
        span_cells(acts, 0, 120)


# the find command


@pytest.fixture(scope="module")
def wired_folder(tmp_path_factory, model):
    folder = tmp_path_factory.mktemp("wired")
    checkpoint.save(model, folder, {})
    (folder / "text.txt").write_text(wired_text(40, seed=5))
    return folder


def test_find_prints_the_ranked_table(wired_folder, capsys):
    code = cli.main(
        [
            "find",
            "--model",
            str(wired_folder),
            "--text-file",
            str(wired_folder / "text.txt"),
            "--hypothesis",
            "paren_depth",
            "--top",
            "2",
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].split() == ["layer", "cell", "match", "sign", "pearson", "spearman"]
    assert lines[1].split()[:2] == ["0", str(PAREN)] and len(lines) == 3


def test_find_with_a_regex(wired_folder, capsys):
    code = cli.main(
        [
            "find",
            "--model",
            str(wired_folder),
            "--text-file",
            str(wired_folder / "text.txt"),
            "--regex",
            "[a-z]+",
            "--top",
            "1",
        ]
    )
    assert code == 0 and capsys.readouterr().out.splitlines()[1].split()[:3] == ["0", str(LETTER), "1.0000"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hypothesis", "brackets"], "error: unknown hypothesis 'brackets'; choose one of quotes"),
        (["--regex", "a(b"], "error: bad regular expression 'a(b': missing ) at position 3"),
        (["--hypothesis", "quotes", "--signal", "gate"], "error: unknown signal 'gate'"),
        (["--hypothesis", "quotes", "--top", "0"], "error: --top must be at least 1"),
        ([], "error: give --hypothesis"),
    ],
)
def test_find_reports_bad_arguments_in_one_line(wired_folder, capsys, args, message):
    code = cli.main(["find", "--model", str(wired_folder), "--text-file", str(wired_folder / "text.txt"), *args])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(message) and err.count("\n") == 1


def test_find_reports_a_missing_text_file_in_one_line(wired_folder, capsys):
    code = cli.main(
        ["find", "--model", str(wired_folder), "--text-file", str(wired_folder / "nope.txt"), "--hypothesis", "quotes"]
    )
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: {wired_folder / 'nope.txt'}: no such text file\n"
