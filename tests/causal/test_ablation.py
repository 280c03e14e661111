"""ablation_ranking: every cell knocked out in one batch, ranked by the harm to the target characters."""

import numpy as np
import pytest

import lstm_viz
from lstm_viz import Clamp, Scale
from lstm_viz.causal.ablation import ablation_ranking, closing_positions

TEXT = 'the cat said "hello (there)" [quickly]\nand ran. "yes," he said {a [b]} (c).\n'
# War and Peace's held-out test split from character 3,090,703 of the normalised corpus (past the
# 90% mark: never trained on); five closing quotes, the last at 112
HELD_OUT = (
    '"Yes."\n\n"And what were you going to say?"\n\n"I? Only nonsense."\n\n'
    '"But all the same?"\n\n"Oh nothing, only a trifle,"'
)
REFERENCE = 1e-5  # a float32 ranking row against one intervened trace: the same sums in another order
BFLOAT16 = 1e-2  # bfloat16 recurrent products against float32: 0.004 nats at most measured on the shipped model


def mean_log_p(trace, positions):
    return np.mean([trace.log_probs[j - 1, trace.ids[j]] for j in positions])


def test_targets_default_to_the_characters_that_close_a_quote_or_a_bracket():
    got = closing_positions(TEXT)
    assert "".join(TEXT[j] for j in got) == ')"]"]})'
    assert closing_positions('a ) b "').tolist() == []  # nothing open to close


@pytest.mark.parametrize("mode", ["zero", "mean"])
def test_exact_ranking_matches_one_intervened_trace_per_cell(tiny_model, mode):
    table = ablation_ranking(tiny_model, TEXT, mode=mode, precision="float32", batch=10)
    assert len(table) == 48 and table["rank"].tolist() == list(range(1, 49))
    assert table["delta"].is_monotonic_increasing
    positions = closing_positions(TEXT)
    plain = tiny_model.trace(TEXT)
    before = tiny_model.trace(TEXT[: positions.max()])
    for row in table.iloc[::5].itertuples():
        knock = (
            Scale(row.layer, row.cell, 0.0)
            if mode == "zero"
            else Clamp(row.layer, row.cell, float(before.raw_cells(row.layer)[:, row.cell].mean()))
        )
        after = tiny_model.trace(TEXT, interventions=[knock])
        assert row.delta == pytest.approx(mean_log_p(after, positions) - mean_log_p(plain, positions), abs=REFERENCE)


def test_bfloat16_ranking_stays_close_to_the_exact_one(tiny_model):
    exact = ablation_ranking(tiny_model, TEXT, precision="float32").set_index(["layer", "cell"])["delta"]
    fast = ablation_ranking(tiny_model, TEXT).set_index(["layer", "cell"])["delta"]
    assert np.abs(fast - exact.loc[fast.index]).max() < 2e-3  # a 24-cell model: errors smaller still


@pytest.mark.slow
def test_bfloat16_ranking_of_the_shipped_1024_cells_agrees_with_exact_ablation():
    """Measured on an Intel Xeon (AMX): the top 5 identical, 19 of the top 20 shared, deltas within
    0.004 nats; the bound leaves a cell of slack for other CPUs' bfloat16 products."""
    model = lstm_viz.load("warpeace")
    fast = ablation_ranking(model, HELD_OUT, batch=512)
    exact = ablation_ranking(model, HELD_OUT, precision="float32", batch=512)
    assert len(fast) == len(exact) == 1024 and closing_positions(HELD_OUT).tolist() == [5, 40, 61, 82, 112]
    top = lambda table, k: set(zip(table.layer[:k], table.cell[:k]))  # noqa: E731
    assert (fast.layer[0], fast.cell[0]) == (exact.layer[0], exact.cell[0]) == (1, 429)  # the quote cell
    assert top(fast, 5) == top(exact, 5) and len(top(fast, 20) & top(exact, 20)) >= 18
    delta = lambda table: table.set_index(["layer", "cell"])["delta"]  # noqa: E731
    assert (delta(fast) - delta(exact)).abs().max() < BFLOAT16
    positions = closing_positions(HELD_OUT)
    plain = model.trace(HELD_OUT)
    for row in exact.head(3).itertuples():  # the exact ranking is one intervened trace per cell
        after = model.trace(HELD_OUT, interventions=[Scale(row.layer, row.cell, 0.0)], base=plain)
        assert row.delta == pytest.approx(mean_log_p(after, positions) - mean_log_p(plain, positions), abs=REFERENCE)


def test_any_positions_and_characters_can_be_the_target(tiny_model):
    table = ablation_ranking(tiny_model, TEXT, positions=[4, 9], chars="zz", precision="float32")
    row = table.iloc[0]
    plain = tiny_model.trace(TEXT)
    after = tiny_model.trace(TEXT, interventions=[Scale(int(row.layer), int(row.cell), 0.0)])
    z = tiny_model.vocab.encode("z")[0]
    expected = np.mean(after.log_probs[[3, 8], z]) - np.mean(plain.log_probs[[3, 8], z])
    assert row.delta == pytest.approx(expected, abs=REFERENCE)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"text": "no closers here"}, "no target positions"),
        ({"positions": [0]}, "between 1 and"),
        ({"positions": [3, 3]}, "distinct"),
        ({"positions": [3], "chars": "ab"}, "2 target characters for 1 positions"),
        ({"positions": [3, 4], "chars": "\r\n"}, "1 target characters for 2 positions"),  # "\r\n" is one "\n"
        ({"mode": "half"}, "unknown ablation mode"),
        ({"precision": "int8"}, "unknown precision"),
        ({"batch": 0}, "batch must be"),
    ],
)
def test_bad_targets_and_options_get_a_one_line_error(tiny_model, kwargs, message):
    kwargs = {"text": TEXT, **kwargs}
    with pytest.raises(ValueError, match=message):
        ablation_ranking(tiny_model, **kwargs)
