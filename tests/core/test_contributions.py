"""Trace.contributions: the additive cell update split into what each character wrote."""

import numpy as np
import pytest

from lstm_viz import Clamp, Scale
from lstm_viz.core import reference

TEXT = 'the cat said "hello (there)" [quickly]\nand ran.\n'


def test_contributions_sum_to_the_raw_cell_state_of_the_reference(tiny_model):
    tr = tiny_model.trace(TEXT)
    c = reference.run(tiny_model, TEXT)["c"]  # (L, T, H)
    for layer in range(2):
        for t in (0, 7, len(TEXT) - 1):
            for cell in range(24):
                parts = tr.contributions(layer, cell, t)
                assert parts.shape == (t + 1,)
                assert parts.sum() == pytest.approx(c[layer, t, cell], abs=1e-5)


def test_each_entry_is_what_that_character_wrote_times_what_was_kept_since(tiny_model):
    tr = tiny_model.trace(TEXT)
    g = tr.gates(["input", "forget", "candidate"], 1, [5], 0, 11)
    parts = tr.contributions(1, 5, 10)
    assert parts[4] == pytest.approx(g["input"][4, 0] * g["candidate"][4, 0] * np.prod(g["forget"][5:, 0]), rel=1e-5)
    assert parts[10] == pytest.approx(g["input"][10, 0] * g["candidate"][10, 0], rel=1e-5)


def test_a_carried_initial_state_is_counted_at_the_first_character(tiny_model):
    text = TEXT * 3
    _, second = list(tiny_model.trace_chunks(text, chunk=len(TEXT)))[1]
    whole = reference.run(tiny_model, text)["c"]
    parts = second.contributions(0, 3, 9)
    assert parts.sum() == pytest.approx(whole[0, len(TEXT) + 9, 3], abs=1e-5)


def test_interventions_count_as_written_where_they_act(tiny_model):
    ivs = [Clamp(0, 3, 0.7, 15, 20), Scale(0, 3, -1.5, 18, 30)]
    tr = tiny_model.trace(TEXT, interventions=ivs)
    c = reference.run(tiny_model, TEXT, ivs)["c"]
    for t in (16, 19, 25, 40):
        parts = tr.contributions(0, 3, t)
        assert parts.sum() == pytest.approx(c[0, t, 3], abs=1e-5)
        assert np.all(parts[:15] == 0)  # the clamp erased everything written before it


@pytest.mark.parametrize(
    "args, message",
    [
        ((2, 0, 3), "no cell 0 in layer 2"),
        ((0, 24, 3), "no cell 24"),
        ((0, 0, len(TEXT)), "outside the text"),
        ((0, 0, -1), "outside the text"),
    ],
)
def test_contributions_refuse_unknown_cells_and_positions(tiny_model, args, message):
    with pytest.raises(ValueError, match=message):
        tiny_model.trace(TEXT).contributions(*args)
