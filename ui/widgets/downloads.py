"""Files to download: one cell's signals as CSV, the whole trace as NPZ, paper figures as SVG or PNG."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable

import numpy as np
import pandas as pd

from lstm_viz import Trace, View
from lstm_viz.core.vocab import codepoints
from lstm_viz.views import figures

from ..session.signals import cell_signals


def later(make: Callable[..., bytes], source: Callable[[], Trace], *args) -> Callable[[], bytes]:
    """make(source(), *args) when called: a download's file, built when it is clicked from the
    trace `source` gives then (ui/backend/cache.trace_source)."""
    return lambda: make(source(), *args)


COLUMNS = {  # a signal's column in a cell's CSV (a GRU's or an RNN's memory is its h)
    "cell": "tanh_c",
    "hidden": "h",
    "input": "input_gate",
    "forget": "forget_gate",
    "output": "output_gate",
    "reset": "reset_gate",
    "update": "update_gate",
}


def cell_csv(trace: Trace, layer: int, cell: int) -> bytes:
    """One row per character: the character, this cell's signals, the next character's probability."""
    values = cell_signals(trace, layer, cell)
    loss = trace.loss_per_char
    columns = COLUMNS | ({} if trace.kind == "lstm" else {"cell": "h"})
    frame = pd.DataFrame(
        {"position": np.arange(len(trace.ids)), "char": list(trace.text), "unknown": trace.unknown}
        | {columns[name]: value for name, value in values.items()}
        | {"p_next": np.exp(-loss)}
    )
    return frame.to_csv(index=False, float_format="%.6g").encode("utf-8", "surrogatepass")


def trace_npz(trace: Trace) -> bytes:
    """Every layer's tanh(c) and h (L, T, H), the log-probabilities (T, V), text and alphabet.

    Text and alphabet are stored as code points (uint32): numpy's string type would drop
    trailing NULs. Read them back with "".join(map(chr, npz["text"])).
    """
    out = io.BytesIO()
    np.savez(
        out,
        text=codepoints(trace.text),
        alphabet=codepoints("".join(trace.vocab.chars)),
        ids=trace.ids,
        unknown=trace.unknown,
        cell=trace.cell,
        hidden=trace.hidden,
        log_probs=trace.log_probs,
    )
    return out.getvalue()


FIGURE_CHARS = {"text": 320, "cells": 120, "strip": 48, "heatmap": 60}  # characters a figure shows


def figure_window(kind: str, pos: int, length: int) -> tuple[int, int]:
    """[start, stop) of a figure around the selected position: a quarter before it, the rest after."""
    n = FIGURE_CHARS[kind]
    start = max(0, min(pos - n // 4, length - n))
    return start, min(length, start + n)


def figure(
    trace: Trace, view: View, kind: str, pos: int, fmt: str, model: str, cells: list[int] | None = None
) -> bytes:
    """One of `lstm_viz.views.figures` of `view` around the selected position, as SVG or PNG bytes."""
    start, stop = figure_window(kind, pos, len(trace.text))
    out = figures.figure(trace, dataclasses.replace(view, start=start, stop=stop), kind, cells, model, fmt)
    return out.encode("utf-8") if fmt == "svg" else out
