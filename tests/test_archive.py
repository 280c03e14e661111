"""Uploaded checkpoint zips: read into memory, size-limited, zip-bomb safe, never unpickled."""
import io
import zipfile

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz import archive
from lstm_viz.checkpoint import CheckpointError


@pytest.fixture(scope="module")
def folder(tiny_model, tmp_path_factory):
    return lstm_viz.save(tiny_model, tmp_path_factory.mktemp("zip") / "tiny", {"corpus": {"name": "tiny"}})


def zipped(files: dict, prefix: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(prefix + name, data)
    return out.getvalue()


def checkpoint_files(folder) -> dict:
    return {name: (folder / name).read_bytes() for name in ("card.json", "model.safetensors")}


@pytest.mark.parametrize("prefix", ["", "tiny/"])
def test_a_zipped_checkpoint_loads_the_same_model(folder, tiny_model, prefix):
    model = archive.load_zip(zipped(checkpoint_files(folder), prefix))
    text = 'the cat said "yes".'
    np.testing.assert_array_equal(model.trace(text).cell, tiny_model.trace(text).cell)
    assert model.card["corpus"]["name"] == "tiny"


def test_a_zip_bomb_stops_at_the_limit(folder):
    files = checkpoint_files(folder)
    files["card.json"] = b" " * (archive.MAX_MEMBER["card.json"] + 1)  # compresses to almost nothing
    data = zipped(files)
    assert len(data) < 100_000
    with pytest.raises(CheckpointError, match=r"bomb.zip: card.json unpacks to 4,194,305 bytes, over the 4,194,304"):
        archive.load_zip(data, "bomb.zip")


def test_a_pickle_is_never_read(folder, tiny_model):
    buffer = io.BytesIO()
    torch.save(tiny_model.state_dict(), buffer)
    data = zipped({"card.json": (folder / "card.json").read_bytes(), "model.pt": buffer.getvalue()})
    with pytest.raises(CheckpointError, match="the zip must hold one model.safetensors"):
        archive.load_zip(data)


@pytest.mark.parametrize("data, message", [
    (b"not a zip at all", "not a readable zip"),
    (b"\0" * (archive.MAX_ZIP + 1), "over the 32 MB limit"),
])
def test_what_is_not_a_checkpoint_zip_is_refused_in_one_line(data, message):
    with pytest.raises(CheckpointError, match=message) as e:
        archive.load_zip(data)
    assert "\n" not in str(e.value)


def test_weights_that_do_not_match_the_card_are_refused(folder, tmp_path):
    other = lstm_viz.CharLSTM(lstm_viz.Config(5, 1, 4, 2), lstm_viz.Vocab(list("abcd")))
    files = checkpoint_files(folder)
    files["model.safetensors"] = (lstm_viz.save(other, tmp_path / "o", {}) / "model.safetensors").read_bytes()
    with pytest.raises(CheckpointError, match=r"upload.zip: model.safetensors: tensors do not match"):
        archive.load_zip(zipped(files))
