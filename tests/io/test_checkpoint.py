"""Checkpoints: safetensors + card.json round trip, and one clear error for every bad folder."""

import json
import pickle
import re

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz import CheckpointError
from lstm_viz.io import checkpoint


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


@pytest.mark.parametrize(
    "content, why",
    [
        ("{not json", "not valid JSON"),
        ('{"format": "lstm-viz/1"}', "lacks config, alphabet"),
        ('["a list"]', "lacks everything"),
        ('{"format": "other/9", "config": {}, "alphabet": []}', "format 'other/9'"),
    ],
)
def test_bad_cards(saved, content, why):
    (saved / "card.json").write_text(content)
    with pytest.raises(CheckpointError, match=rf"card\.json: {why}"):
        lstm_viz.load(saved)


@pytest.mark.parametrize(
    "field, value, why",
    [
        ("corpus", "war and peace", "corpus must be an object, not 'war and peace'"),
        ("corpus", {"name": 7}, "corpus.name must be text, not 7"),
        ("loss", {"val": {"bits": "low"}}, "loss.val.bits must be a finite number, not 'low'"),
        ("loss", {"val": {"bits": float("nan")}}, "loss.val.bits must be a finite number, not nan"),
        ("epochs", True, "epochs must be a whole number, not True"),
        ("history", [{"val": 1.2}, {"val": []}], r"history\[1\]\.val must be a finite number, not \[\]"),
        ("alphabet", ["a", 3], r"alphabet\[1\] must be text, not 3"),
        ("kind", 5, "kind must be text, not 5"),
        ("ngram", {"order": "x" * 500}, "ngram.order must be a whole number, not 'x{36}\\.\\.\\.$"),
    ],
)
def test_card_fields_of_the_wrong_type_are_refused_naming_the_field(saved, field, value, why):
    card = json.loads((saved / "card.json").read_text())
    card[field] = value
    (saved / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=rf"card\.json: {why}"):
        lstm_viz.load(saved)


@pytest.mark.parametrize(
    "config_kind, card_kind, why",
    [
        ("transformer", None, "kind is 'transformer'; it must be one of lstm, gru, rnn"),
        ("gru", "lstm", "the card says kind 'lstm' but its config says 'gru'"),
    ],
)
def test_a_card_whose_kind_is_unknown_or_contradicts_its_config_is_refused(saved, config_kind, card_kind, why):
    card = json.loads((saved / "card.json").read_text())
    card["config"]["kind"] = config_kind
    card.pop("kind", None)
    if card_kind:
        card["kind"] = card_kind
    (saved / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=rf"config does not describe a model \({why}\)"):
        lstm_viz.load(saved)


def test_cards_and_headers_nested_deep_are_refused_in_one_line(saved):
    deep = b"[" * 100_000 + b"]" * 100_000
    (saved / "card.json").write_bytes(b'{"format": "lstm-viz/1", "x": ' + deep + b"}")
    with pytest.raises(CheckpointError, match=r"card\.json: nested more than 32 levels deep"):
        lstm_viz.load(saved)
    with pytest.raises(CheckpointError, match="its header is nested more than 32 levels deep"):
        checkpoint.header(len(deep).to_bytes(8, "little") + deep)


def test_brackets_inside_strings_are_not_nesting(saved):
    card = json.loads((saved / "card.json").read_text())
    card["hardware"] = '[[[[{{{{\\"' * 20
    (saved / "card.json").write_text(json.dumps(card))
    assert lstm_viz.load(saved).card["hardware"] == card["hardware"]


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


