"""Clamp and Scale: the intervened run is the step-by-step reference with the edit applied."""

import copy

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz import Clamp, Scale
from lstm_viz.core import reference

TEXT = 'the cat said "hello (there)" [quickly]\nand ran.\n'
REFERENCE = 1e-5  # the fast paths against the step-by-step reference: float32 sums in another order, over ~50 steps
RECOMPUTED = 1e-6  # one float32 value computed twice by different code paths (a fused-kernel call over a
# shorter segment, another BLAS blocking or another CPU): a few units in the last place, 3e-8 seen on AMD EPYC


@torch.no_grad()
def test_the_reference_step_is_torchs_lstm_cell(tiny_model):
    w_ih, w_hh, b_ih, b_hh = tiny_model.layer_weights(0)
    cell = torch.nn.LSTMCell(8, 24)
    cell.load_state_dict({"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh})
    x, h, c = torch.randn(3, 8), torch.randn(3, 24), torch.randn(3, 24)
    got_h, got_c, _ = reference.step(x @ w_ih.T + b_ih + b_hh, h, c, w_hh)
    want_h, want_c = cell(x, (h, c))
    np.testing.assert_allclose(got_h, want_h, atol=RECOMPUTED)
    np.testing.assert_allclose(got_c, want_c, atol=RECOMPUTED)


@pytest.mark.parametrize(
    "interventions",
    [
        [Clamp(0, [3, 5], 2.5, 10, 20)],
        [Scale(1, 7, 0.0)],
        [Clamp(1, range(24), -1.0, 0, 1), Scale(0, 2, 3.0, 40)],
        [Clamp(0, 3, 0.7, 15, 30), Scale(0, 3, -1.5, 25, 35), Scale(1, [1, 2], 0.5, 5, 6)],
    ],
)
def test_clamp_and_scale_match_the_step_by_step_reference(tiny_model, interventions):
    tr = tiny_model.trace(TEXT, interventions=interventions)
    ref = reference.run(tiny_model, TEXT, interventions)
    np.testing.assert_allclose(tr.cell, ref["cell"], atol=REFERENCE)
    np.testing.assert_allclose(tr.hidden, ref["hidden"], atol=REFERENCE)
    np.testing.assert_allclose(tr.log_probs, ref["log_probs"], atol=REFERENCE)
    np.testing.assert_allclose(tr.final[1], ref["c"][:, -1], rtol=1e-6, atol=REFERENCE)
    assert tr.interventions == tuple(interventions)


def test_a_clamp_holds_the_cell_and_leaves_earlier_characters_alone(tiny_model):
    plain = tiny_model.trace(TEXT)
    tr = tiny_model.trace(TEXT, interventions=[Clamp(0, 4, 2.0, 12, 18)])
    np.testing.assert_allclose(tr.cell[0, 12:18, 4], np.tanh(2.0), atol=RECOMPUTED)
    # the steps before the clamp run through the fused kernel over 12 steps instead of the whole text
    np.testing.assert_allclose(tr.cell[:, :12], plain.cell[:, :12], rtol=0, atol=RECOMPUTED)
    assert np.abs(tr.log_probs[12:] - plain.log_probs[12:]).max() > 1e-4


def test_without_interventions_the_trace_is_the_plain_one(tiny_model):
    # bit for bit: with no edits the very same calls run (`fused_layer` on every layer)
    np.testing.assert_array_equal(tiny_model.trace(TEXT, interventions=[]).cell, tiny_model.trace(TEXT).cell)


def test_a_base_trace_lends_its_lower_layers_without_changing_the_result(tiny_model):
    ivs = [Scale(1, [0, 9], 0.0, 3)]
    plain = tiny_model.trace(TEXT)
    np.testing.assert_allclose(
        tiny_model.trace(TEXT, interventions=ivs, base=plain).log_probs,
        tiny_model.trace(TEXT, interventions=ivs).log_probs,
        atol=RECOMPUTED,
    )


def test_effect_compares_next_char_predictions_character_by_character(tiny_model):
    ivs = [Clamp(1, range(24), 3.0, 30)]
    eff = lstm_viz.effect(tiny_model, TEXT, ivs)
    plain = reference.run(tiny_model, TEXT)["log_probs"].astype(np.float64)  # (T, V)
    clamped = reference.run(tiny_model, TEXT, ivs)["log_probs"].astype(np.float64)
    t, nxt = np.arange(len(TEXT) - 1), tiny_model.vocab.encode(TEXT)[1:]
    np.testing.assert_allclose(eff.delta[:-1], clamped[t, nxt] - plain[t, nxt], rtol=0, atol=REFERENCE)
    np.testing.assert_allclose(eff.kl, (np.exp(plain) * (plain - clamped)).sum(axis=1), rtol=1e-4, atol=REFERENCE)
    assert (
        np.abs(eff.delta[:30]).max() <= RECOMPUTED and np.abs(eff.kl[:30]).max() <= RECOMPUTED
    )  # nothing before the clamp
    assert eff.kl[30:].min() > 1e-3 and np.abs(eff.delta[30:-1]).max() > 0.1 and np.isnan(eff.delta[-1])
    before, after = eff.top_k(35)
    assert before == eff.before.top_k(35) and after == eff.after.top_k(35) and before != after


def test_sampling_with_the_same_seed_differs_only_through_the_intervention(tiny_model):
    plain = tiny_model.sample("the ", 60, temperature=1.0, seed=3)
    # the scale by 1 is stepped by hand and the plain run is not: the same draws give the same characters
    # unless one falls within ~1e-7 of a boundary of the cumulative distribution (odds of ~1e-4 in 60 draws)
    assert tiny_model.sample("the ", 60, temperature=1.0, seed=3, interventions=[Scale(0, 1, 1.0)]) == plain
    changed = tiny_model.sample("the ", 60, temperature=1.0, seed=3, interventions=[Clamp(1, range(24), 5.0, 30)])
    assert changed[:26] == plain[:26] and changed != plain  # positions count from the prime's first character


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Clamp(2, 0, 1.0), "unknown layer 2"),
        (lambda: Clamp(0, [1, 24], 1.0), "unknown cell 24"),
        (lambda: Scale(0, 1, 0.5, 5, 5), "empty or negative span"),
        (lambda: Scale(0, 1, 0.5, 100), "starts after the text ends"),
        (lambda: Clamp(0, 1, float("nan")), "clamp value must be a finite number"),
        (lambda: Scale(0, 1, float("inf")), "scale factor must be a finite number"),
        (lambda: Clamp(0, [], 1.0), "at least one cell"),
        (lambda: Clamp(0, 1.5, 1.0), "whole numbers"),
    ],
)
def test_bad_interventions_get_a_one_line_error(tiny_model, make, message):
    with pytest.raises(ValueError, match=message) as err:
        tiny_model.trace(TEXT, interventions=[make()])
    assert "\n" not in str(err.value)


