"""Your own model for this session: a checkpoint zip uploaded in the sidebar, shown like a shipped one.

The zip is read by `lstm_viz.archive.load_zip` (size-limited, never unpickled) and the model kept
in this session only (session key "uploads": name -> CharLSTM). Its name carries a hash of the
zip, so caches keyed by model name can never mix two different uploads.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from pathlib import Path

import streamlit as st

from lstm_viz import archive
from lstm_viz.checkpoint import CheckpointError

KEY = "upload"  # the file uploader's widget key (a file uploader's value cannot be set, so not in DEFAULTS)
MAX_MB = archive.MAX_ZIP >> 20
MAX_UPLOADS = 3  # models one session may hold
MAX_CELLS = 2048  # layers x cells the app traces: a 10,000-character trace of 2,048 cells is ~160 MB


def names(session: MutableMapping) -> list[str]:
    """The models this session uploaded, in upload order."""
    return list(session.get("uploads") or {})


def add(session: MutableMapping, filename: str, data: bytes) -> str:
    """Load a checkpoint zip into the session and choose it; its name. CheckpointError (one line) if it cannot be."""
    uploads = dict(session.get("uploads") or {})
    name = f"{Path(filename).stem[:40]} (uploaded {hashlib.sha256(data).hexdigest()[:16]})"
    if name not in uploads:
        if len(uploads) >= MAX_UPLOADS:
            raise CheckpointError(
                f"a session holds at most {MAX_UPLOADS} uploaded models; reload the page to start over"
            )
        uploads[name] = archive.load_zip(data, filename, max_cells=MAX_CELLS)  # sizes checked from the card first
    session["uploads"] = uploads  # a new dict: the default is never shared between sessions
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
    st.file_uploader(
        f"Your own model (a zip of card.json + model.safetensors, up to {MAX_MB} MB)",
        type=["zip"],
        key=KEY,
        max_upload_size=MAX_MB,
        on_change=_on_upload,
        help="Kept for this session only; make one with python -m lstm_viz import or train.",
    )
    if session.get("upload_error"):
        st.error(session["upload_error"])
