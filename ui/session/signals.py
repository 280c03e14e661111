"""The signals the app colours text by (tanh(c_t), h_t and three gates), named for the page.

Values come from `Trace.signal` and `Trace.gates`, only for the cells and positions asked
for, so one cell's gates over 10,000 characters cost a (T, in) x (in, 1) product per gate.
"""

from __future__ import annotations

import numpy as np

from lstm_viz import Trace
from lstm_viz.core.kernel import SIGNALS_OF
from lstm_viz.views.view import NAMES, signal_name

LSTM_OFFERED = ("cell", "hidden", "input", "forget", "output")  # an LSTM's (its candidate is not offered)
SIGNALS = {name: NAMES[name] for name in (*LSTM_OFFERED, "reset", "update")}  # name -> what the app calls it


def offered(kind: str) -> dict[str, str]:
    """The signals a model of `kind` can colour the text by, in words: an LSTM's tanh(c), h and
    three gates; a GRU's memory h and its reset and update gates; a vanilla RNN's memory h (its
    hidden state is its memory, so it is not offered twice)."""
    if kind == "lstm":
        return {name: NAMES[name] for name in LSTM_OFFERED}
    gates = [name for name in SIGNALS_OF[kind] if name in ("reset", "update")]
    return {"cell": signal_name("cell", kind)} | {name: NAMES[name] for name in gates}


def cell_signals(trace: Trace, layer: int, cell: int) -> dict[str, np.ndarray]:
    """Every signal the page offers for this kind of model (`offered`), of one cell over the whole
    text: name -> (T,) float32, in the order the hover card lists them."""
    out = {"cell": trace.cell[layer, :, cell], "hidden": trace.hidden[layer, :, cell]}
    gates = [name for name in offered(trace.kind) if name in trace.gate_names]
    if gates:
        out.update(trace.gates(gates, layer, [cell]))
    return {name: np.asarray(out[name], dtype=np.float32).reshape(-1) for name in offered(trace.kind)}
