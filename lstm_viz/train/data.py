"""Corpora: reading, the contiguous 80/10/10 split, and streams for truncated BPTT."""

from __future__ import annotations

import hashlib
import lzma
from pathlib import Path

import torch

from ..core.vocab import normalise

SPLIT = (0.8, 0.1, 0.1)  # train, validation, test: contiguous, in this order


class CorpusError(Exception):
    """A corpus that is missing, unreadable or empty."""


def corpus_bytes(path) -> bytes:
    """The bytes of a corpus file; an `.xz` file is unpacked on the fly."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such corpus file")
    if path.suffix != ".xz":
        return path.read_bytes()
    try:
        return lzma.decompress(path.read_bytes())
    except lzma.LZMAError as e:
        raise CorpusError(f"{path}: not a readable xz file ({e})") from None


def read_corpus(path) -> str:
    """The normalised text of a corpus file (undecodable bytes become U+FFFD); `.xz` is unpacked."""
    text = normalise(corpus_bytes(path).decode("utf-8", errors="replace"))
    if len(text) < 100:
        raise CorpusError(f"{path}: corpus is empty or too short ({len(text)} chars; need at least 100)")
    return text


def sha256(path) -> str:
    """Hex digest of a corpus's bytes (unpacked, for `.xz`), to tie a model's card to its corpus."""
    return hashlib.sha256(corpus_bytes(path)).hexdigest()


def split_bounds(n: int) -> dict[str, tuple[int, int]]:
    """Character ranges of the train, val and test parts of a text of length n."""
    a, b = int(n * SPLIT[0]), int(n * (SPLIT[0] + SPLIT[1]))
    return {"train": (0, a), "val": (a, b), "test": (b, n)}


def held_out(path, max_chars: int = 200_000, split: str = "test", warmup: int = 1_000) -> tuple[str, int, int]:
    """(text, start, warm): up to `max_chars` of a corpus split from its first paragraph break
    (so no quote or comment is entered halfway), preceded by the `warm` characters before it,
    which only bring the model's state up to speed; `start` is where the slice is in the corpus."""
    if max_chars < 100:
        raise ValueError(f"max_chars must be at least 100, not {max_chars}")
    text = read_corpus(path)
    lo, hi = split_bounds(len(text))[split]
    para = text.find("\n\n", lo, min(hi, lo + 10_000))
    start = para + 2 if para >= 0 else lo
    first = max(0, start - warmup)
    return text[first : min(hi, start + max_chars)], start, start - first


def streams(ids: torch.Tensor, n: int) -> torch.Tensor:
    """Cut ids (N,) into n contiguous streams (n, N // n), read side by side."""
    length = len(ids) // n
    if length < 2:
        raise CorpusError(f"text of {len(ids)} chars is too short for {n} parallel streams")
    return ids[: n * length].view(n, length)


def windows(data: torch.Tensor, seq_len: int, offset: int = 0):
    """Yield (x, y) (B, S) windows over streams, y being x shifted by one character."""
    for i in range(offset, data.shape[1] - 1, seq_len):
        j = min(i + seq_len, data.shape[1] - 1)
        yield data[:, i:j], data[:, i + 1 : j + 1]


def sample(ids: torch.Tensor, n: int, pieces: int = 32) -> torch.Tensor:
    """A fixed sample of about n characters of ids (N,): `pieces` evenly spaced contiguous runs.

    n = 0 or n >= N gives ids itself. Read as `pieces` streams (`evaluate`'s default), each run
    is one stream, so no prediction crosses from one run into the next.
    """
    if not n or n >= len(ids):
        return ids
    run = max(2, n // pieces)
    starts = torch.linspace(0, len(ids) - run, pieces).long()
    return torch.cat([ids[s : s + run] for s in starts.tolist()])