def test_sampling_refuses_an_intervention_outside_the_model(tiny_model):
    with pytest.raises(ValueError, match="unknown layer"):
        tiny_model.sample("the ", 10, interventions=[Clamp(5, 0, 1.0)])


def test_a_base_of_the_same_weights_is_reused_and_any_other_base_is_refused(tiny_model):
    ivs = [Scale(1, [0, 9], 0.0, 3)]
    want = tiny_model.trace(TEXT, interventions=ivs)
    twin = copy.deepcopy(tiny_model)  # another object, the same weights
    np.testing.assert_array_equal(tiny_model.trace(TEXT, interventions=ivs, base=twin.trace(TEXT)).cell, want.cell)
    with torch.no_grad():
        twin.lstm.weight_hh_l0[0, 0] += 0.5  # layer 0 is the one the base would lend
    bases = {
        "another model": twin.trace(TEXT),
        "interventions of its own": tiny_model.trace(TEXT, interventions=[Clamp(0, 1, 1.0)]),
        "another text": tiny_model.trace(TEXT[:-1]),
        "another state": tiny_model.trace(TEXT, state=tiny_model.trace("abc").final),
    }
    for reason, base in bases.items():
        with pytest.raises(ValueError, match=reason):
            tiny_model.trace(TEXT, interventions=ivs, base=base)
    with pytest.raises(ValueError, match="another model"):
        lstm_viz.effect(tiny_model, TEXT, ivs, base=bases["another model"])


