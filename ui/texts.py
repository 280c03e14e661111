"""Your own text in the link: texts kept by the hash of their content, in a folder the replicas share.

A link to your own text says `text=ID`, ID being 24 hex digits of the SHA-256 of the text's UTF-8.
The page puts the text here when it writes the link (`put`), and any replica that reads the same
folder gets it back (`get`): a visitor moved to another replica when theirs went away, or someone
the link was sent to. The text itself stays out of the URL: a URL as long as the text limit
(10,000 characters, up to 40 KB of UTF-8) would ride on every request the page makes (the browser
sends it as the Referer), past the 16 KB that the app server (uvicorn's h11) and HAProxy's default
buffer accept for a request's head.

Limits: the folder (LSTM_VIZ_TEXTS, else `lstm-viz-texts` in the system's temporary folder) holds
at most `MAX_TEXTS` texts, at most 40 KB each; past that the least recently written or read are
dropped, and a link to a dropped text opens the default example with a note. Replicas on several
machines find each other's texts only if they share the folder (a shared disk). Visitors' texts
stay on the server's disk until dropped. Plain functions: no Streamlit here.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from contextlib import suppress
from pathlib import Path

MAX_TEXTS = 5_000  # at most 200 MB of 10,000-character texts of 4-byte characters; ~10 MB of 2,000-char prose
ID = re.compile(r"[0-9a-f]{24}")


def folder() -> Path:
    return Path(os.environ.get("LSTM_VIZ_TEXTS") or Path(tempfile.gettempdir()) / "lstm-viz-texts")


def key(text: str) -> str:
    """The text's id in links."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def put(text: str) -> str | None:
    """Keep `text` (or mark it used again); its id, or None if the folder cannot be written."""
    ident = key(text)
    path = folder() / f"{ident}.txt"
    try:
        if path.exists():
            path.touch()
            return ident
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{ident}.{os.getpid()}.tmp")
        tmp.write_bytes(text.encode("utf-8", "surrogatepass"))
        os.replace(tmp, path)  # a reader on another replica never sees half a text
        prune()
    except OSError:
        return None
    return ident


def get(ident: str) -> str | None:
    """The text kept under `ident` (from a link, so anything), or None if there is none."""
    if not ID.fullmatch(ident):
        return None
    path = folder() / f"{ident}.txt"
    try:
        text = path.read_bytes().decode("utf-8", "surrogatepass")
    except (OSError, UnicodeDecodeError):
        return None
    with suppress(OSError):  # used again: the last to be dropped
        path.touch()
    return text if key(text) == ident else None  # a damaged file is no text


def prune(keep: int = MAX_TEXTS) -> None:
    """Drop the least recently used texts past `keep`."""
    kept = []
    for path in folder().glob("*.txt"):
        with suppress(OSError):  # dropped by another replica meanwhile
            kept.append((path.stat().st_mtime, path))
    for _, path in sorted(kept)[: max(0, len(kept) - keep)]:
        path.unlink(missing_ok=True)
