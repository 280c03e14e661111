"""The signals the app colours text by (tanh(c_t), h_t and three gates), named for the page.

Values come from `Trace.signal` and `Trace.gates`, only for the cells and positions asked
for, so one cell's gates over 10,000 characters cost a (T, in) x (in, 1) product per gate.
"""

from __future__ import annotations

import numpy as np

from lstm_viz import Trace
from lstm_viz.views.view import NAMES

CARD_SIGNALS = ("cell", "hidden", "input", "forget", "output")  # shown in the hover card
SIGNALS = {name: NAMES[name] for name in CARD_SIGNALS}  # name -> what the app calls it


def cell_signals(trace: Trace, layer: int, cell: int) -> dict[str, np.ndarray]:
    """Every signal of one cell over the whole text: name -> (T,) float32."""
    out = {"cell": trace.cell[layer, :, cell], "hidden": trace.hidden[layer, :, cell]}
    out.update(trace.gates(("input", "forget", "output"), layer, [cell]))
    return {name: np.asarray(out[name], dtype=np.float32).reshape(-1) for name in CARD_SIGNALS}