@pytest.mark.parametrize(
    "config",
    [
        lstm_viz.Config(5),
        lstm_viz.Config(7, layers=3, hidden=6, embed=4),
        lstm_viz.Config(3, layers=1, hidden=2, embed=9),
    ],
)
def test_the_shapes_a_config_implies_are_those_of_the_model_it_builds(config):
    model = lstm_viz.CharLSTM(config, lstm_viz.Vocab(list("abcdef"[: config.vocab_size - 1])))
    assert checkpoint.shapes(config) == {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_the_header_read_from_bytes_is_the_one_safetensors_reads_from_the_file(saved):
    from safetensors import safe_open

    with safe_open(str(saved / "model.safetensors"), framework="pt") as f:
        expected = {k: (f.get_slice(k).get_dtype(), tuple(f.get_slice(k).get_shape())) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    assert checkpoint.header((saved / "model.safetensors").read_bytes()) == expected


@pytest.mark.parametrize(
    "change, why",
    [
        ({"layers": 0}, "layers is 0; it must be a whole number from 1 to 16"),
        ({"layers": 17}, "layers is 17; it must be a whole number from 1 to 16"),
        ({"hidden": 65_536}, "hidden is 65536; it must be a whole number from 1 to 8,192"),
        ({"hidden": "512"}, "hidden is '512'"),
        ({"hidden": 24.0}, "hidden is 24.0"),
        ({"embed": True}, "embed is True"),
        ({"vocab_size": 1 << 20}, "vocab_size is 1048576; it must be a whole number from 1 to 65,536"),
        ({"dropout": 1.5}, "dropout is 1.5; it must be a number from 0 to 1"),
        ({"forget_bias": float("nan")}, "forget_bias is nan"),
        ({"heads": 8}, "unexpected keyword argument 'heads'"),
    ],
)
def test_a_card_claiming_sizes_out_of_bounds_is_refused_before_anything_is_built(saved, monkeypatch, change, why):
    card = json.loads((saved / "card.json").read_text())
    card["config"].update(change)
    (saved / "card.json").write_text(json.dumps(card))
    monkeypatch.setattr(checkpoint, "CharLSTM", None)  # building a model would fail with a TypeError
    with pytest.raises(CheckpointError, match=rf"card\.json: config does not describe a model \(.*{re.escape(why)}"):
        lstm_viz.load(saved)


def test_weights_stored_as_another_dtype_are_refused(saved):
    from safetensors.torch import load_file, save_file

    state = load_file(str(saved / "model.safetensors"))
    state["head.bias"] = state["head.bias"].double()
    save_file(state, str(saved / "model.safetensors"))
    with pytest.raises(
        CheckpointError, match=r"model\.safetensors: head\.bias is stored as F64; a checkpoint holds F32"
    ):
        lstm_viz.load(saved)


def test_bfloat16_weights_widen_exactly(tiny_model, saved):
    from safetensors.torch import save_file

    state = {k: v.to(torch.bfloat16) for k, v in tiny_model.state_dict().items()}
    save_file(state, str(saved / "model.safetensors"))
    loaded = lstm_viz.load(saved)
    for key, value in loaded.state_dict().items():
        assert value.dtype == torch.float32
        torch.testing.assert_close(value, state[key].float(), rtol=0, atol=0)


def test_a_checkpoint_from_bytes_is_the_one_from_its_folder_and_writes_no_file(saved, monkeypatch):
    card = checkpoint.read_card(saved)
    weights = (saved / "model.safetensors").read_bytes()
    expected = lstm_viz.load(saved)

    def no_file(*args, **kwargs):
        raise AssertionError("a file was opened")

    monkeypatch.setattr(checkpoint, "load_file", no_file)
    monkeypatch.setattr("builtins.open", no_file)
    model = checkpoint.from_bytes(card, weights)
    text = 'a "b" (c)\n'
    np.testing.assert_array_equal(model.trace(text).cell, expected.trace(text).cell)
    assert model.card == card and not model.training


@pytest.mark.parametrize(
    "weights, why",
    [
        (b"", "no safetensors header"),
        ((1 << 40).to_bytes(8, "little") + b"{}", "no safetensors header"),
        ((2 << 20).to_bytes(8, "little") + b" " * (3 << 20), "no safetensors header of at most 1,048,576 bytes"),
        (b"\x05\0\0\0\0\0\0\0{nope", "its header is not valid JSON"),
        (b"\x02\0\0\0\0\0\0\0[]", "its header is not a JSON object"),
        (b'\x11\0\0\0\0\0\0\0{"a": {"x": 1}}  ', "its header's entry for 'a' has no dtype and shape"),
    ],
)
def test_bytes_that_are_not_safetensors_are_refused_in_one_line(saved, weights, why):
    with pytest.raises(CheckpointError, match=rf"^model\.safetensors: truncated or corrupt \(.*{re.escape(why)}"):
        checkpoint.from_bytes(checkpoint.read_card(saved), weights)
