"""The data the in-page views receive (coloured text, prediction strip, heatmap), packed small.

The coloured text's data comes in two parts, with arrays as base64. `text_part` depends only
on (model, text): the characters, the alphabet and each position's top-5 next characters.
`cell_part` depends on the chosen cell too: five (T,) float32 signals, about 270 kB at 10,000
characters, so a cell switch sends little and the browser recolours from the numbers.
"""
from __future__ import annotations

import base64
import hashlib

import numpy as np

from lstm_viz import Trace
from lstm_viz.glyphs import label

from .signals import CARD_SIGNALS, SIGNALS

TOP = 5  # next-character guesses shown for each position (the views get it from here)


def pack(array: np.ndarray, dtype: str) -> str:
    """Base64 of the array's little-endian bytes, for a JS typed array of the same type."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def unpack(text: str, dtype: str) -> np.ndarray:
    """The inverse of `pack`."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def text_key(model_name: str, text: str) -> str:
    """A short id of (model, text): the view rebuilds its characters only when it changes."""
    return hashlib.sha1(f"{model_name}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def text_part(trace: Trace, model_name: str) -> dict:
    """Everything the view needs that does not depend on the chosen cell."""
    ids, probs = trace.top_k_ids(TOP)
    vocab = trace.vocab
    return {
        "key": text_key(model_name, trace.text),
        "text": trace.text,
        "length": len(trace.ids),
        "alphabet": [vocab.symbol(i) for i in range(len(vocab))],
        "unknown": np.flatnonzero(trace.unknown).tolist(),
        "top_ids": pack(ids, "<u2"),  # (T * TOP,) row-major
        "top_probs": pack(probs, "<f4"),
    }


def cell_part(values: dict[str, np.ndarray], layer: int, cell: int, signal: str, selected: int) -> dict:
    """The chosen cell's signals (`signals.cell_signals`), which one colours the text, and the
    selected position."""
    return {
        "layer": layer,
        "cell": cell,
        "signal": signal,
        "signal_label": SIGNALS[signal],
        "gate": signal not in ("cell", "hidden"),
        "selected": selected,
        "values": {name: pack(values[name], "<f4") for name in CARD_SIGNALS},
    }


def strip_part(trace: Trace, values: np.ndarray, selected: int, before: int = 24, after: int = 48) -> dict:
    """Columns of the prediction strip around `selected`: the character, the chosen cell's
    value there, the top guesses for the character after it, and which guess was right."""
    start, stop = max(0, selected - before), min(len(trace.ids), selected + after + 1)
    ids, probs = trace.top_k_ids(TOP, start, stop)
    cols = []
    for t in range(start, stop):
        nxt = int(trace.ids[t + 1]) if t + 1 < len(trace.ids) else -1
        guesses = ids[t - start].tolist()
        cols.append({
            "t": t,
            "label": label(trace.text[t]),
            "value": float(values[t]),
            "top": [[label(trace.vocab.symbol(i)), float(p)] for i, p in zip(guesses, probs[t - start])],
            "hit": guesses.index(nxt) if nxt > 0 and nxt in guesses else -1,
        })
    return {"cols": cols, "selected": selected}


def heatmap_part(values: np.ndarray, cells: list[int], start: int, chars: str, chosen: int, selected: int,
                 title: str) -> dict:
    """The heatmap's rows (`cells`, in order) over the characters `chars` starting at `start`;
    values is (len(chars), len(cells)) and travels row by row."""
    return {"cells": list(cells), "start": start, "labels": [label(c) for c in chars],
            "values": pack(values.T, "<f4"), "chosen": chosen, "selected": selected, "title": title}
