"""Zips read safely into memory: a checkpoint (`lstm_viz.io.checkpoint`) sent as one zip (card.json +
model.safetensors), and the bounded reader it shares with the Keras importer.

A zip listing more than MAX_ENTRIES entries (or a central directory over MAX_DIRECTORY bytes) is
refused from its end record, before its directory is read. A member is refused when its header
declares more than its limit; one whose header understates its size is cut there by zipfile, which
never unpacks more than the declared size, and then fails its CRC. Only named members are read,
never unpickled, and nothing is written to disk.
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

from .checkpoint import CARD, WEIGHTS, CheckpointError, describe, from_bytes, parse_card, shapes

MAX_ZIP = 32 << 20  # bytes of the zip itself
MAX_MEMBER = {CARD: 4 << 20, WEIGHTS: 64 << 20}  # bytes each member may unpack to
MAX_ENTRIES = 1_000  # entries a zip may list (a checkpoint has two, a .keras file a handful)
MAX_DIRECTORY = 1 << 20  # bytes of its central directory (so a lying entry count cannot slip past)
UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError)


class ZipError(ValueError):
    """A zip that cannot be read within the limits; the message is one line."""


def open_zip(source) -> zipfile.ZipFile:
    """A ZipFile over bytes or a path, once its end record shows at most MAX_ENTRIES entries and
    MAX_DIRECTORY bytes of directory (nothing else is read before)."""
    try:
        with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as f:
            end = zipfile._EndRecData(f)  # zipfile's own reading of the end record (zip64 included): what it will trust
        if end is not None and end[zipfile._ECD_ENTRIES_TOTAL] > MAX_ENTRIES:
            raise ZipError(f"lists {end[zipfile._ECD_ENTRIES_TOTAL]:,} entries, more than the {MAX_ENTRIES:,} read")
        if end is not None and end[zipfile._ECD_SIZE] > MAX_DIRECTORY:
            raise ZipError(f"its directory is {end[zipfile._ECD_SIZE]:,} bytes, more than the {MAX_DIRECTORY:,} read")
        return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except UNREADABLE as e:
        if isinstance(e, ZipError):
            raise
        raise ZipError(f"not a readable zip ({e})") from None


def read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes; refused if its header declares more than `limit` (zipfile never unpacks more
    than the declared size: a member holding more is cut there and fails its CRC)."""
    if info.file_size > limit:
        raise ZipError(f"{info.filename} unpacks to {info.file_size:,} bytes, over the {limit:,} byte limit")
    try:
        with z.open(info) as f:
            return f.read()
    except UNREADABLE as e:
        raise ZipError(f"not a readable zip ({e})") from None


def _member(z: zipfile.ZipFile, wanted: str) -> zipfile.ZipInfo:
    """The zip entry named `wanted`, at the top or inside one folder."""
    found = [
        i
        for i in z.infolist()
        if not i.is_dir() and Path(i.filename).name == wanted and len(Path(i.filename).parts) <= 2
    ]
    if len(found) != 1:
        raise ZipError(f"the zip must hold one {wanted} (at its top or in one folder); it holds {len(found) or 'none'}")
    return found[0]


def float32_bytes(config) -> int:
    """Bytes the weights of a CharLSTM with `config` take in memory (float32), from its shapes alone."""
    return 4 * sum(math.prod(shape) for shape in shapes(config).values())


def load_zip(data: bytes, name: str = "upload.zip", max_cells: int | None = None, max_bytes: int | None = None):
    """A CharLSTM from the bytes of a checkpoint zip; CheckpointError (one line) for anything else.

    With `max_cells`, a card claiming more layers x hidden cells, and with `max_bytes`, one whose
    weights take more bytes in memory (`float32_bytes`), is refused before any weight is read.
    """
    if len(data) > MAX_ZIP:
        raise CheckpointError(
            f"{name}: {len(data) / 1e6:.1f} MB, over the {MAX_ZIP >> 20} MB limit for a checkpoint zip"
        )
    try:
        with open_zip(data) as z:
            card = parse_card(read_member(z, _member(z, CARD), MAX_MEMBER[CARD]))
            config, _ = describe(card, CARD, max_cells)  # the card's sizes, checked before the weights are unpacked
            size = float32_bytes(config)
            if max_bytes is not None and size > max_bytes:
                raise CheckpointError(
                    f"{CARD}: its weights take {size / 2**20:,.1f} MB as float32, over the "
                    f"{max_bytes / 2**20:g} MB allowed here"
                )
            return from_bytes(card, read_member(z, _member(z, WEIGHTS), MAX_MEMBER[WEIGHTS]), max_cells)
    except (CheckpointError, ZipError) as e:
        raise CheckpointError(f"{name}: {e}") from None
