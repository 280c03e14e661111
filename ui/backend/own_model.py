"""Your own model: a checkpoint zip uploaded in the sidebar, shown like a shipped one.

The zip is read by `lstm_viz.io.archive.load_zip` (size-limited, never unpickled). The models live in
one registry per server process (`REGISTRY`), shared by its sessions (threads) and bounded in
bytes: one upload's weights may take at most MAX_UPLOAD_MB as float32, refused from its card before
any weight is unpacked, and all uploads together at most LSTM_VIZ_UPLOAD_MB (default 256): a new
upload drops the least recently shown uploads of any session to make room. A session holds only
the names of its uploads (session key "uploads"), so a dropped model's memory comes back (once the
trace cache lets go of traces made from it); a session whose model went gets a note on its next run
and the default model, and keeps everything else. A name carries a hash of the zip, so caches keyed
by model name can never mix two different uploads, and the same zip uploaded twice is one model.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import MutableMapping
from pathlib import Path

import streamlit as st

from lstm_viz.io import archive
from lstm_viz.io.checkpoint import CheckpointError

KEY = "upload"  # the file uploader's widget key (a file uploader's value cannot be set, so not in DEFAULTS)
MAX_MB = archive.MAX_ZIP >> 20
MAX_UPLOADS = 3  # models one session may hold
MAX_CELLS = 2048  # layers x cells the app traces: a 10,000-character trace of 2,048 cells is ~160 MB
MAX_UPLOAD_MB = 64  # float32 weights one upload may take: 2 x 1,024 cells over 100 characters take ~50 MB
BUDGET_MB = 256  # all sessions' uploads together, unless LSTM_VIZ_UPLOAD_MB says otherwise


class Registry:
    """Uploaded models by name, for every session of the process, within a budget of bytes; the
    least recently used are dropped to make room. Thread-safe: sessions are threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: OrderedDict[str, tuple[object, int]] = OrderedDict()  # least recently used first
        self._used = 0

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._models

    def get(self, name: str):
        """The model named `name`, marked used (the last to be dropped); None if it is not held."""
        with self._lock:
            if name not in self._models:
                return None
            self._models.move_to_end(name)
            return self._models[name][0]

    def add(self, name: str, model, size: int, budget: int) -> list[str]:
        """Hold `model` of `size` bytes, dropping the least recently used until all fit in `budget`;
        the names dropped."""
        with self._lock:
            self._used -= self._models.pop(name, (None, 0))[1]
            dropped = []
            while self._models and self._used + size > budget:
                gone, (_, freed) = self._models.popitem(last=False)
                self._used -= freed
                dropped.append(gone)
            self._models[name] = (model, size)
            self._used += size
            return dropped

    def used(self) -> int:
        """Bytes of the models held."""
        with self._lock:
            return self._used


REGISTRY = Registry()


def budget() -> int:
    """Bytes all sessions' uploads may take together: LSTM_VIZ_UPLOAD_MB, else BUDGET_MB."""
    raw = os.environ.get("LSTM_VIZ_UPLOAD_MB", "").strip()
    if not raw:
        return BUDGET_MB << 20
    if not re.fullmatch(r"[0-9]{1,7}", raw):
        shown = raw if len(raw) <= 20 else raw[:20] + "..."
        raise CheckpointError(f"uploads are off: this server's LSTM_VIZ_UPLOAD_MB is {shown!r}, not a number of MB")
    return int(raw) << 20


def names(session: MutableMapping) -> list[str]:
    """The uploads this session still holds, in upload order. Those the server dropped to make room
    are forgotten here and kept for a note on the page (`dropped_notes`)."""
    raw = session.get("uploads")
    held = [n for n in raw if isinstance(n, str)] if isinstance(raw, (list, tuple, dict)) else []
    kept = [n for n in held if n in REGISTRY]
    if kept != held:
        session["uploads"] = kept
        session["uploads_dropped"] = [*(session.get("uploads_dropped") or []), *(n for n in held if n not in kept)]
    return kept


def dropped_notes(session: MutableMapping) -> list[str]:
    """A note for each upload of this session the server dropped since the last call."""
    gone, session["uploads_dropped"] = session.get("uploads_dropped") or [], []
    shown = [name.replace("`", "'") for name in gone]  # inline code: the file's name shows as it is
    return [
        f"Your uploaded model `{name}` was dropped to make room for other uploads on this server; "
        "upload it again to see it."
        for name in shown
    ]


def model(session: MutableMapping, name: str):
    """This session's upload named `name` (marked used), or None."""
    held = session.get("uploads")
    return REGISTRY.get(name) if isinstance(held, (list, tuple, dict)) and name in held else None


def add(session: MutableMapping, filename: str, data: bytes) -> str:
    """Load a checkpoint zip for the session and choose it; its name. CheckpointError (one line) if it cannot be."""
    held = names(session)
    name = f"{Path(filename).stem[:40]} (uploaded {hashlib.sha256(data).hexdigest()[:16]})"
    if name not in held and len(held) >= MAX_UPLOADS:
        raise CheckpointError(f"a session holds at most {MAX_UPLOADS} uploaded models; reload the page to start over")
    if REGISTRY.get(name) is None:  # else another session uploaded the same zip: shared
        total = budget()
        if total == 0:
            raise CheckpointError("uploads are off on this server (LSTM_VIZ_UPLOAD_MB is 0)")
        loaded = archive.load_zip(data, filename, max_cells=MAX_CELLS, max_bytes=min(MAX_UPLOAD_MB << 20, total))
        REGISTRY.add(name, loaded, archive.float32_bytes(loaded.config), total)
    session["uploads"] = held if name in held else [*held, name]  # a new list: the default is never shared
    session["model"] = name
    return name


def receive(session: MutableMapping, file) -> None:
    """What the upload box does with a file (an UploadedFile, or None once cleared): add it, or keep
    the one-line reason it was refused in "upload_error"."""
    session["upload_error"] = None
    if file is not None:
        try:
            add(session, file.name, file.getvalue())
        except CheckpointError as e:
            session["upload_error"] = str(e)


def _on_upload() -> None:
    receive(st.session_state, st.session_state.get(KEY))


def uploader(session: MutableMapping) -> None:
    """The upload box; a failed upload's reason below it."""
    try:
        room = f"{budget() >> 20:,} MB"
    except CheckpointError:
        room = "no room"
    st.file_uploader(
        f"Your own model (a zip of card.json + model.safetensors, up to {MAX_MB} MB)",
        type=["zip"],
        key=KEY,
        max_upload_size=MAX_MB,
        on_change=_on_upload,
        help=(
            f"Kept for this session while the server has room: a model's weights may take up to {MAX_UPLOAD_MB} MB "
            f"in memory (4 bytes each), and all visitors' uploads together {room}; the least recently "
            "shown are dropped first, with a note. Make one with python -m lstm_viz import or train."
        ),
    )
    if session.get("upload_error"):
        st.error(session["upload_error"])
