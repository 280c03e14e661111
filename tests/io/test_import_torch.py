"""Your own PyTorch LSTM: found by shape whatever its key names, every cell and prediction kept exactly."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import lstm_viz
from lstm_viz import ModelImportError, from_torch

ALPHABET = list("abcdefgh .,\n\"'()")
TEXT = "a \"bed\", (cafe) head.\nfade 'ace' bad"


class WordLanguageModel(nn.Module):
    """PyTorch's word_language_model example, on characters: encoder / rnn / decoder, sequence-first."""

    def __init__(self, n, embed=8, hidden=12, layers=2):
        super().__init__()
        self.encoder = nn.Embedding(n, embed)
        self.rnn = nn.LSTM(embed, hidden, layers)
        self.decoder = nn.Linear(hidden, n)

    def forward(self, ids, state=None):  # ids (T, B)
        out, state = self.rnn(self.encoder(ids), state)
        return self.decoder(out), state


class CharRNN(nn.Module):
    """char-rnn style: one-hot input, batch-first LSTM of three layers, a head without bias."""

    def __init__(self, n, hidden=10, layers=3):
        super().__init__()
        self.n = n
        self.core = nn.LSTM(n, hidden, layers, batch_first=True)
        self.to_logits = nn.Linear(hidden, n, bias=False)

    def forward(self, ids, state=None):  # ids (B, T)
        out, state = self.core(nn.functional.one_hot(ids, self.n).float(), state)
        return self.to_logits(out), state


def original_steps(model, ids, batch_first):
    """The original model stepped one character at a time: tanh(c) (L, T, H) and next-char probs (T, N)."""
    cells, probs, state = [], [], None
    with torch.no_grad():
        for i in ids:
            x = torch.tensor([[i]])
            logits, state = model(x, state)
            cells.append(state[1][:, 0].tanh().numpy())
            probs.append(torch.softmax(logits.reshape(-1), -1).numpy())
    return np.stack(cells, 1), np.stack(probs)


def assert_same_model(original, imported, text, batch_first):
    ids = [ALPHABET.index(c) for c in text]
    cells, probs = original_steps(original, ids, batch_first)
    tr = imported.trace(text)
    np.testing.assert_allclose(tr.cell, cells, atol=1e-5)
    np.testing.assert_allclose(np.exp(tr.log_probs[:, 1:]), probs, atol=1e-5)


@pytest.fixture(scope="module")
def word_lm():
    torch.manual_seed(1)
    return WordLanguageModel(len(ALPHABET)).eval()


@pytest.fixture(scope="module")
def char_rnn():
    torch.manual_seed(2)
    return CharRNN(len(ALPHABET)).eval()


def test_an_embedding_model_with_its_own_key_names_keeps_every_cell_and_prediction(word_lm):
    imported = from_torch(word_lm.state_dict(), ALPHABET)
    assert (imported.config.layers, imported.config.hidden, imported.config.embed) == (2, 12, 8)
    assert imported.matched == {"input": "encoder.weight", "recurrent": "rnn", "head": "decoder.weight"}
    assert_same_model(word_lm, imported, TEXT, batch_first=False)


def test_a_one_hot_batch_first_model_without_head_bias_keeps_every_cell_and_prediction(char_rnn):
    imported = from_torch(char_rnn, ALPHABET)
    assert imported.matched["input"] == "one-hot" and imported.config.layers == 3
    assert_same_model(char_rnn, imported, TEXT, batch_first=True)


def test_tied_encoder_and_decoder_weights_are_both_matched():
    torch.manual_seed(3)
    model = WordLanguageModel(len(ALPHABET), embed=12, hidden=12).eval()
    model.decoder.weight = model.encoder.weight
    imported = from_torch(model.state_dict(), ALPHABET)
    assert imported.matched["input"] == "encoder.weight" and imported.matched["head"] == "decoder.weight"
    assert_same_model(model, imported, TEXT, batch_first=False)


