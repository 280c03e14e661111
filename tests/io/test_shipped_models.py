"""The shipped models load, trace, and carry figures on their cards that their weights reproduce; the LSTM, GRU
and vanilla RNN of the architecture comparison come with their training's snapshots, each of which loads and
traces."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lstm_viz
from lstm_viz.core.features import compute as compute_feature
from lstm_viz.io.checkpoint import PRETRAINED, snapshots
from lstm_viz.paper.dynamics import cell_matches
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


@pytest.mark.slow
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


COMPARISON = {  # the architecture comparison's models, each shipped with its training's snapshots: name -> kind
    "warpeace-lstm-2x128": "lstm",
    "warpeace-gru-2x128": "gru",
    "warpeace-rnn-2x128": "rnn",
}
QUOTE_CELL = {"lstm": True, "gru": True, "rnn": False}  # whether training gives the kind a cell that follows quotes
HIDDEN_PROSE = (  # written for this test: prose with dialogue that no model here has read
    "The rain had not stopped for three days when the doctor came up the hill.\n\n"
    '"You should have sent for me sooner," he said, shaking the water from his coat. "A fever like this '
    'one does not wait for the roads to dry."\n\n"We could not find anyone to ride down," answered the woman '
    'at the door. "The boy is in the room at the back, and he has been asking for his father."\n\n'
    "The doctor said nothing for a while. He set his bag on the table and looked at the cold hearth.\n\n"
    '"Is he very ill?" she asked when he came out again.\n\n"He is young and he is strong," the doctor '
    'replied slowly. "Keep the fire going tonight, and give him water whenever he wakes."\n\nShe thanked '
    "him, and he went out into the rain, and she watched his lantern moving down the hill until it was "
    'only a spark among the trees.\n\n"Where is father?" the boy asked in the morning, and she told him.'
)


@pytest.fixture(params=sorted(COMPARISON))
def compared(request):
    return request.param


def test_each_comparison_model_is_shipped_with_at_least_twelve_snapshots_from_untrained_to_trained(compared):
    found = snapshots(compared)
    assert len(found) >= 12 and [s["index"] for s in found] == list(range(len(found)))
    chars = [s["chars_seen"] for s in found]
    assert chars[0] == 0 and chars == sorted(set(chars))
    vals = [s["loss"]["val"]["nats"] for s in found]
    assert vals[0] > 4 and vals[-1] < 1.5  # from guessing (ln 78 = 4.36 nats) to a trained model
    model = lstm_viz.load(compared)
    assert (model.kind, model.config.layers, model.config.hidden) == (COMPARISON[compared], 2, 128)
    assert model.card["loss"]["test"]["nats"] < 1.5


def test_every_snapshot_loads_and_traces_and_training_made_it_better(compared):
    found = snapshots(compared)
    bits = []
    for s in found:
        tr = lstm_viz.load(compared, snapshot=s["index"]).trace(SAMPLES["warpeace"])
        assert tr.shape == (2, len(SAMPLES["warpeace"]), 128) and np.isfinite(tr.memory).all()
        bits.append(tr.bits_per_char)
    assert bits[-1] < bits[0] - 2


def test_each_comparison_model_traces_prose_it_has_not_read_far_better_than_its_untrained_weights(compared):
    trained = lstm_viz.load(compared).trace(HIDDEN_PROSE)
    untrained = lstm_viz.load(compared, snapshot=0).trace(HIDDEN_PROSE)
    assert trained.shape == untrained.shape == (2, len(HIDDEN_PROSE), 128) and not trained.unknown.any()
    assert np.isfinite(trained.memory).all()
    assert trained.bits_per_char < 2.5 and untrained.bits_per_char > 6  # guessing among 78 characters: 6.3 bits


@pytest.mark.slow
def test_the_comparison_fits_its_storage_budget_and_shares_the_war_and_peace_ngram():
    sizes = {name: sum(p.stat().st_size for p in (PRETRAINED / name).rglob("*") if p.is_file()) for name in COMPARISON}
    assert sum(sizes.values()) < 40e6 and max(sizes.values()) < 12e6, sizes
    chars = lstm_viz.load_ngram("warpeace").vocab.chars
    for name in COMPARISON:
        assert not (PRETRAINED / name / "ngram.npz").exists()
        assert lstm_viz.load_ngram(name).vocab.chars == lstm_viz.load(name).vocab.chars == chars


def test_each_comparison_model_has_every_cell_explained_and_its_training_measured(compared):
    folder = PRETRAINED / compared
    cells = json.loads((folder / "explain.json").read_text())["cells"]
    assert len(cells) == 2 * 128 and all(isinstance(c["label"], str) and c["label"] for c in cells)
    dynamics = json.loads((folder / "dynamics.json").read_text())
    assert [s["snapshot"] for s in dynamics["snapshots"]] == [s["index"] for s in snapshots(compared)]


def test_an_lstm_and_a_gru_learn_a_quote_cell_and_an_rnn_does_not_on_prose_no_model_has_read(compared):
    z = compute_feature("quotes", HIDDEN_PROSE).astype(float)

    def matches(snapshot):
        tr = lstm_viz.load(compared, snapshot=snapshot).trace(HIDDEN_PROSE)
        L, T, H = tr.memory.shape
        return cell_matches(tr.memory.transpose(1, 0, 2).reshape(T, L * H), z)

    last, first = matches(-1), matches(0)
    best = int(np.nanargmax(last))  # the best quote cell of the last snapshot, followed back to the first
    if QUOTE_CELL[COMPARISON[compared]]:
        assert last[best] > 0.9 and last[best] >= first[best] + 0.3
    else:
        assert last[best] < 0.5  # the paper's point: a vanilla RNN keeps no cell for being inside quotes
