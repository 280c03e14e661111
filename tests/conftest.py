"""Shared fixtures: small texts and small models that the tests make themselves."""

import random
from pathlib import Path

import pytest
import torch

from lstm_viz import CharLSTM, Config, Vocab
from lstm_viz.find import cellpage

APP = str(Path(__file__).resolve().parents[1] / "app.py")  # the script AppTest runs


def make_corpus(n_lines: int = 1500, seed: int = 0) -> str:
    """Prose-like text with quotes, brackets and CRLF line endings, made on the spot."""
    rng = random.Random(seed)
    words = [
        "the",
        "cat",
        "sat",
        "on",
        "a",
        "mat",
        "while",
        "dogs",
        "ran",
        "over",
        "hills",
        "and",
        "rivers",
        "(quickly)",
        "to",
        "see",
        "[it]",
    ]
    lines = []
    for i in range(n_lines):
        line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 9)))
        lines.append(f'{line}, "yes," he said.' if i % 4 == 0 else line + ".")
    return "\r\n".join(lines)


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    path.write_bytes(make_corpus().encode())
    return path


def tiny(kind: str = "lstm") -> CharLSTM:
    """A random 2-layer model of `kind` (lstm, gru, rnn) over a small alphabet, in eval mode."""
    torch.manual_seed(0)
    vocab = Vocab(sorted(set('abcdefghijklmnopqrstuvwxyz .,\n"()[]{}')))
    return CharLSTM(Config(len(vocab), layers=2, hidden=24, embed=8, kind=kind), vocab).eval()


@pytest.fixture(scope="session")
def tiny_model():
    """A random 2-layer LSTM over a small alphabet, in eval mode."""
    return tiny("lstm")


@pytest.fixture(scope="session")
def tiny_gru():
    """`tiny_model`'s GRU twin: the same alphabet and sizes."""
    return tiny("gru")


@pytest.fixture(scope="session")
def tiny_rnn():
    """`tiny_model`'s vanilla (tanh) RNN twin."""
    return tiny("rnn")


@pytest.fixture(scope="session", params=["lstm", "gru", "rnn"])
def tiny_any(request):
    """`tiny_model` and its GRU and RNN twins in turn: a test that takes it runs for every kind."""
    return tiny(request.param)


@pytest.fixture(scope="session", autouse=True)
def kept_texts(tmp_path_factory):
    """Own texts the app keeps for its links (ui/session/texts.py) go to a folder of this test session, for
    the app in this process and the servers the tests start."""
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("texts")
        mp.setenv("LSTM_VIZ_TEXTS", str(folder))
        yield folder


@pytest.fixture
def model_runs(monkeypatch):
    """Every text the model is run over from now on, whether by `model.trace` or in a batch of the
    trace service (lstm_viz.serve.service), which the app's traces go through."""
    from lstm_viz.serve import service

    runs = []
    trace, batch = CharLSTM.trace, service.trace_batch
    monkeypatch.setattr(CharLSTM, "trace", lambda self, text, state=None: runs.append(text) or trace(self, text, state))
    monkeypatch.setattr(
        service, "trace_batch", lambda model, texts, workers=1: runs.extend(texts) or batch(model, texts, workers)
    )
    return runs


@pytest.fixture(scope="session")
def warpeace():
    """The shipped War and Peace model's explain.json (cell labels), as lstm_viz.find.cellpage.load reads it."""
    return cellpage.load("warpeace")
