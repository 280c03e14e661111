"""The signals the app colours text by (tanh(c_t), h_t and three gates), named for the page.

Values come from `Trace.signal` and `Trace.gates`, only for the cells and positions asked
for, so one cell's gates over 10,000 characters cost a (T, in) x (in, 1) product per gate.
"""

from __future__ import annotations

import numpy as np

from lstm_viz import Trace
from lstm_viz.core.kernel import SIGNALS_OF
from lstm_viz.views.view import NAMES, signal_name

CARD_SIGNALS = ("cell", "hidden", "input", "forget", "output")  # shown in the hover card
SIGNALS = {name: NAMES[name] for name in (*CARD_SIGNALS, "reset", "update")}  # name -> what the app calls it


def offered(kind: str) -> dict[str, str]:
    """The signals a model of `kind` can colour the text by, in words: an LSTM's tanh(c), h and
    three gates; a GRU's memory h and its reset and update gates; a vanilla RNN's memory h (its
    hidden state is its memory, so it is not offered twice)."""
    if kind == "lstm":
        return {name: NAMES[name] for name in CARD_SIGNALS}
    gates = [name for name in SIGNALS_OF[kind] if name in ("reset", "update")]
    return {"cell": signal_name("cell", kind)} | {name: NAMES[name] for name in gates}


def cell_signals(trace: Trace, layer: int, cell: int) -> dict[str, np.ndarray]:
    """Every signal of one cell over the whole text: name -> (T,) float32; the gates a kind of
    model lacks (a GRU's or an RNN's input, forget and output) are NaN, which the card leaves blank."""
    out = {"cell": trace.cell[layer, :, cell], "hidden": trace.hidden[layer, :, cell]}
    gates = [name for name in ("input", "forget", "output") if name in trace.gate_names]
    if gates:
        out.update(trace.gates(gates, layer, [cell]))
    blank = np.full(len(trace.text), np.nan, dtype=np.float32)
    return {name: np.asarray(out.get(name, blank), dtype=np.float32).reshape(-1) for name in CARD_SIGNALS}
