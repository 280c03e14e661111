"""Files to download: one cell's signals as CSV, the whole trace as NPZ."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from lstm_viz import Trace
from lstm_viz.vocab import codepoints

from .signals import cell_signals


def cell_csv(trace: Trace, layer: int, cell: int) -> bytes:
    """One row per character: the character, this cell's signals, the next character's probability."""
    values = cell_signals(trace, layer, cell)
    loss = trace.loss_per_char
    frame = pd.DataFrame({
        "position": np.arange(len(trace.ids)),
        "char": list(trace.text),
        "unknown": trace.unknown,
        "tanh_c": values["cell"],
        "h": values["hidden"],
        "input_gate": values["input"],
        "forget_gate": values["forget"],
        "output_gate": values["output"],
        "p_next": np.exp(-loss),
    })
    return frame.to_csv(index=False, float_format="%.6g").encode("utf-8", "surrogatepass")


def trace_npz(trace: Trace) -> bytes:
    """Every layer's tanh(c) and h (L, T, H), the log-probabilities (T, V), text and alphabet.

    Text and alphabet are stored as code points (uint32): numpy's string type would drop
    trailing NULs. Read them back with "".join(map(chr, npz["text"])).
    """
    out = io.BytesIO()
    np.savez(out, text=codepoints(trace.text), alphabet=codepoints("".join(trace.vocab.chars)), ids=trace.ids,
                        unknown=trace.unknown, cell=trace.cell, hidden=trace.hidden, log_probs=trace.log_probs)
    return out.getvalue()
