"""trace_batch: several texts traced as one batch give each text exactly its own trace."""

import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_viz import CharLSTM, Config, Vocab
from lstm_viz.core import batch
from lstm_viz.core.batch import groups, spans, trace_batch
from lstm_viz.core.threads import torch_threads

TEXTS = [
    'the cat said "hello (there)"\nand ran.\n',
    "a",
    "",
    "dogs ran over hills " * 7,
    "a 😀 漢字 \x00 \ud800\tb\r\nc",
    "a",
]


def assert_same_trace(batched, single):
    assert batched.text == single.text
    np.testing.assert_array_equal(batched.ids, single.ids)
    for name in ("cell", "hidden", "log_probs"):
        got, want = getattr(batched, name), getattr(single, name)
        assert got.shape == want.shape and got.dtype == want.dtype, name
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=name)
    for got, want in zip(batched.initial + batched.final, single.initial + single.final):
        np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(batched.loss_per_char, single.loss_per_char, atol=1e-5)
    assert batched.interventions == ()


def test_each_text_of_a_batch_gets_its_own_single_trace(tiny_model):
    for batched, text in zip(trace_batch(tiny_model, TEXTS), TEXTS):
        assert_same_trace(batched, tiny_model.trace(text))


def test_a_batched_trace_works_like_any_trace(tiny_model):
    tr = trace_batch(tiny_model, TEXTS)[0]
    single = tiny_model.trace(TEXTS[0])
    np.testing.assert_allclose(tr.gate("forget", 1), single.gate("forget", 1), atol=1e-5)
    np.testing.assert_allclose(tr.contributions(0, 3, 20), single.contributions(0, 3, 20), atol=1e-5)
    (got_chars, got_p), (want_chars, want_p) = zip(*tr.top_k(5)), zip(*single.top_k(5))
    assert got_chars == want_chars and got_p == pytest.approx(want_p, abs=1e-5)


def test_the_state_after_a_batched_text_continues_it_as_a_single_trace_does(tiny_model):
    short, long = trace_batch(tiny_model, ["the cat", "the cat sat on a mat"])
    np.testing.assert_allclose(short.final[1], tiny_model.trace("the cat").final[1], atol=1e-5)
    rest = tiny_model.trace(" sat on a mat", state=short.final)
    np.testing.assert_allclose(rest.cell, long.cell[:, len("the cat") :], atol=1e-5)


@torch.no_grad()
def test_cells_whose_output_gate_underflows_are_exact_in_a_batch_too():
    torch.manual_seed(1)
    vocab = Vocab(sorted(set(TEXTS[0])))
    model = CharLSTM(Config(len(vocab), layers=2, hidden=8, embed=4), vocab).eval()
    model.lstm.bias_ih_l0[3 * 8 : 3 * 8 + 3] = -200.0  # o_t = 0 for three cells: h_t / o_t is undefined
    for batched, text in zip(trace_batch(model, TEXTS[:2] + TEXTS[3:4]), TEXTS[:2] + TEXTS[3:4]):
        assert np.isfinite(batched.cell).all()
        assert_same_trace(batched, model.trace(text))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet='abc (")\n.xyz', max_size=60), min_size=1, max_size=6))
def test_any_batch_equals_its_single_traces(tiny_model, texts):
    for batched, text in zip(trace_batch(tiny_model, texts), texts):
        assert_same_trace(batched, tiny_model.trace(text))


def test_spans_cut_the_steps_where_a_text_ends_and_every_chunk():
    assert spans([7, 7, 3]) == [(0, 3, 3), (3, 7, 2)]
    assert spans([7, 3], chunk=2) == [(0, 2, 2), (2, 3, 2), (3, 4, 1), (4, 6, 1), (6, 7, 1)]


def test_groups_share_out_the_characters_about_evenly():
    lengths = [100, 90, 50, 40, 30, 5]
    parts = groups(lengths, 2)
    assert sorted(b for part in parts for b in part) == list(range(6))
    loads = [sum(lengths[b] for b in part) for part in parts]
    assert abs(loads[0] - loads[1]) <= 30  # within the smallest text but one of even
    assert groups([4], 3) == [[0]]  # no empty groups


@pytest.fixture
def three_layers():
    torch.manual_seed(2)
    vocab = Vocab(sorted(set("".join(TEXTS[:2]) + "dogs ran ovehil")))
    return CharLSTM(Config(len(vocab), layers=3, hidden=16, embed=4), vocab).eval()


@pytest.mark.parametrize("texts", [TEXTS[3:4], TEXTS[:4], TEXTS * 3], ids=["one text", "four", "eighteen"])
def test_workers_give_the_traces_of_one_thread(three_layers, texts, monkeypatch):
    monkeypatch.setattr(batch, "CHUNK", 16)  # so that the pipeline hands on several chunks
    monkeypatch.setattr(batch, "GROUP", 3)  # and eighteen texts are cut into groups
    long = [t * 3 for t in texts]  # more steps than a chunk
    with torch_threads(1):
        alone = trace_batch(three_layers, long)
    for workers in (2, 3, 5):
        for got, want, text in zip(trace_batch(three_layers, long, workers), alone, long):
            assert_same_trace(got, want)
            assert_same_trace(got, three_layers.trace(text))


def test_a_failing_layer_in_a_pipeline_raises_in_the_caller_and_leaves_no_thread_waiting(tiny_model, monkeypatch):
    run = batch.Layers.run

    def fails_above(self, layer, *span):
        if layer == 1:
            raise RuntimeError("out of memory")
        return run(self, layer, *span)

    monkeypatch.setattr(batch.Layers, "run", fails_above)
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="out of memory"):
        trace_batch(tiny_model, [TEXTS[3]], workers=2)
    assert threading.active_count() == before
