"""Three kinds of model (LSTM, GRU, tanh RNN): built, trained, resumed and checkpointed alike."""

import json

import pytest
import torch
from safetensors.torch import load_file

import lstm_viz
from lstm_viz import CharLSTM, Config, Vocab, checkpoint
from lstm_viz.model import GATE_ROWS, KINDS, detach_state
from lstm_viz.train import TrainArgs, train

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
