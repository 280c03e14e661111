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


def _times_previous_hidden(trace: Trace, layer: int, start: int, stop: int, w: np.ndarray) -> np.ndarray:
    """(stop - start, k) h_{t-1} @ w for positions start..stop-1, without copying the hidden states."""
    h = trace.hidden[layer]
    if start > 0:
        return h[start - 1:stop - 1] @ w
    return np.concatenate([trace.initial[0][layer][None] @ w, h[:max(stop - 1, 0)] @ w])


def gates(trace: Trace, names, layer: int, cells, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
    """name -> (stop - start, k) activations of each gate in `names` for the cells `cells`.

    All the gates asked for come out of one product, so the inputs are read once.
    """
    stop = len(trace.ids) if stop is None else stop
    w_ih, w_hh, b = trace.weights[layer]
    H = trace.cell.shape[2]
    cells = np.asarray(cells)
    rows = np.concatenate([GATES.index(name) * H + cells for name in names])
    x = trace.embedding[trace.ids[start:stop]] if layer == 0 else trace.hidden[layer - 1, start:stop]
    pre = x @ w_ih[rows].T + _times_previous_hidden(trace, layer, start, stop, w_hh[rows].T) + b[rows]
    out = {}
    for name, part in zip(names, np.split(pre, len(names), axis=1)):
        out[name] = np.tanh(part) if name == "candidate" else 0.5 + 0.5 * np.tanh(0.5 * part)  # overflow-free sigmoid
    return out


def gate(trace: Trace, name: str, layer: int, cells, start: int = 0, stop: int | None = None) -> np.ndarray:
    """(stop - start, k) activations of gate `name` for the cells `cells` (k indices)."""
    return gates(trace, [name], layer, cells, start, stop)[name]


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
    out = {"cell": trace.cell[layer, :, cell], "hidden": trace.hidden[layer, :, cell]}
    out.update(gates(trace, ("input", "forget", "output"), layer, [cell]))
    return {name: np.asarray(out[name], dtype=np.float32).reshape(-1) for name in CARD_SIGNALS}
