"""Your own text in the link: texts kept by the hash of their content, in a folder the replicas share.

A link to your own text says `text=ID`, ID being 24 hex digits of the SHA-256 of the text's UTF-8.
The page puts the text here when it writes the link (`put`), and any replica that reads the same
folder gets it back (`get`): a visitor moved to another replica when theirs went away, or someone
the link was sent to. The text itself stays out of the URL: a URL as long as the text limit
(10,000 characters, up to 40 KB of UTF-8) would ride on every request the page makes (the browser
sends it as the Referer), past the 16 KB that the app server (uvicorn's h11) and HAProxy's default
buffer accept for a request's head.

The folder (LSTM_VIZ_TEXTS, else `lstm-viz-texts` in the system's temporary folder) is the app's
user's alone: made 0700, and refused (`problem` says why) when it is a link, not a folder, owned by
another user or open to group or others; then nothing is kept or read and links to own texts open
the default example with a note. Texts are files of 0600, written under an unpredictable temporary
name opened with O_EXCL|O_NOFOLLOW and renamed into place; only regular files of at most
`MAX_BYTES` are read (O_NOFOLLOW|O_NONBLOCK, then fstat), so a link, FIFO or device planted under a
text's name is no text. Every access goes through one descriptor of the folder.

Limits: at most `MAX_TEXTS` texts. A process counts the folder's names (a readdir, no stat) on its
first new text, after every `RECOUNT` new texts it writes, and whenever the last count plus the
texts it wrote since passes `MAX_TEXTS`; past `MAX_TEXTS`, the least recently written or read are
dropped down to `PRUNED_TO`. So every text's age is looked at once per ~500 new texts, never on
each write; one process never lets the folder pass `MAX_TEXTS`, and N replicas sharing it at most
by N x `RECOUNT` between their counts. A link to a dropped text opens the default example with a
note. Replicas on several machines find each other's texts only if they share the folder (a shared
disk). Visitors' texts stay on the server's disk until dropped. Plain functions: no Streamlit here.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

MAX_TEXTS = 5_000  # at most 200 MB of 10,000-character texts of 4-byte characters; ~10 MB of 2,000-char prose
PRUNED_TO = MAX_TEXTS - MAX_TEXTS // 10  # texts left after a prune
MAX_BYTES = 40_000  # a text of the app's 10,000 characters at 4 bytes of UTF-8 each
RECOUNT = 100  # new texts a process writes between two counts of the folder's names
STALE_S = 3600  # a temporary this old is left over from a crash: a prune removes it
ID = re.compile(r"[0-9a-f]{24}")
SUFFIX, TEMPORARY = ".txt", ".tmp"
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO opens at once, and is then refused
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_tally = {"folder": None, "texts": 0, "since": RECOUNT}  # this process's count of the folder's texts
_tally_lock = threading.Lock()  # sessions are threads of one process


class Refused(Exception):
    """The folder cannot keep texts; the message is one line for the page."""


def folder() -> Path:
    return Path(os.environ.get("LSTM_VIZ_TEXTS") or Path(tempfile.gettempdir()) / "lstm-viz-texts")


def key(text: str) -> str:
    """The text's id in links."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def problem() -> str | None:
    """Why this server cannot keep texts (one line, without the folder's path), or None if it can."""
    try:
        os.close(_open_folder())
    except Refused as e:
        return str(e)
    return None


