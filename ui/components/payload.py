"""The data the in-page views receive (coloured text, prediction strip, heatmap), packed small.

The coloured text gets two parts. `layer_part` is one binary blob per (model, text, layer,
signal): the characters, the alphabet, each position's top next characters and the chosen
signal of EVERY cell of the layer, one byte per value (a per-cell offset and step), 5.3 MB for
10,000 characters x 512 cells, so the browser switches cells by itself. `view_part` is small
JSON that changes with the choices: which cell to show (and whether the server moved it), the
selected position, and the exact five signals of the cell the server last knew, for the hover
card.
"""

from __future__ import annotations

import base64
import hashlib
import json

import numpy as np

from lstm_viz import Trace
from lstm_viz.views.glyphs import label
from lstm_viz.views.view import TOP, View, signal_name

from ..session.signals import offered

SYNC_MS = 300  # the text view tells the server its cell after this long without another switch


def pack(array: np.ndarray, dtype: str) -> str:
    """Base64 of the array's little-endian bytes, for a JS typed array of the same type."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def unpack(text: str, dtype: str) -> np.ndarray:
    """The inverse of `pack`."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def text_key(model_name: str, text: str) -> str:
    """A short id of (model, text): the view rebuilds its characters only when it changes."""
    return hashlib.sha1(f"{model_name}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def layer_key(model_name: str, text: str, layer: int, signal: str) -> str:
    """The id of a `layer_part`, by which the text view asks for it."""
    return f"{text_key(model_name, text)}:{layer}:{signal}"


def _blob(header: dict, sections: dict[str, np.ndarray]) -> bytes:
    """uint32 header length, the header as ASCII JSON (with each section's [offset, bytes]), then
    the sections' little-endian bytes, each starting at a multiple of 4 for JS typed arrays."""
    raw = {name: np.ascontiguousarray(a).tobytes() for name, a in sections.items()}
    index, size = {}, 0
    for name, data in raw.items():
        index[name] = [size, len(data)]
        size += -(-len(data) // 4) * 4
    head = json.dumps({**header, "sections": index}).encode("ascii")
    head += b" " * (-(len(head) + 4) % 4)
    base = 4 + len(head)
    out = bytearray(base + size)
    out[:base] = len(head).to_bytes(4, "little") + head
    for name, data in raw.items():
        out[base + index[name][0] : base + index[name][0] + len(data)] = data
    return bytes(out)


def unblob(blob: bytes) -> tuple[dict, dict[str, bytes]]:
    """The inverse of `_blob`: (header, name -> bytes); sections' offsets are from the blob's start."""
    n = int.from_bytes(blob[:4], "little")
    header = json.loads(blob[4 : 4 + n])
    base = 4 + n
    return header, {name: blob[base + o : base + o + size] for name, (o, size) in header["sections"].items()}


def quantise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, H) float32 -> (H, T) uint8 codes, (H,) offsets and (H,) steps: value = offset + code * step,
    within half a step (at most 1/255 of the cell's range) of the original."""
    lo, hi = values.min(axis=0), values.max(axis=0)  # (H,)
    step = ((hi - lo) / 255).astype(np.float32)
    codes = np.rint((values - lo) / np.where(step > 0, step, 1)).clip(0, 255).astype(np.uint8)
    return np.ascontiguousarray(codes.T), lo.astype(np.float32), step


def dequantise(codes: np.ndarray, lo: np.ndarray, step: np.ndarray) -> np.ndarray:
    """(H, T) float64 values as the browser decodes them (in doubles, from float32 offset and step)."""
    return lo.astype(np.float64)[:, None] + codes * step.astype(np.float64)[:, None]


def layer_part(trace: Trace, model_name: str, layer: int, signal: str) -> bytes:
    """Everything the coloured text needs for one layer and signal, for every cell (see above)."""
    ids, probs = trace.top_k_ids(TOP)
    codes, lo, step = quantise(trace.signal(signal, layer))
    vocab = trace.vocab
    header = {
        "key": layer_key(model_name, trace.text, layer, signal),
        "text_key": text_key(model_name, trace.text),
        "text": trace.text,
        "length": len(trace.ids),
        "cells": int(codes.shape[0]),
        "layer": layer,
        "signal": signal,
        "alphabet": [vocab.symbol(i) for i in range(len(vocab))],
        "unknown": np.flatnonzero(trace.unknown).tolist(),
    }
    return _blob(
        header,
        {
            "codes": codes,  # (H, T) uint8, one cell's values together
            "lo": lo.astype("<f4"),
            "step": step.astype("<f4"),  # (H,)
            "top_ids": ids.astype("<u2"),  # (T, TOP)
            "top_probs": np.rint(probs * 65535).astype("<u2"),  # (T, TOP), probability x 65535
        },
    )


def layer_values(blob: bytes) -> np.ndarray:
    """(H, T) values of every cell as the browser shows them, from a `layer_part` blob."""
    header, sections = unblob(blob)
    codes = np.frombuffer(sections["codes"], np.uint8).reshape(header["cells"], header["length"])
    return dequantise(codes, np.frombuffer(sections["lo"], "<f4"), np.frombuffer(sections["step"], "<f4"))


def view_part(
    key: str,
    values: dict[str, np.ndarray],
    view: View,
    jump: int,
    selected: int,
    training: dict | None = None,
    kind: str = "lstm",
) -> dict:
    """The small, changing half: the layer part to show (`key`), the view's cell and signal, and
    `jump` (the text view moves to the cell only when `jump` changes: when the server moved it, not
    when it is catching up with the view), the selected position, `values`, that cell's signals
    (`signals.cell_signals`), exact, for the hover card, named for the model's `kind`, and for a
    model with snapshots that cell over its training (`training_part`; None for a model without).
    The legend names the signal as the model's `kind` has it (a GRU's or an RNN's memory is h)."""
    return {
        "key": key,
        "layer": view.layer,
        "cell": view.cell,
        "jump": jump,
        "signal": view.signal,
        "signal_label": signal_name(view.signal, kind),
        "gate": view.gate,
        "selected": selected,
        "sync_ms": SYNC_MS,
        "card": {
            "layer": view.layer,
            "cell": view.cell,
            "rows": [[name, words] for name, words in offered(kind).items()],  # the card's rows, for this kind
            "values": {name: pack(values[name], "<f4") for name in offered(kind)},
        },
        "training": training,
    }


def training_part(layer: int, cell: int, values: list | None, snapshots: list[dict], samples: list[str] | None) -> dict:
    """One cell over training, for the text view's training slider: its signal at every snapshot
    (`values`, (T,) each, sent at once, so that the slider recolours the text with no message to
    the server), each snapshot's characters seen, validation loss (nats, None if not recorded) and
    sample. `values` and `samples` are None until the page asks for them: they load every snapshot
    and trace the text at each, as much work as many pastes. The slider's last stop is the model
    itself, coloured as the text view colours it."""
    return {
        "layer": layer,
        "cell": cell,
        "values": None if values is None else [pack(v, "<f4") for v in values],
        "chars_seen": [s["chars_seen"] for s in snapshots],
        "val": [s["val"] for s in snapshots],
        "index": [s["index"] for s in snapshots],
        "samples": samples,
    }


def next_char_part(trace: Trace, pos: int) -> dict:
    """The next-character panel: the top guesses after `pos` and which one came next; if that one
    is not among them, a row of its own."""
    actual = trace.text[pos + 1] if pos + 1 < len(trace.text) else None
    top = trace.top_k(pos, TOP)
    rows = [{"label": label(c), "p": p, "actual": c == actual} for c, p in top]
    if actual is not None and actual not in [c for c, _ in top]:
        p = 0.0 if trace.unknown[pos + 1] else float(np.exp(-trace.loss_per_char[pos]))
        rows.append({"label": f"{label(actual)} (actual)", "p": p, "actual": True})
    return {
        "kind": "next",
        "title": f"Next character after position {pos} ({label(trace.text[pos])})",
        "rows": rows,
        "note": "" if actual is not None else "This is the last character: nothing came after it.",
    }


def cells_part(values: np.ndarray, pos: int, signal_label: str) -> dict:
    """Every cell of the layer at `pos`, (H,), as bars; it does not mark the chosen cell, so a cell
    switch leaves it unchanged."""
    return {
        "kind": "cells",
        "title": f"Every cell's {signal_label} at position {pos}",
        "values": pack(values, "<f4"),
        "note": "One bar per cell; click a bar to show that cell.",
    }


def strip_part(trace: Trace, selected: int, before: int = 24, after: int = 48) -> dict:
    """Columns of the prediction strip around `selected`: the character, the top guesses for the
    character after it, and which guess was right. It does not depend on the chosen cell."""
    start, stop = max(0, selected - before), min(len(trace.ids), selected + after + 1)
    ids, probs = trace.top_k_ids(TOP, start, stop)
    cols = []
    for t in range(start, stop):
        nxt = int(trace.ids[t + 1]) if t + 1 < len(trace.ids) else -1
        guesses = ids[t - start].tolist()
        cols.append(
            {
                "t": t,
                "label": label(trace.text[t]),
                "top": [[label(trace.vocab.symbol(i)), float(p)] for i, p in zip(guesses, probs[t - start])],
                "hit": guesses.index(nxt) if nxt > 0 and nxt in guesses else -1,
            }
        )
    return {"cols": cols, "selected": selected}


def heatmap_part(
    values: np.ndarray,
    cells: list[int],
    start: int,
    chars: str,
    chosen: int,
    selected: int,
    title: str,
    groups: list[str] | None = None,
) -> dict:
    """The heatmap's rows (`cells`, in order) over the characters `chars` starting at `start`;
    values is (len(chars), len(cells)) and travels row by row. `groups`: each row's group title,
    when the rows are grouped by label (drawn as text, never as HTML)."""
    part = {
        "cells": list(cells),
        "start": start,
        "labels": [label(c) for c in chars],
        "values": pack(values.T, "<f4"),
        "chosen": chosen,
        "selected": selected,
        "title": title,
    }
    if groups is not None:
        part["groups"] = list(groups)
    return part