def test_sampling_applies_no_dropout_and_leaves_the_training_mode_alone():
    torch.manual_seed(1)
    vocab = lstm_viz.Vocab(sorted(set("abcdefgh \n")))
    model = lstm_viz.CharLSTM(lstm_viz.Config(len(vocab), layers=2, hidden=16, embed=8, dropout=0.5), vocab).train()
    ivs = [Scale(0, 3, 2.0, 2)]
    in_training = model.sample("abc", 40, seed=2), model.sample("abc", 40, seed=2, interventions=ivs)
    assert model.training
    model.eval()
    assert (model.sample("abc", 40, seed=2), model.sample("abc", 40, seed=2, interventions=ivs)) == in_training
    assert not model.training


# A GRU's and a vanilla RNN's memory is h_t: the same edits act on h ---------------------------------------

H_EDITS = [
    [Clamp(0, [3, 5], 0.5, 10, 20)],  # held: one step by hand, then the fused kernel with h's share in the bias
    [Scale(1, 7, 0.0)],
    [Clamp(1, range(24), -1.0, 0, 1), Scale(0, 2, 3.0, 40)],
    [Clamp(0, 3, 0.7, 15, 30), Scale(0, 3, -1.5, 25, 35), Scale(1, [1, 2], 0.5, 5, 6)],
    [Clamp(0, [1, 4], 2.0, 8), Scale(0, 6, 0.0, 8)],  # two cells held over the same segment, one at 0
]