def test_the_added_unknown_slot_changes_no_probability_of_the_models_own_characters(word_lm):
    imported = from_torch(word_lm.state_dict(), ALPHABET)
    tr = imported.trace("bad \u263a face")  # the smiley is outside the alphabet
    assert tr.unknown.sum() == 1
    probs = np.exp(tr.log_probs.astype(np.float64))
    assert (probs[:, 0] == 0).all()
    known = [ALPHABET.index(c) for c in "bad "]
    _, original = original_steps(word_lm, known, False)
    np.testing.assert_allclose(probs[:4, 1:], original, atol=1e-5)
    assert all(char != "\ufffd" for char, _ in tr.top_k(2, 5))


def test_an_alphabet_of_the_wrong_size_is_refused_with_the_shapes(word_lm):
    with pytest.raises(ModelImportError, match=r"no linear head: expected a 15x12 weight.*decoder.weight \(16x12\)"):
        from_torch(word_lm.state_dict(), ALPHABET[:-1])


@pytest.mark.parametrize(
    "rnn, message",
    [
        (nn.LSTM(8, 12, bidirectional=True), r"rnn is a bidirectional LSTM"),
        (nn.LSTM(8, 12, proj_size=4), r"projections"),
    ],
)
def test_recurrent_layers_lstm_viz_cannot_run_are_refused(rnn, message):
    model = WordLanguageModel(len(ALPHABET))
    model.rnn = rnn
    with pytest.raises(ModelImportError, match=message):
        from_torch(model.state_dict(), ALPHABET)


def test_layers_beyond_input_lstm_and_head_are_named(word_lm):
    state = {**word_lm.state_dict(), "norm.weight": torch.ones(12), "norm.bias": torch.zeros(12)}
    with pytest.raises(ModelImportError, match=r"not part of an input layer -> LSTM -> linear head model: norm.weight"):
        from_torch(state, ALPHABET)


def test_no_lstm_at_all_is_refused():
    with pytest.raises(ModelImportError, match="no recurrent layer"):
        from_torch({"w.weight": torch.zeros(3, 3)}, "abc")


# The command line ---------------------------------------------------------------------------


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "lstm_viz", *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def alphabet_file(tmp_path):
    path = tmp_path / "alphabet.json"
    path.write_text(json.dumps({c: i for i, c in enumerate(ALPHABET)}))
    return path


@pytest.mark.slow
def test_cli_import_writes_a_checkpoint_that_loads_like_a_shipped_one(word_lm, tmp_path, alphabet_file):
    torch.save(word_lm.state_dict(), tmp_path / "lm.pt")
    done = cli("import", "--from", "torch", tmp_path / "lm.pt", "--alphabet", alphabet_file, "--out", tmp_path / "mine")
    assert done.returncode == 0, done.stderr
    assert "2 layers x 12 cells, 16 characters" in done.stdout
    model = lstm_viz.load(tmp_path / "mine")
    assert model.card["source"]["framework"] == "torch" and model.card["source"]["file"] == "lm.pt"
    assert model.card["source"]["matched"]["recurrent"] == "rnn"
    assert_same_model(word_lm, model, TEXT, batch_first=False)


@pytest.mark.slow
def test_cli_import_reads_a_plain_text_alphabet_and_a_nested_state_dict(char_rnn, tmp_path):
    (tmp_path / "chars.txt").write_text("".join(ALPHABET))
    torch.save({"epoch": 3, "state_dict": char_rnn.state_dict()}, tmp_path / "ckpt.pth")
    done = cli(
        "import",
        "--from",
        "torch",
        tmp_path / "ckpt.pth",
        "--alphabet",
        tmp_path / "chars.txt",
        "--out",
        tmp_path / "rnn",
    )
    assert done.returncode == 0, done.stderr
    assert_same_model(char_rnn, lstm_viz.load(tmp_path / "rnn"), TEXT, batch_first=True)


def assert_one_line_error(done, fragment, out):
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], done.stderr
    assert not out.exists()


@pytest.mark.slow
def test_cli_import_never_unpickles_a_whole_module(word_lm, tmp_path, alphabet_file):
    torch.save(word_lm, tmp_path / "whole.pt")  # a pickled class: only weights_only loading is tried
    done = cli("import", "--from", "torch", tmp_path / "whole.pt", "--alphabet", alphabet_file, "--out", tmp_path / "x")
    assert_one_line_error(done, "weights_only=True", tmp_path / "x")


