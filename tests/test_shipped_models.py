"""The shipped models load, trace, and carry consistent figures on their cards."""
import math

import pytest

import lstm_viz
from lstm_viz.checkpoint import PRETRAINED

CORPUS_SHA256 = {  # from ../shared/corpora/README.md
    "warpeace": ("warpeace_input.txt", "fb66ba999dafe24017cdd59e04c56d385a9c8466993d374fd4c6f08b2142985e"),
    "linux": ("linux_kernel_input.txt", "bb495f0a53625b6cb2d38baa55ff2c59494c4f5cfe705dc864fb24637da10d9d"),
}
SAMPLES = {"warpeace": '"Well, Prince, so Genoa and Lucca are now\njust family estates."',
           "linux": "static int foo(int x)\n{\n\tif (x > 0) {\n\t\treturn bar(x);\n\t}\n}\n"}


@pytest.fixture(scope="module", params=sorted(CORPUS_SHA256))
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
    assert sum(p.stat().st_size for p in files if p.name != "ngram.npz") < 25e6  # the model, its card and atlas
    assert (PRETRAINED / name / "ngram.npz").stat().st_size <= 20e6  # the n-gram baseline has a budget of its own


def test_card_figures_are_present_and_consistent(shipped):
    name, model = shipped
    card = model.card
    assert (card["corpus"]["name"], card["corpus"]["sha256"]) == CORPUS_SHA256[name]
    for split in ("train", "val", "test"):
        nats, bits = card["loss"][split]["nats"], card["loss"][split]["bits"]
        assert 0.3 < nats < 3
        assert bits == pytest.approx(nats / math.log(2), abs=1e-4)
    best = min(card["history"], key=lambda h: h["val"])
    assert card["loss"]["val"]["nats"] == pytest.approx(best["val"], abs=2e-3)
    assert card["best_epoch"] == best["epoch"] <= card["epochs"] == len(card["history"])
    assert card["wall_time_s"] > 0 and card["hardware"] and card["versions"]["torch"]


def test_war_and_peace_beats_the_20_gram_baseline():
    assert lstm_viz.load("warpeace").card["loss"]["test"]["nats"] < 1.195


def test_weights_are_stored_as_safetensors_only():
    for name in CORPUS_SHA256:
        files = sorted(p.name for p in (PRETRAINED / name).iterdir() if p.is_file())
        assert "model.safetensors" in files and not any(f.endswith((".pt", ".pth", ".pkl", ".bin")) for f in files)
