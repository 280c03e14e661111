"""A checkpoint sent as one zip (card.json + model.safetensors), read safely into memory.

Only those two members are read, never unpickled, and never more than a fixed number of bytes
whatever the zip's headers claim (so a zip bomb stops at the limit); nothing is left on disk.
"""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from .checkpoint import CARD, WEIGHTS, CheckpointError, load

MAX_ZIP = 32 << 20  # bytes of the zip itself
MAX_MEMBER = {CARD: 4 << 20, WEIGHTS: 64 << 20}  # bytes each member may unpack to
CHUNK = 1 << 20


def _member(z: zipfile.ZipFile, wanted: str) -> zipfile.ZipInfo:
    """The zip entry named `wanted`, at the top or inside one folder."""
    found = [i for i in z.infolist() if not i.is_dir() and Path(i.filename).name == wanted
             and len(Path(i.filename).parts) <= 2]
    if len(found) != 1:
        raise CheckpointError(f"the zip must hold one {wanted} (at its top or in one folder); it holds "
                              f"{len(found) or 'none'}")
    return found[0]


def _read(z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """At most `limit` bytes of a member, counted as they unpack (headers can lie)."""
    if info.file_size > limit:
        raise CheckpointError(f"{info.filename} unpacks to {info.file_size:,} bytes, over the {limit:,} byte limit")
    out = bytearray()
    with z.open(info) as f:
        while chunk := f.read(CHUNK):
            out += chunk
            if len(out) > limit:
                raise CheckpointError(f"{info.filename} unpacks to more than {limit:,} bytes (a zip bomb?)")
    return bytes(out)


def load_zip(data: bytes, name: str = "upload.zip"):
    """A CharLSTM from the bytes of a checkpoint zip; CheckpointError (one line) for anything else."""
    if len(data) > MAX_ZIP:
        raise CheckpointError(f"{name}: {len(data) / 1e6:.1f} MB, over the {MAX_ZIP >> 20} MB limit for a checkpoint zip")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = {wanted: _read(z, _member(z, wanted), MAX_MEMBER[wanted]) for wanted in (CARD, WEIGHTS)}
    except CheckpointError as e:
        raise CheckpointError(f"{name}: {e}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as e:
        raise CheckpointError(f"{name}: not a readable zip ({e})") from None
    with tempfile.TemporaryDirectory(prefix="lstm-viz-upload-") as folder:
        for member, content in members.items():
            (Path(folder) / member).write_bytes(content)
        try:
            model = load(folder)
        except CheckpointError as e:
            raise CheckpointError(f"{name}: {str(e).replace(folder + '/', '')}") from None
    return model
