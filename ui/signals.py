"""The signals of a cell that the app colours text by: tanh(c_t), h_t and the gates.

Gates are recovered only for the cells and positions asked for, from the weights the trace
keeps, so one cell's gates over 10,000 characters cost a (T, in) x (in, 1) product per gate.
"""
from __future__ import annotations

import numpy as np

from lstm_viz import GATES, Trace

SIGNALS = {  # name -> what the app calls it
    "cell": "cell state tanh(c)",
    "hidden": "hidden state h",
    "input": "input gate",
    "forget": "forget gate",
    "output": "output gate",
}
CARD_SIGNALS = ("cell", "hidden", "input", "forget", "output")  # shown in the hover card


def previous_hidden(trace: Trace, layer: int, start: int, stop: int) -> np.ndarray:
    """(stop - start, H) h_{t-1} of `layer` for positions start..stop-1."""
    h = trace.hidden[layer, max(start - 1, 0):max(stop - 1, 0)]
    if start == 0:
        h = np.concatenate([trace.initial[0][layer][None], h])
    return h


def gate(trace: Trace, name: str, layer: int, cells, start: int = 0, stop: int | None = None) -> np.ndarray:
    """(stop - start, k) activations of gate `name` for the cells `cells` (k indices)."""
    stop = len(trace.ids) if stop is None else stop
    w_ih, w_hh, b = trace.weights[layer]
    H = trace.cell.shape[2]
    rows = GATES.index(name) * H + np.asarray(cells)
    x = trace.embedding[trace.ids[start:stop]] if layer == 0 else trace.hidden[layer - 1, start:stop]
    pre = x @ w_ih[rows].T + previous_hidden(trace, layer, start, stop) @ w_hh[rows].T + b[rows]
    return np.tanh(pre) if name == "candidate" else 1 / (1 + np.exp(-pre))


def signal(trace: Trace, name: str, layer: int, cells, start: int = 0, stop: int | None = None) -> np.ndarray:
    """(stop - start, k) float32 values of one signal for the cells `cells`."""
    if name == "cell":
        values = trace.cell[layer, start:stop][:, cells]
    elif name == "hidden":
        values = trace.hidden[layer, start:stop][:, cells]
    elif name in SIGNALS:
        values = gate(trace, name, layer, cells, start, stop)
    else:
        raise ValueError(f"unknown signal {name!r}; choose one of {', '.join(SIGNALS)}")
    return np.asarray(values, dtype=np.float32)


def cell_signals(trace: Trace, layer: int, cell: int) -> dict[str, np.ndarray]:
    """Every signal of one cell over the whole text: name -> (T,) float32."""
    return {name: signal(trace, name, layer, [cell])[:, 0] for name in CARD_SIGNALS}
