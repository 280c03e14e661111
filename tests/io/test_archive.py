"""Uploaded checkpoint zips: read into memory, size-limited, zip-bomb safe, never unpickled."""

import io
import json
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz.io import archive, checkpoint
from lstm_viz.io.checkpoint import CheckpointError


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


def test_a_zip_bomb_with_honest_headers_is_refused_by_its_declared_size(folder):
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


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not a zip at all", "not a readable zip"),
        (b"\0" * (archive.MAX_ZIP + 1), "over the 32 MB limit"),
    ],
)
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


def lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """The zip with `member`'s uncompressed size in its central directory and local header set to `size`."""
    out, name = bytearray(data), member.encode()
    for signature, at, field in ((b"PK\x01\x02", 46, 24), (b"PK\x03\x04", 30, 22)):
        start = out.find(signature)
        while start >= 0 and out[start + at : start + at + len(name)] != name:
            start = out.find(signature, start + 1)
        assert start >= 0, f"no {signature!r} header for {member}"
        out[start + field : start + field + 4] = struct.pack("<L", size)
    return bytes(out)


@pytest.fixture
def unpacked(monkeypatch) -> list:
    """The size of every piece zipfile unpacks while members are read (each passes its CRC update)."""
    counts, update = [], zipfile.ZipExtFile._update_crc

    def counting(self, piece):
        counts.append(len(piece))
        return update(self, piece)

    monkeypatch.setattr(zipfile.ZipExtFile, "_update_crc", counting)
    return counts


@pytest.mark.parametrize("declared", [1_000, archive.MAX_MEMBER["card.json"]])
def test_a_member_whose_header_understates_its_size_stops_at_that_size(folder, unpacked, declared):
    files = checkpoint_files(folder)
    files["card.json"] = b" " * (10 * archive.MAX_MEMBER["card.json"])  # really 40 MB of spaces
    data = lie_about_size(zipped(files), "card.json", declared)
    assert len(data) < 200_000
    with pytest.raises(CheckpointError, match=r"^liar.zip: not a readable zip \(Bad CRC-32 for file 'card.json'\)$"):
        archive.load_zip(data, "liar.zip")
    assert sum(unpacked) == declared


@pytest.mark.parametrize("member", ["card.json", "model.safetensors"])
def test_a_member_whose_header_overstates_its_size_is_refused_before_it_is_unpacked(folder, unpacked, member):
    limit = archive.MAX_MEMBER[member]
    data = lie_about_size(zipped(checkpoint_files(folder)), member, limit + 1)
    with pytest.raises(
        CheckpointError, match=rf"^liar.zip: {member} unpacks to {limit + 1:,} bytes, over the {limit:,}"
    ):
        archive.load_zip(data, "liar.zip")
    assert sum(unpacked) == (0 if member == "card.json" else len(checkpoint_files(folder)["card.json"]))


def many_entries(n: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(n):
            z.writestr(str(i), b"")
    return out.getvalue()


def never_read_a_directory(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the zip's directory was read")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)


@pytest.mark.slow
def test_a_zip_of_100_000_tiny_entries_is_refused_by_its_count_before_they_are_read(monkeypatch):
    data = many_entries(100_000)  # over 65,535: the count is in the zip64 end record
    assert len(data) < archive.MAX_ZIP
    never_read_a_directory(monkeypatch)
    with pytest.raises(CheckpointError, match=r"^many.zip: lists 100,000 entries, more than the 1,000 read$"):
        archive.load_zip(data, "many.zip")


def test_a_zip_that_understates_its_entry_count_is_refused_by_its_directory_size(monkeypatch):
    data = bytearray(many_entries(30_000))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = struct.pack("<2H", 2, 2)  # "2 entries"
    never_read_a_directory(monkeypatch)
    with pytest.raises(
        CheckpointError, match=r"^many.zip: its directory is [\d,]+ bytes, more than the 1,048,576 read$"
    ):
        archive.load_zip(bytes(data), "many.zip")


MEASURE = """
import json, sys, tracemalloc
from pathlib import Path
import lstm_viz
from lstm_viz.io import archive, checkpoint

def status(key):
    return int(next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith(key + ":")))

how, path = sys.argv[1:]
data = Path(path).read_bytes() if how == "zip" else None
open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) starts again from what is resident now
before = status("VmRSS")
tracemalloc.start()
try:
    lstm_viz.load(path) if how == "folder" else archive.load_zip(data, "liar.zip")
    error = None
except lstm_viz.CheckpointError as e:
    error = str(e)
print(json.dumps({"error": error, "peak_rss_growth_mb": (status("VmHWM") - before) / 1024,
                  "python_peak_mb": tracemalloc.get_traced_memory()[1] / 2**20}))
"""


def lying(folder, tmp_path, layers: int, hidden: int, header_lies: bool = False) -> Path:
    """The tiny checkpoint, its card claiming `layers` x `hidden` (and, with `header_lies`, its
    safetensors header claiming those shapes too, over the same few KB of data)."""
    out = tmp_path / f"liar-{layers}x{hidden}"
    out.mkdir()
    card = json.loads((folder / "card.json").read_text())
    card["config"].update(layers=layers, hidden=hidden)
    (out / "card.json").write_text(json.dumps(card))
    weights = (folder / "model.safetensors").read_bytes()
    if header_lies:
        shapes = checkpoint.shapes(lstm_viz.Config(**card["config"]))
        entries, offset = {}, 0
        for name, shape in shapes.items():
            size = 4 * int(np.prod(shape))
            entries[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
            offset += size
        head = json.dumps(entries).encode()
        weights = struct.pack("<Q", len(head)) + head + bytes(4096)
    (out / "model.safetensors").write_bytes(weights)
    return out


@pytest.mark.parametrize(
    "layers, hidden, header_lies, message",
    [
        (3, 2048, False, r"model.safetensors: tensors do not match the card's config \(missing \['lstm.bias_hh_l2'"),
        (3, 2048, True, r"model.safetensors: truncated or corrupt \(.*incomplete metadata"),
        (
            1,
            65_536,
            False,
            r"card.json: config does not describe a model \(hidden is 65536; it must be a whole number "
            r"from 1 to 8,192\)",
        ),
    ],
)
@pytest.mark.slow
@pytest.mark.parametrize("how", ["folder", "zip"])
def test_a_card_that_lies_about_its_size_is_refused_in_one_line_in_little_memory(
    folder, tmp_path, layers, hidden, header_lies, message, how
):
    liar = lying(folder, tmp_path, layers, hidden, header_lies)
    path = liar
    if how == "zip":
        path = tmp_path / "liar.zip"
        path.write_bytes(zipped(checkpoint_files(liar)))
        assert path.stat().st_size < 50_000  # a few tens of KB claiming hundreds of MB
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, how, str(path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    print(f"{how} {layers} x {hidden}{' (header too)' if header_lies else ''}: {result}")
    assert result["error"] is not None and "\n" not in result["error"]
    assert re.search(message, result["error"]), result["error"]
    assert result["peak_rss_growth_mb"] < 100 and result["python_peak_mb"] < 100
