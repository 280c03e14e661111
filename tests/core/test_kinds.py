"""Three kinds of model (LSTM, GRU, tanh RNN): built, trained, resumed and checkpointed alike."""

import json
import warnings

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import lstm_viz
from lstm_viz import CharLSTM, Config, Vocab
from lstm_viz.core import kernel
from lstm_viz.core.kernel import PLAIN, plain_layer
from lstm_viz.core.model import GATE_ROWS, KINDS, MODULES, detach_state
from lstm_viz.io import checkpoint
from lstm_viz.train.loop import TrainArgs, train

SMALL = dict(layers=2, hidden=16, embed=8, dropout=0.0, batch=4, seq_len=32, lr=3e-3, min_count=2)
VOCAB = Vocab(sorted(set("abcdefghijklmnopqrstuvwxyz .,\n")))


def model(kind: str, **kw) -> CharLSTM:
    torch.manual_seed(0)
    return CharLSTM(Config(len(VOCAB), layers=2, hidden=12, embed=6, kind=kind, **kw), VOCAB).eval()


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_built_on_its_torch_module_and_carries_its_state(kind):
    m = model(kind)
    assert type(m.recurrent) is {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    assert m.kind == kind and getattr(m, kind) is m.recurrent
    if kind == "rnn":
        assert m.recurrent.nonlinearity == "tanh"
    ids = torch.as_tensor(VOCAB.encode("the cat sat on the mat"))[None]
    whole, _ = m(ids)
    first, state = m(ids[:, :10])
    rest, _ = m(ids[:, 10:], detach_state(state))  # the state carried across windows, as training does
    torch.testing.assert_close(torch.cat([first, rest], 1), whole, rtol=0, atol=1e-6)
    assert isinstance(state, tuple) == (kind == "lstm")
    for w in m.layer_weights(1):
        assert w.shape[0] == GATE_ROWS[kind] * 12


def test_the_forget_bias_is_an_lstms_only():
    lstm, gru = model("lstm", forget_bias=1.0), model("gru", forget_bias=1.0)
    assert (lstm.lstm.bias_ih_l0[12:24] == 1).all()
    torch.manual_seed(0)
    plain = CharLSTM(Config(len(VOCAB), layers=2, hidden=12, embed=6, kind="gru", forget_bias=0.0), VOCAB)
    for a, b in zip(gru.parameters(), plain.parameters(), strict=True):
        assert torch.equal(a, b)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind 'transformer'"):
        model("transformer")
    with pytest.raises(ValueError, match="unknown --kind"):
        train(TrainArgs("x.txt", "out", kind="lstmx"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("storage", ["float32", "float16"])
def test_every_kind_round_trips_through_a_checkpoint(kind, storage, tmp_path):
    m = model(kind)
    checkpoint.save(m, tmp_path / kind, {"note": "test"}, storage)
    card = json.loads((tmp_path / kind / "card.json").read_text())
    assert card["kind"] == card["config"]["kind"] == kind
    shapes = checkpoint.shapes(m.config)
    assert shapes == {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert all(k.startswith((f"{kind}.", "embedding.", "head.")) for k in shapes)
    back = lstm_viz.load(tmp_path / kind)
    assert back.kind == kind and not back.training
    ids = torch.as_tensor(VOCAB.encode("a cat, a mat."))[None]
    want = m.to(torch.float16).float()(ids)[0] if storage == "float16" else m(ids)[0]
    torch.testing.assert_close(back(ids)[0], want, rtol=0, atol=1e-5)


def test_a_card_without_a_kind_is_an_lstm_and_a_card_cannot_lie_about_its_kind(tmp_path):
    checkpoint.save(model("lstm"), tmp_path / "old", {})
    card = json.loads((tmp_path / "old" / "card.json").read_text())
    del card["kind"], card["config"]["kind"]  # a card written before GRUs and RNNs
    (tmp_path / "old" / "card.json").write_text(json.dumps(card))
    assert lstm_viz.load(tmp_path / "old").kind == "lstm"
    checkpoint.save(model("gru"), tmp_path / "gru", {})
    card = json.loads((tmp_path / "gru" / "card.json").read_text())
    (tmp_path / "gru" / "card.json").write_text(json.dumps({**card, "config": {**card["config"], "kind": "lstm"}}))
    with pytest.raises(lstm_viz.CheckpointError, match="kind"):
        lstm_viz.load(tmp_path / "gru")  # the card says gru, its config lstm
    del card["kind"]
    (tmp_path / "gru" / "card.json").write_text(json.dumps({**card, "config": {**card["config"], "kind": "lstm"}}))
    with pytest.raises(lstm_viz.CheckpointError, match="missing"):
        lstm_viz.load(tmp_path / "gru")  # GRU weights under an LSTM's config
    (tmp_path / "gru" / "card.json").write_text(json.dumps({**card, "config": {**card["config"], "kind": "tree"}}))
    with pytest.raises(lstm_viz.CheckpointError, match="kind"):
        lstm_viz.load(tmp_path / "gru")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_each_kind_trains_and_a_run_stopped_mid_epoch_resumes_to_the_straight_runs_weights(kind, corpus_file, tmp_path):
    args = dict(SMALL, kind=kind, dropout=0.2, epochs=2, val_chars=2000)  # dropout: the RNG must be restored too
    if kind == "rnn":  # and the paper's recipe: RMSProp, weights drawn from [-0.08, 0.08]
        args.update(optimizer="rmsprop", init=0.08)
    budget = 40 * 4 * 32
    straight = train(TrainArgs(str(corpus_file), str(tmp_path / "straight"), max_chars=budget, **args), quiet=True)
    first = train(TrainArgs(str(corpus_file), str(tmp_path / "halves"), max_chars=budget // 2, **args), quiet=True)
    assert first["epochs"] == 0
    state = load_file(str(tmp_path / "halves" / "resume" / "rank0.safetensors"))
    assert "h" in state and "c" not in state  # the carried state is h alone
    resumed = train(
        TrainArgs(str(corpus_file), str(tmp_path / "halves"), max_chars=budget, resume=True, **args), quiet=True
    )
    assert resumed["history"][-1]["chars"] == straight["history"][-1]["chars"] >= budget
    assert resumed["history"][-1]["val"] < resumed["history"][0]["val"]
    a = load_file(str(tmp_path / "straight" / "resume" / "model.safetensors"))
    b = load_file(str(tmp_path / "halves" / "resume" / "model.safetensors"))
    assert a.keys() == b.keys() and any(k.startswith(f"{kind}.") for k in a)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6)
    assert lstm_viz.load(tmp_path / "halves").kind == kind


@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_sampling_a_gru_or_rnn_is_repeatable(kind):
    m = model(kind)
    text = m.sample("the ", 40, seed=3)
    assert len(text) == 40 and text == m.sample("the ", 40, seed=3)


# Traces of a GRU and an RNN: exact against nn.GRU / nn.RNN and against the written-out step ------------

TEXT = 'he said, "the cat sat on the mat."\nand the dogs ran over hills.'


@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_a_trace_is_the_torch_modules_output_and_the_written_out_steps(kind):
    from lstm_viz.core import reference

    m = model(kind)
    with torch.no_grad():  # bigger weights than the init, so that gates and states saturate somewhere
        for p in m.recurrent.parameters():
            p.mul_(3)
    tr = m.trace(TEXT)
    ids = torch.as_tensor(tr.ids)[None]
    with torch.no_grad():
        out, h_n = m.recurrent(m.embedding(ids))
        logits, _ = m(ids)
    np_close = dict(rtol=0, atol=1e-5)
    torch.testing.assert_close(torch.from_numpy(tr.hidden[-1]), out[0], **np_close)
    torch.testing.assert_close(torch.from_numpy(tr.final[0]), h_n[:, 0], **np_close)
    torch.testing.assert_close(torch.from_numpy(tr.log_probs), torch.log_softmax(logits[0], -1), **np_close)
    ref = reference.run(m, TEXT)
    torch.testing.assert_close(torch.from_numpy(tr.hidden), torch.from_numpy(ref["hidden"]), **np_close)
    assert tr.kind == kind and tr.memory is tr.cell and np.array_equal(tr.cell, tr.hidden)
    assert tr.signals == ("cell", "hidden") + tr.gate_names
    np.testing.assert_array_equal(tr.signal("memory", 1, [2, 5]), tr.hidden[1][:, [2, 5]])
    if kind == "gru":
        assert tr.gate_names == ("reset", "update", "candidate") and ref["gates"].shape == (2, 3, len(TEXT), 12)
        for layer in range(2):
            gates = tr.gates(tr.gate_names, layer)
            for g, name in enumerate(tr.gate_names):
                np.testing.assert_allclose(gates[name], ref["gates"][layer, g], **np_close)
            some = tr.gates(["candidate"], layer, [3, 7], 5, 20)  # a few cells and steps: the same values
            np.testing.assert_allclose(some["candidate"], gates["candidate"][5:20, [3, 7]], **np_close)
            assert set(some) == {"candidate"}
            np.testing.assert_allclose(tr.signal("update", layer, [1]), gates["update"][:, [1]], **np_close)
        z, n = tr.gate("update", 0), tr.gate("candidate", 0)
        h_prev = np.concatenate([np.zeros((1, 12), np.float32), tr.hidden[0, :-1]])
        np.testing.assert_allclose((1 - z) * n + z * h_prev, tr.hidden[0], **np_close)  # h_t from its gates
    else:
        assert tr.gate_names == () and ref["gates"].shape == (2, 0, len(TEXT), 12)
        with pytest.raises(ValueError, match="RNN has no gates"):
            tr.gate("input", 0)
    with pytest.raises(ValueError, match="unknown signal 'output'" if kind == "gru" else "unknown signal"):
        tr.signal("output", 0)
    no = "GRU" if kind == "gru" else "vanilla RNN"
    with pytest.raises(ValueError, match=f"who wrote c_t has no meaning for an? {no}: it has no cell state c_t"):
        tr.contributions(0, 0, 3)
    with pytest.raises(ValueError, match=f"a raw cell state c_t has no meaning for an? {no}"):
        tr.raw_cells(0)


@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_chunks_batches_and_a_given_state_give_the_whole_trace(kind):
    m = model(kind)
    whole = m.trace(TEXT)
    pieces = list(m.trace_chunks(TEXT, chunk=17))
    np.testing.assert_allclose(np.concatenate([p.hidden for _, p in pieces], 1), whole.hidden, rtol=0, atol=1e-5)
    later = m.trace(TEXT[30:], state=m.trace(TEXT[:30]).final)
    np.testing.assert_allclose(later.hidden, whole.hidden[:, 30:], rtol=0, atol=1e-5)
    texts = [TEXT, TEXT[:9], "", TEXT[5:40]]
    for workers in (1, 2):
        for text, tr in zip(texts, m.trace_batch(texts, workers), strict=True):
            one = m.trace(text)
            assert tr.kind == kind and tr.final[0].shape == (2, 12) and len(tr.final) == 1
            np.testing.assert_allclose(tr.hidden, one.hidden, rtol=0, atol=1e-5)
            np.testing.assert_allclose(tr.log_probs, one.log_probs, rtol=0, atol=1e-5)
            if kind == "gru" and text:
                np.testing.assert_allclose(tr.gate("reset", 1), one.gate("reset", 1), rtol=0, atol=1e-5)


def test_an_lstms_memory_is_its_cell_and_its_signals_are_unchanged(tiny_model):
    tr = tiny_model.trace(TEXT)
    assert tr.kind == "lstm" and tr.memory is tr.cell and tr.gate_names == kernel.GATES
    assert tr.signals == kernel.SIGNALS
    np.testing.assert_array_equal(tr.signal("memory", 1), tr.signal("cell", 1))


@pytest.mark.parametrize("kind", ["gru", "rnn"])
@torch.no_grad()
def test_the_cpu_layer_is_torchs_kernel_for_one_text_or_several_from_any_state(kind):
    torch.manual_seed(1)
    params = [p * 3 for p in MODULES[kind](6, 12).parameters()]  # big weights: gates saturate somewhere
    x, h0 = torch.randn(3, 40, 6), torch.randn(3, 12)
    want, want_n = PLAIN[kind](x, h0[None], params, True, 1, 0.0, False, False, True)
    out, h_n = plain_layer(kind, x, h0, params)
    torch.testing.assert_close(out, want, rtol=0, atol=1e-5)
    torch.testing.assert_close(h_n, want_n[0], rtol=0, atol=1e-5)
    one, one_n = plain_layer(kind, x[1], h0[1], params)
    torch.testing.assert_close(one, want[1], rtol=0, atol=1e-5)
    torch.testing.assert_close(one_n, want_n[0, 1], rtol=0, atol=1e-5)
    none, h = plain_layer(kind, x[1, :0], h0[1], params)
    assert none.shape == (0, 12) and torch.equal(h, h0[1])


@pytest.mark.parametrize("kind", ["gru", "rnn"])
@torch.no_grad()
def test_the_cpu_layer_takes_gates_shut_hard_without_a_warning_or_a_nan(kind):
    torch.manual_seed(2)
    params = [p * 60 for p in MODULES[kind](6, 12).parameters()]  # pre-activations past 88: exp(-a) is inf
    x, h0 = torch.randn(50, 6), torch.randn(12)
    exact, _ = PLAIN[kind](
        x[None].double(), h0[None, None].double(), [p.double() for p in params], True, 1, 0.0, False, False, True
    )
    torchs, _ = PLAIN[kind](x[None], h0[None, None], params, True, 1, 0.0, False, False, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, _ = plain_layer(kind, x, h0, params)
    assert torch.isfinite(out).all()
    # Weights this large amplify float32 rounding: ours and torch's own float32 run both stay within 1e-3 of float64.
    for run in (out, torchs[0]):
        torch.testing.assert_close(run.double(), exact[0], rtol=0, atol=1e-3)


@torch.no_grad()
def test_the_cpu_layer_runs_on_as_many_threads_as_torch_in_the_calling_thread():
    from lstm_viz.core import onnx_layers
    from lstm_viz.core.threads import torch_threads

    params = list(torch.nn.GRU(6, 12).parameters())
    onnx_layers.session.cache_clear()
    for n in (1, 2):
        with torch_threads(n):
            plain_layer("gru", torch.randn(5, 6), torch.zeros(12), params)
        assert onnx_layers.session("gru", 12, n).get_session_options().intra_op_num_threads == n
    assert onnx_layers.session.cache_info().currsize == 2
