"""Checkpoints: safetensors + card.json round trip, and one clear error for every bad folder."""
import json
import pickle

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz import CheckpointError, checkpoint


@pytest.fixture
def saved(tiny_model, tmp_path):
    folder = tmp_path / "model"
    lstm_viz.save(tiny_model, folder, {"corpus": {"name": "made-up"}})
    return folder


def test_round_trip_gives_the_same_model_and_card(tiny_model, saved):
    loaded = lstm_viz.load(saved)
    text = 'a "b" (c)\n'
    np.testing.assert_array_equal(loaded.trace(text).cell, tiny_model.trace(text).cell)
    assert loaded.vocab == tiny_model.vocab
    assert loaded.card["corpus"] == {"name": "made-up"} and loaded.card["config"]["hidden"] == 24
    assert not loaded.training


def test_names_resolve_under_pretrained(saved, monkeypatch):
    monkeypatch.setattr(checkpoint, "PRETRAINED", saved.parent)
    assert lstm_viz.available() == ["model"]
    assert lstm_viz.load("model").config.hidden == 24


def test_an_unknown_name_lists_the_shipped_models(saved, monkeypatch):
    monkeypatch.setattr(checkpoint, "PRETRAINED", saved.parent)
    with pytest.raises(CheckpointError, match=r"nosuch: no such model folder \(shipped models: model\)"):
        lstm_viz.load("nosuch")


def test_missing_weights(saved):
    (saved / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"model\.safetensors: missing"):
        lstm_viz.load(saved)


@pytest.mark.parametrize("keep", [0.5, 0.01])
def test_truncated_weights(saved, keep):
    path = saved / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=r"model\.safetensors: truncated or corrupt"):
        lstm_viz.load(saved)


def test_garbage_weights(saved):
    (saved / "model.safetensors").write_bytes(b"\xff" * 4096)
    with pytest.raises(CheckpointError, match=r"model\.safetensors: truncated or corrupt"):
        lstm_viz.load(saved)


def test_weights_of_the_wrong_shape(saved):
    card = json.loads((saved / "card.json").read_text())
    card["config"]["hidden"] = 32
    (saved / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=r"model\.safetensors: .* has shape .* needs"):
        lstm_viz.load(saved)


def test_card_alphabet_that_does_not_match_the_config(saved):
    card = json.loads((saved / "card.json").read_text())
    card["alphabet"] = card["alphabet"][:-1]
    (saved / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=r"card\.json: config does not describe a model"):
        lstm_viz.load(saved)


@pytest.mark.parametrize("content, why", [
    ("{not json", "not valid JSON"),
    ('{"format": "lstm-viz/1"}', "lacks config, alphabet"),
    ('["a list"]', "lacks everything"),
    ('{"format": "other/9", "config": {}, "alphabet": []}', "format 'other/9'"),
])
def test_bad_cards(saved, content, why):
    (saved / "card.json").write_text(content)
    with pytest.raises(CheckpointError, match=rf"card\.json: {why}"):
        lstm_viz.load(saved)


def test_missing_card(saved):
    (saved / "card.json").unlink()
    with pytest.raises(CheckpointError, match=r"card\.json: missing"):
        lstm_viz.load(saved)


def test_non_finite_weights(saved):
    from safetensors.torch import load_file, save_file
    state = load_file(str(saved / "model.safetensors"))
    state["head.bias"][0] = float("nan")
    save_file(state, str(saved / "model.safetensors"))
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        lstm_viz.load(saved)


class Payload:
    """Unpickling this would create a file: proof that code ran."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_with_a_code_payload_is_refused_and_never_run(tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()
    marker = tmp_path / "pwned"
    (folder / "model.pt").write_bytes(pickle.dumps(Payload(marker)))
    torch.save({"x": Payload(marker)}, folder / "weights.pth")
    with pytest.raises(CheckpointError, match=r"model\.pt: pickle checkpoints are never loaded"):
        lstm_viz.load(folder)
    assert not marker.exists()
