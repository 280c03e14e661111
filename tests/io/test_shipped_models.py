"""The shipped models load, trace, and carry figures on their cards that their weights reproduce."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lstm_viz
from lstm_viz.io.checkpoint import PRETRAINED
from lstm_viz.train.data import read_corpus, sha256, split_bounds

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"  # ../shared beside the clone, never committed
SAMPLES = {
    "warpeace": '"Well, Prince, so Genoa and Lucca are now\njust family estates."',
    "linux": "static int foo(int x)\n{\n\tif (x > 0) {\n\t\treturn bar(x);\n\t}\n}\n",
}
WINDOWS, WARM, SCORED = 128, 128, 128  # evenly spaced windows over the test split: 32,768 characters read
STANDARD_ERRORS = 4  # the card's whole-split loss must lie within 4 standard errors of the windows' mean


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def shipped(request):
    return request.param, lstm_viz.load(request.param)


def test_both_models_are_shipped():
    assert {"warpeace", "linux"} <= set(lstm_viz.available())


def test_each_model_traces_a_short_text(shipped):
    name, model = shipped
    tr = model.trace(SAMPLES[name])
    assert tr.shape == (model.config.layers, len(SAMPLES[name]), model.config.hidden)
    assert not tr.unknown.any()
    assert tr.bits_per_char < 4  # far better than guessing among ~90 characters (6.5 bits)


def test_size_and_shape_meet_the_brief(shipped):
    name, model = shipped
    assert model.config.layers >= 2 and model.config.hidden >= 256
    files = [p for p in (PRETRAINED / name).iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files if p.name != "ngram.npz") < 25e6  # the model, its card and explain.json
    assert (PRETRAINED / name / "ngram.npz").stat().st_size <= 20e6  # the n-gram baseline has a budget of its own


def test_card_figures_are_present_and_consistent(shipped):
    name, model = shipped
    card = model.card
    assert card["corpus"]["name"] and len(card["corpus"]["sha256"]) == 64
    for split in ("train", "val", "test"):
        nats, bits = card["loss"][split]["nats"], card["loss"][split]["bits"]
        assert 0.3 < nats < 3
        assert bits == pytest.approx(nats / math.log(2), abs=1e-4)
    best = min(card["history"], key=lambda h: h["val"])
    assert card["loss"]["val"]["nats"] == pytest.approx(best["val"], abs=2e-3)
    assert card["best_epoch"] == best["epoch"] <= card["epochs"] == max(h["epoch"] for h in card["history"])
    assert all(h["train"] > 0 for h in card["history"])
    assert card.get("chars_seen") == best.get("chars")  # cards of runs with a character budget say how far they got
    assert card["wall_time_s"] > 0 and card["hardware"] and card["versions"]["torch"]


@torch.no_grad()
def test_the_cards_test_loss_is_reproduced_from_the_weights_on_the_held_out_split(shipped):
    """Evenly spaced windows over the card's corpus's test split (each read after WARM characters that
    only bring the state up to speed) estimate the whole split's loss, which the card states."""
    name, model = shipped
    path = CORPORA / model.card["corpus"]["name"]
    if not path.is_file():
        pytest.skip(f"{path} is absent: the corpora live in ../shared/corpora beside the clone")
    assert sha256(path) == model.card["corpus"]["sha256"], f"{path} is not the corpus {name} was trained on"
    text = read_corpus(path)
    lo, hi = split_bounds(len(text))["test"]
    starts = np.linspace(lo, hi - WARM - SCORED - 1, WINDOWS).astype(int)
    ids = torch.as_tensor(np.array([model.vocab.encode(text[s : s + WARM + SCORED + 1]) for s in starts]))
    logits, _ = model.eval()(ids[:, :-1])  # (WINDOWS, WARM + SCORED, V)
    loss = F.cross_entropy(logits[:, WARM:].transpose(1, 2), ids[:, WARM + 1 :], reduction="none").mean(1).numpy()
    estimate, error = loss.mean(), loss.std(ddof=1) / math.sqrt(WINDOWS)
    stated = model.card["loss"]["test"]["nats"]
    assert abs(estimate - stated) <= STANDARD_ERRORS * error, (estimate, error, stated)
    assert error < 0.05  # tight enough to tell the test loss from the validation loss (0.23 apart for linux)


def test_war_and_peace_beats_the_20_gram_baseline():
    assert lstm_viz.load("warpeace").card["loss"]["test"]["nats"] < 1.195


def test_weights_are_stored_as_safetensors_only():
    for name in SAMPLES:
        files = sorted(p.name for p in (PRETRAINED / name).iterdir() if p.is_file())
        assert "model.safetensors" in files and not any(f.endswith((".pt", ".pth", ".pkl", ".bin")) for f in files)