@pytest.mark.parametrize("kind", ["gru", "rnn"])
@torch.no_grad()
def test_the_reference_gru_and_rnn_steps_are_torchs_cells(kind, request):
    model = request.getfixturevalue(f"tiny_{kind}")
    w_ih, w_hh, b_ih, b_hh = model.layer_weights(0)
    cell = torch.nn.GRUCell(8, 24) if kind == "gru" else torch.nn.RNNCell(8, 24)
    cell.load_state_dict({"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh})
    x, h = torch.randn(3, 8), torch.randn(3, 24)
    xw = x @ w_ih.T + reference.input_bias(kind, b_ih, b_hh)
    got = reference.gru_step(xw, h, w_hh, b_hh)[0] if kind == "gru" else reference.rnn_step(xw, h, w_hh)
    np.testing.assert_allclose(got, cell(x, h), atol=RECOMPUTED)
    edited = reference.layer_step(kind, xw, h, None, (w_ih, w_hh, b_ih, b_hh), Clamp(0, [2], 0.25).apply)[0]
    want = cell(x, h)
    want[:, 2] = 0.25
    np.testing.assert_allclose(edited, want, atol=RECOMPUTED)


@pytest.mark.parametrize("kind", ["gru", "rnn"])
@pytest.mark.parametrize("interventions", H_EDITS)
def test_a_grus_or_rnns_edits_of_h_match_the_written_out_steps(kind, interventions, request):
    model = request.getfixturevalue(f"tiny_{kind}")
    tr = model.trace(TEXT, interventions=interventions)
    ref = reference.run(model, TEXT, interventions)
    np.testing.assert_allclose(tr.hidden, ref["hidden"], atol=REFERENCE)
    np.testing.assert_allclose(tr.log_probs, ref["log_probs"], atol=REFERENCE)
    np.testing.assert_allclose(tr.final[0], ref["hidden"][:, -1], atol=REFERENCE)
    assert tr.memory is tr.cell and tr.interventions == tuple(interventions)
    if kind == "gru":  # the gates read the edited h_{t-1}
        for layer in range(2):
            gates = tr.gates(tr.gate_names, layer)
            for g, name in enumerate(tr.gate_names):
                np.testing.assert_allclose(gates[name], ref["gates"][layer, g], atol=REFERENCE)


@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_a_clamp_of_h_holds_it_the_layer_above_reads_it_and_earlier_characters_stay(kind, request):
    model = request.getfixturevalue(f"tiny_{kind}")
    plain = model.trace(TEXT)
    tr = model.trace(TEXT, interventions=[Clamp(0, 4, 0.9, 12, 18)])
    assert (tr.hidden[0, 12:18, 4] == np.float32(0.9)).all() and (tr.memory[0, 12:18, 4] == np.float32(0.9)).all()
    np.testing.assert_allclose(tr.hidden[:, :12], plain.hidden[:, :12], rtol=0, atol=RECOMPUTED)
    assert np.abs(tr.hidden[1, 12:] - plain.hidden[1, 12:]).max() > 1e-3  # layer 1 reads the clamped h
    np.testing.assert_array_equal(tr.raw_memory(0), tr.hidden[0])
    ivs = [Scale(1, [0, 9], 0.0, 3)]  # a base lends layer 0, which the edit of layer 1 cannot change
    np.testing.assert_allclose(
        model.trace(TEXT, interventions=ivs, base=plain).log_probs,
        model.trace(TEXT, interventions=ivs).log_probs,
        atol=RECOMPUTED,
    )


@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_effect_and_sampling_of_a_gru_or_rnn_follow_the_edited_h(kind, request):
    model = request.getfixturevalue(f"tiny_{kind}")
    ivs = [Clamp(1, range(24), 0.8, 30)]
    eff = lstm_viz.effect(model, TEXT, ivs)
    plain = reference.run(model, TEXT)["log_probs"].astype(np.float64)
    clamped = reference.run(model, TEXT, ivs)["log_probs"].astype(np.float64)
    t, nxt = np.arange(len(TEXT) - 1), model.vocab.encode(TEXT)[1:]
    np.testing.assert_allclose(eff.delta[:-1], clamped[t, nxt] - plain[t, nxt], rtol=0, atol=REFERENCE)
    assert np.abs(eff.delta[:30]).max() <= RECOMPUTED and eff.kl[30:].min() > 1e-3
    base = model.sample("the ", 60, temperature=1.0, seed=3)
    assert model.sample("the ", 60, temperature=1.0, seed=3, interventions=[Scale(0, 1, 1.0)]) == base
    changed = model.sample("the ", 60, temperature=1.0, seed=3, interventions=[Clamp(1, range(24), 0.9, 30)])
    assert changed[:26] == base[:26] and changed != base


@pytest.mark.parametrize("kind", ["gru", "rnn"])
@torch.no_grad()
def test_sampling_a_gru_or_rnn_with_an_edit_steps_the_written_out_reference(kind, request):
    model = request.getfixturevalue(f"tiny_{kind}")
    ivs = [Clamp(0, [2, 3], -0.6, 2, 9)]
    text = "th" + model.sample("th", 12, temperature=0.5, seed=1, interventions=ivs)
    ref = reference.run(model, text, ivs)["log_probs"]  # the whole generated text, stepped by hand with the edit
    again = model.trace(text, interventions=ivs).log_probs
    np.testing.assert_allclose(again, ref, atol=REFERENCE)
    gen = torch.Generator().manual_seed(1)
    for k in range(1, len(text) - 1):  # every character drawn from the edited run's distribution
        logits = torch.from_numpy(ref[k]) / 0.5
        logits[0] = -float("inf")
        assert int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen)) == model.vocab.encode(text[k + 1])[0]