def put(text: str) -> str | None:
    """Keep `text` (or mark it used again); its id, or None if it cannot be kept."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BYTES:
        return None
    ident = key(text)
    try:
        fd = _open_folder()
    except Refused:
        return None
    try:
        if _read(fd, ident + SUFFIX) != data:  # read: used again; anything else there is replaced
            _write(fd, ident + SUFFIX, data)
            _bound(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    return ident


def get(ident: str) -> str | None:
    """The text kept under `ident` (from a link, so anything), or None if there is none."""
    if not isinstance(ident, str) or not ID.fullmatch(ident):
        return None
    try:
        fd = _open_folder()
    except Refused:
        return None
    try:
        data = _read(fd, ident + SUFFIX)
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8", "surrogatepass") if data is not None else None
    except UnicodeDecodeError:
        return None
    return text if text is not None and key(text) == ident else None  # a damaged file is no text


def prune(keep: int = MAX_TEXTS) -> None:
    """Drop the least recently used texts past `keep` (and temporaries left by a crash)."""
    with suppress(Refused):
        fd = _open_folder()
        try:
            _prune(fd, keep)
        finally:
            os.close(fd)


def _open_folder() -> int:
    """A descriptor of the folder, made 0700 if missing; Refused unless it is a folder of this user's alone."""
    path = folder()
    try:
        try:
            os.mkdir(path, 0o700)
        except FileNotFoundError:  # its parent is missing too
            path.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        raise Refused(f"its texts folder cannot be made ({e.strerror})") from None
    try:
        fd = os.open(path, _FOLDER)
    except OSError as e:
        raise Refused(_unopenable(path, e)) from None
    try:
        info = os.fstat(fd)
    except OSError as e:
        os.close(fd)
        raise Refused(f"its texts folder cannot be read ({e.strerror})") from None
    if info.st_uid != os.getuid():
        why = "belongs to another user"
    elif info.st_mode & 0o077:
        why = f"is open to other users (mode {stat.S_IMODE(info.st_mode):o})"
    else:
        return fd
    os.close(fd)
    raise Refused(f"its texts folder {why}")


def _unopenable(path: Path, error: OSError) -> str:
    """Why the folder at `path` did not open as a folder (O_NOFOLLOW: a link does not)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode):
        return "its texts folder is a link"
    if mode and not stat.S_ISDIR(mode):
        return "its texts folder is not a folder"
    return f"its texts folder cannot be opened ({error.strerror})"


def _read(fd: int, name: str) -> bytes | None:
    """The bytes of the regular file `name` in the folder `fd`, marked used again; None for anything
    else (missing, a link, a FIFO, a device, a folder) or for more than MAX_BYTES, of which no more
    than MAX_BYTES + 1 are read."""
    try:
        f = os.open(name, _READ, dir_fd=fd)
    except OSError:
        return None
    try:
        info = os.fstat(f)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        chunks, size = [], 0
        while size <= MAX_BYTES and (chunk := os.read(f, MAX_BYTES + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_BYTES:
            return None
        with suppress(OSError):
            os.utime(f)  # used again: the last to be dropped
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(f)


def _write(fd: int, name: str, data: bytes) -> None:
    """`data` as `name` in the folder `fd`, 0600: a new temporary, then renamed (a reader on another
    replica never sees half a text; a link at `name` is replaced, never written through)."""
    tmp = f".{secrets.token_hex(12)}{TEMPORARY}"
    f = os.open(tmp, _CREATE, 0o600, dir_fd=fd)
    try:
        with open(f, "wb", closefd=True) as out:
            out.write(data)
        os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp, dir_fd=fd)
        raise


def _bound(fd: int) -> None:
    """After a new text: count the folder's names when due (see the module's Limits), prune past MAX_TEXTS."""
    where = str(folder())
    with _tally_lock:
        if _tally["folder"] != where:
            _tally.update(folder=where, texts=0, since=RECOUNT)
        _tally["texts"] += 1
        _tally["since"] += 1
        due = _tally["since"] >= RECOUNT or _tally["texts"] > MAX_TEXTS
    if due:
        texts = _count(fd)
        if texts > MAX_TEXTS:
            _prune(fd, PRUNED_TO)
            texts = PRUNED_TO
        with _tally_lock:
            _tally.update(folder=where, texts=texts, since=0)


def _count(fd: int) -> int:
    """Texts in the folder `fd`, from their names alone (no stat)."""
    with os.scandir(fd) as entries:
        return sum(e.name.endswith(SUFFIX) for e in entries)


def _prune(fd: int, keep: int) -> None:
    kept, now = [], time.time()
    with os.scandir(fd) as entries:
        names = [e.name for e in entries]
    for name in names:
        with suppress(OSError):  # dropped by another replica meanwhile
            when = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mtime
            if name.endswith(SUFFIX):
                kept.append((when, name))
            elif name.endswith(TEMPORARY) and now - when > STALE_S:
                os.unlink(name, dir_fd=fd)
    for _, name in sorted(kept)[: max(0, len(kept) - keep)]:
        with suppress(OSError):
            os.unlink(name, dir_fd=fd)
