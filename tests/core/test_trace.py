"""model.trace(text): exact, complete, in range, and lean."""

import copy
import subprocess
import sys

import numpy as np
import pytest
import torch

from lstm_viz import CharLSTM, Clamp, Config, Scale, Vocab
from lstm_viz.core.kernel import GATES, float32_matmuls
from lstm_viz.core.reference import run as run_reference

TEXT = 'the cat said "hello (there)" [quickly]\nand ran.\n'
HOSTILE = "a 😀 漢字 שלום é \x00\x07 \ud800\tb\r\nc"


def reference(model, text):
    """tanh(c) and h (L, T, H) and the gates (L, T, 4, H) of the step-by-step reference, `lstm_viz.core.reference`."""
    ref = run_reference(model, text)
    return ref["cell"], ref["hidden"], ref["gates"].transpose(0, 2, 1, 3)


def test_shapes_cover_every_layer_character_and_cell(tiny_model):
    tr = tiny_model.trace(TEXT)
    assert tr.shape == (2, len(TEXT), 24)
    assert tr.hidden.shape == tr.cell.shape and tr.cell.dtype == np.float32
    assert tr.log_probs.shape == (len(TEXT), len(tiny_model.vocab))


@torch.no_grad()
def test_hidden_and_last_cell_match_the_plain_lstm_forward(tiny_model):
    tr = tiny_model.trace(TEXT)
    ids = torch.as_tensor(tr.ids)[None]
    out, (h_n, c_n) = tiny_model.lstm(tiny_model.embedding(ids))
    np.testing.assert_allclose(tr.hidden[-1], out[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(tr.hidden[:, -1], h_n[:, 0].numpy(), atol=1e-5)
    np.testing.assert_allclose(tr.cell[:, -1], np.tanh(c_n[:, 0].numpy()), atol=1e-5)
    np.testing.assert_allclose(tr.final[1], c_n[:, 0].numpy(), atol=1e-5)


@torch.no_grad()
def test_every_cell_and_gate_matches_a_step_by_step_reference(tiny_model):
    tr = tiny_model.trace(TEXT)
    cell, hidden, gates = reference(tiny_model, TEXT)
    np.testing.assert_allclose(tr.cell, cell, atol=1e-5)
    np.testing.assert_allclose(tr.hidden, hidden, atol=1e-5)
    for layer in range(2):
        for k, name in enumerate(GATES):
            np.testing.assert_allclose(tr.gate(name, layer), gates[layer, :, k], atol=1e-5)


@torch.no_grad()
def test_cells_whose_output_gate_underflows_are_still_exact():
    torch.manual_seed(1)
    vocab = Vocab(sorted(set(TEXT)))
    model = CharLSTM(Config(len(vocab), layers=2, hidden=8, embed=4), vocab).eval()
    model.lstm.bias_ih_l0[3 * 8 : 3 * 8 + 3] = -200.0  # o_t = 0 for three cells: h_t / o_t is undefined
    tr = model.trace(TEXT)
    cell, _, _ = reference(model, TEXT)
    assert np.isfinite(tr.cell).all()
    np.testing.assert_allclose(tr.cell, cell, atol=1e-5)


def test_values_stay_in_their_ranges(tiny_model):
    tr = tiny_model.trace(TEXT * 5)
    assert np.abs(tr.cell).max() <= 1 and np.abs(tr.hidden).max() <= 1
    for layer in range(2):
        for name in ("input", "forget", "output"):
            g = tr.gate(name, layer)
            assert g.min() >= 0 and g.max() <= 1
        assert np.abs(tr.gate("candidate", layer)).max() <= 1
    np.testing.assert_allclose(np.exp(tr.log_probs).sum(1), 1, atol=1e-5)


def test_gates_of_chosen_cells_and_steps_match_the_whole_layer(tiny_model):
    tr = tiny_model.trace(TEXT)
    cells = [3, 23]
    for layer in range(2):
        for name in GATES:
            whole = tr.gate(name, layer)
            np.testing.assert_allclose(tr.gate(name, layer, cells, 10, 30), whole[10:30][:, cells], atol=2e-6)
            np.testing.assert_allclose(tr.gate(name, layer, cells, 0, 5), whole[:5][:, cells], atol=2e-6)
        both = tr.gates(["input", "output"], layer, cells)
        np.testing.assert_allclose(both["output"], tr.gate("output", layer)[:, cells], atol=2e-6)


def test_unknown_gate_name_is_refused(tiny_model):
    with pytest.raises(ValueError, match="unknown gate"):
        tiny_model.trace("ab").gate("forgot", 0)


def test_top_k_lists_the_likeliest_next_characters(tiny_model):
    tr = tiny_model.trace(TEXT)
    top = tr.top_k(3, k=5)
    assert len(top) == 5
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True)
    assert probs[0] == pytest.approx(tr.probs(3).max())
    assert top[0][0] == tiny_model.vocab.symbol(int(np.argmax(tr.probs(3))))


@torch.no_grad()
def test_loss_per_char_is_the_cross_entropy_of_the_next_known_character(tiny_model):
    text = "ab~c"  # "~" is outside the alphabet
    tr = tiny_model.trace(text)
    logits, _ = tiny_model(torch.as_tensor(tr.ids)[None])
    expected = torch.nn.functional.cross_entropy(logits[0, :1], torch.as_tensor(tr.ids[1:2])).item()
    assert tr.loss_per_char[0] == pytest.approx(expected, abs=1e-5)
    assert np.isnan(tr.loss_per_char[1])  # the next character is unknown
    assert np.isnan(tr.loss_per_char[-1])  # nothing follows the last one
    assert tr.bits_per_char == pytest.approx(np.nanmean(tr.loss_per_char) / np.log(2))


def test_unknown_and_hostile_characters_are_traced_and_flagged(tiny_model):
    tr = tiny_model.trace(HOSTILE)
    assert tr.text == HOSTILE.replace("\r\n", "\n")
    assert len(tr.unknown) == len(tr.text)
    assert tr.unknown[tr.text.index("😀")] and tr.unknown[tr.text.index("\ud800")]
    assert not tr.unknown[0]
    assert np.isfinite(tr.cell).all()


def test_empty_and_single_character_texts(tiny_model):
    assert tiny_model.trace("").shape == (2, 0, 24)
    tr = tiny_model.trace("a")
    assert tr.shape == (2, 1, 24) and np.isnan(tr.loss_per_char[0])


def test_long_texts_trace_in_chunks_that_join_up_exactly(tiny_model):
    text = TEXT * 20
    whole = tiny_model.trace(text)
    pieces = list(tiny_model.trace_chunks(text, chunk=97))
    assert [start for start, _ in pieces] == list(range(0, len(text), 97))
    np.testing.assert_allclose(np.concatenate([p.cell for _, p in pieces], axis=1), whole.cell, atol=1e-5)
    np.testing.assert_allclose(pieces[1][1].gate("forget", 1), whole.gate("forget", 1)[97:194], atol=1e-5)


@torch.no_grad()
def test_a_batch_of_equally_long_texts_traces_as_each_text_alone(tiny_model):
    texts = [TEXT[k:] + TEXT[:k] for k in (0, 7, 19)]
    for alone, together in zip([tiny_model.trace(t) for t in texts], tiny_model.trace_batch(texts)):
        assert together.text == alone.text and np.array_equal(together.ids, alone.ids)
        np.testing.assert_allclose(together.cell, alone.cell, atol=1e-5)
        np.testing.assert_allclose(together.hidden, alone.hidden, atol=1e-5)
        np.testing.assert_allclose(together.log_probs, alone.log_probs, atol=1e-4)
        for a, b in zip(together.final + together.initial, alone.final + alone.initial):
            np.testing.assert_allclose(a, b, atol=1e-5)


@torch.no_grad()
def test_a_batch_recovers_cells_whose_output_gate_underflows():
    torch.manual_seed(1)
    vocab = Vocab(sorted(set(TEXT)))
    model = CharLSTM(Config(len(vocab), layers=2, hidden=8, embed=4), vocab).eval()
    model.lstm.bias_ih_l1[3 * 8 : 3 * 8 + 3] = -200.0  # o_t = 0 for three cells of layer 1
    texts = [TEXT, TEXT[::-1]]
    for text, tr in zip(texts, model.trace_batch(texts)):
        assert np.isfinite(tr.cell).all()
        np.testing.assert_allclose(tr.cell, reference(model, text)[0], atol=1e-5)


def test_a_batch_of_no_texts_or_of_empty_texts_is_traced_too(tiny_model):
    assert tiny_model.trace_batch([]) == []
    assert [tr.shape for tr in tiny_model.trace_batch(["", ""])] == [(2, 0, 24)] * 2


@pytest.mark.slow
def test_a_10k_trace_of_a_2x512_model_stays_under_100_mb():
    vocab = Vocab(sorted(set(TEXT)))
    model = CharLSTM(Config(len(vocab), layers=2, hidden=512, embed=64), vocab).eval()
    tr = model.trace((TEXT * 300)[:10_000])
    arrays = [
        tr.cell,
        tr.hidden,
        tr.log_probs,
        tr.ids,
        tr.embedding,
        *tr.initial,
        *tr.final,
        *(w for ws in tr.weights for w in ws),
    ]
    assert sum(a.nbytes for a in arrays) < 100e6


def test_sampling_is_reproducible_for_a_seed(tiny_model):
    a = tiny_model.sample("the ", 50, temperature=1.0, seed=3)
    assert a == tiny_model.sample("the ", 50, temperature=1.0, seed=3)
    assert a != tiny_model.sample("the ", 50, temperature=1.0, seed=4)
    assert len(a) == 50 and "\ufffd" not in a


def test_signal_gives_cell_hidden_and_every_gate_for_chosen_cells_and_steps(tiny_model):
    tr = tiny_model.trace(TEXT)
    cells = [2, 0]
    np.testing.assert_array_equal(tr.signal("cell", 1, cells, 2, 7), tr.cell[1, 2:7][:, cells])
    np.testing.assert_array_equal(tr.signal("hidden", 0), tr.hidden[0])
    for gate in GATES:
        got = tr.signal(gate, 1, cells, 2, 7)
        assert got.dtype == np.float32 and got.shape == (5, 2)
        np.testing.assert_allclose(got, tr.gate(gate, 1, cells, 2, 7), atol=1e-7)


def test_signal_refuses_an_unknown_name(tiny_model):
    with pytest.raises(ValueError, match="unknown signal 'cells'"):
        tiny_model.trace("ab").signal("cells", 0)


def test_top_k_ids_ranks_every_position_at_once_as_top_k_does(tiny_model):
    tr = tiny_model.trace(TEXT)
    ids, probs = tr.top_k_ids(3)
    assert ids.shape == probs.shape == (len(TEXT), 3)
    for t in range(len(TEXT)):
        assert [(tiny_model.vocab.symbol(int(i)), float(p)) for i, p in zip(ids[t], probs[t])] == tr.top_k(t, 3)
    ids_part, _ = tr.top_k_ids(3, 4, 9)
    np.testing.assert_array_equal(ids_part, ids[4:9])


def test_raw_cells_are_the_reference_cell_states_before_tanh(tiny_model):
    tr = tiny_model.trace(TEXT)
    c = run_reference(tiny_model, TEXT)["c"]  # (L, T, H)
    for layer in range(2):
        np.testing.assert_allclose(tr.raw_cells(layer), c[layer], atol=1e-5)
    _, piece = list(tiny_model.trace_chunks(TEXT, chunk=20))[1]  # from a carried state
    np.testing.assert_allclose(piece.raw_cells(1), c[1, 20:40], atol=1e-5)
    edits = [Clamp(0, [3, 5], 2.5, 10, 20), Scale(0, 5, -0.5, 15, 30), Scale(1, 7, 0.0, 4)]
    edited = tiny_model.trace(TEXT, interventions=edits)
    c = run_reference(tiny_model, TEXT, edits)["c"]
    for layer in range(2):
        np.testing.assert_allclose(edited.raw_cells(layer), c[layer], atol=1e-5)


def test_a_model_in_training_mode_traces_as_in_eval_mode():
    torch.manual_seed(3)
    vocab = Vocab(sorted(set(TEXT)))
    model = CharLSTM(Config(len(vocab), layers=2, hidden=16, embed=8, dropout=0.5), vocab).train()
    training = model.trace(TEXT)
    assert model.training
    evaluating = model.eval().trace(TEXT)
    np.testing.assert_array_equal(training.cell, evaluating.cell)  # the same code path: no dropout in a trace
    np.testing.assert_array_equal(training.log_probs, evaluating.log_probs)


def test_float32_matmuls_turn_tf32_off_inside_and_give_the_callers_settings_back():
    b = torch.backends
    saved = b.cudnn.allow_tf32, b.cuda.matmul.allow_tf32
    b.cudnn.allow_tf32 = b.cuda.matmul.allow_tf32 = True
    try:
        with pytest.raises(KeyError), float32_matmuls():
            assert not b.cudnn.allow_tf32 and not b.cuda.matmul.allow_tf32
            raise KeyError("an error inside")
        assert b.cudnn.allow_tf32 and b.cuda.matmul.allow_tf32
    finally:
        b.cudnn.allow_tf32, b.cuda.matmul.allow_tf32 = saved


@pytest.mark.slow
def test_float32_matmuls_keep_to_the_newer_precision_api_when_the_caller_used_it():
    code = (
        "import torch\n"
        "from lstm_viz.core.kernel import float32_matmuls\n"
        "b = torch.backends\n"
        "b.cudnn.rnn.fp32_precision = b.cuda.matmul.fp32_precision = 'tf32'\n"
        "with float32_matmuls():\n"
        "    print(b.cudnn.rnn.fp32_precision, b.cuda.matmul.fp32_precision)\n"
        "print(b.cudnn.rnn.fp32_precision, b.cuda.matmul.fp32_precision)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["ieee ieee", "tf32 tf32"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (the trace's float32 promise on CUDA)")
def test_on_cuda_the_trace_is_exact_even_where_the_caller_allows_tf32():
    torch.manual_seed(0)
    vocab = Vocab(sorted(set(TEXT)))
    cpu = CharLSTM(Config(len(vocab), layers=2, hidden=512, embed=64), vocab).eval()
    gpu = copy.deepcopy(cpu).cuda()
    text = TEXT * 10
    edits = [Clamp(1, [3, 7], 0.5, 40, 200), Scale(0, 2, 0.5, 5, 90)]
    b = torch.backends
    saved = b.cudnn.allow_tf32, b.cuda.matmul.allow_tf32
    b.cudnn.allow_tf32 = b.cuda.matmul.allow_tf32 = True  # the fast setting a user may have chosen
    try:
        plain, edited = gpu.trace(text), gpu.trace(text, interventions=edits)
        assert b.cudnn.allow_tf32 and b.cuda.matmul.allow_tf32  # given back
        assert len(gpu.sample("the ", 30, seed=1, interventions=edits)) == 30
    finally:
        b.cudnn.allow_tf32, b.cuda.matmul.allow_tf32 = saved
    for tr, ref in ((plain, run_reference(cpu, text)), (edited, run_reference(cpu, text, edits))):
        np.testing.assert_allclose(tr.cell, ref["cell"], atol=1e-5)
        np.testing.assert_allclose(tr.hidden, ref["hidden"], atol=1e-5)
        np.testing.assert_allclose(tr.log_probs, ref["log_probs"], atol=1e-5)