@pytest.mark.slow
def test_cli_import_with_the_wrong_alphabet_writes_nothing(word_lm, tmp_path):
    torch.save(word_lm.state_dict(), tmp_path / "lm.pt")
    (tmp_path / "short.json").write_text(json.dumps(ALPHABET[:10]))
    done = cli(
        "import", "--from", "torch", tmp_path / "lm.pt", "--alphabet", tmp_path / "short.json", "--out", tmp_path / "x"
    )
    assert_one_line_error(done, "Is the alphabet the one the model was trained with?", tmp_path / "x")


# A GRU and a vanilla RNN ------------------------------------------------------------------------


def original_states(model, ids):
    """The original model stepped one character at a time: h (L, T, H) and next-char probs (T, N)."""
    hs, probs, state = [], [], None
    with torch.no_grad():
        for i in ids:
            logits, state = model(torch.tensor([[i]]), state)
            hs.append(state[:, 0].numpy())
            probs.append(torch.softmax(logits.reshape(-1), -1).numpy())
    return np.stack(hs, 1), np.stack(probs)


@pytest.mark.parametrize("kind", ["gru", "rnn"])
@pytest.mark.parametrize("make", [WordLanguageModel, CharRNN])
def test_a_gru_or_tanh_rnn_keeps_every_state_and_prediction(kind, make):
    torch.manual_seed(3)
    original = make(len(ALPHABET)).eval()
    name = "rnn" if make is WordLanguageModel else "core"
    old = getattr(original, name)
    batch_first = make is CharRNN
    module = {"gru": nn.GRU, "rnn": nn.RNN}[kind](
        old.input_size, old.hidden_size, old.num_layers, batch_first=batch_first
    )
    setattr(original, name, module.eval())
    imported = from_torch(original, ALPHABET)
    assert imported.kind == kind and imported.matched["recurrent"] == name
    ids = [ALPHABET.index(c) for c in TEXT]
    hs, probs = original_states(original, ids)
    tr = imported.trace(TEXT)
    np.testing.assert_allclose(tr.hidden, hs, atol=1e-5)
    np.testing.assert_allclose(np.exp(tr.log_probs[:, 1:]), probs, atol=1e-5)


def test_a_relu_rnn_is_refused_when_the_module_says_so():
    model = WordLanguageModel(len(ALPHABET))
    model.rnn = nn.RNN(8, 12, 2, nonlinearity="relu")
    with pytest.raises(ModelImportError, match="nonlinearity='relu'; lstm-viz's vanilla RNN is tanh"):
        from_torch(model, ALPHABET)


def test_recurrent_weights_of_no_kind_lstm_viz_runs_are_refused():
    state = WordLanguageModel(len(ALPHABET)).state_dict()
    state["rnn.weight_hh_l1"] = torch.zeros(24, 12)  # 2H rows: no LSTM, GRU or RNN
    with pytest.raises(ModelImportError, match="rnn is not an LSTM, GRU or RNN"):
        from_torch(state, ALPHABET)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_cli_import_of_gru_or_rnn_weights_writes_a_checkpoint_of_that_kind(kind, tmp_path, alphabet_file):
    torch.manual_seed(4)
    model = WordLanguageModel(len(ALPHABET)).eval()
    model.rnn = {"gru": nn.GRU, "rnn": nn.RNN}[kind](8, 12, 2).eval()
    torch.save(model.state_dict(), tmp_path / "m.pt")
    done = cli("import", "--from", "torch", tmp_path / "m.pt", "--alphabet", alphabet_file, "--out", tmp_path / "x")
    assert done.returncode == 0, done.stderr
    assert f"{kind.upper()} of 2 layers x 12 cells, 16 characters" in done.stdout
    loaded = lstm_viz.load(tmp_path / "x")
    assert loaded.kind == kind and loaded.card["kind"] == kind
    hs, probs = original_states(model, [ALPHABET.index(c) for c in TEXT])
    np.testing.assert_allclose(loaded.trace(TEXT).hidden, hs, atol=1e-5)
