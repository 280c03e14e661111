"""Ablation ranking: which cells the model needs to predict a chosen set of characters.

Every cell of every layer has its memory (an LSTM's c_t, a GRU's or RNN's h_t) zeroed throughout
(as `Scale(layer, cell, 0)`) or held at its mean (as `Clamp(layer, cell, mean)`), and the cells
are ranked by how much that lowers the
mean log-probability of the target characters. The ablated runs are the rows of one batch:
ablating a cell of layer l re-runs layers l and up only, from the plain run's input to layer l,
only up to the last target, and reads the head only where a target is predicted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..core import features
from ..core.checks import check_choice
from ..core.reference import input_bias, layer_step
from ..core.vocab import normalise

MODES = ("zero", "mean")
PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16}
QUOTE_CLOSERS, BRACKET_CLOSERS = '"\u201d', ")]}"


def closing_positions(text: str) -> np.ndarray:
    """(n,) int64: positions j >= 1 where text[j] closes a quote or a bracket (`lstm_viz.core.features`)."""
    text = normalise(text)
    if len(text) < 2:
        return np.zeros(0, dtype=np.int64)
    chars = np.array(list(text))
    inside = features.quotes(text)
    depth = features.bracket_depth(text)
    closes_quote = np.isin(chars[1:], list(QUOTE_CLOSERS)) & inside[:-1] & ~inside[1:]
    closes_bracket = np.isin(chars[1:], list(BRACKET_CLOSERS)) & (depth[:-1] > 0)
    return np.flatnonzero(closes_quote | closes_bracket) + 1


@torch.no_grad()
def batched_scores(
    model,
    layer: int,
    x: torch.Tensor,
    ablate: torch.Tensor,
    values: torch.Tensor,
    reads: np.ndarray,
    targets: torch.Tensor,
    dtype,
) -> torch.Tensor:
    """(1 + k,) mean log p of the targets: row 0 as is, row 1 + j with cell ablate[j] of `layer`
    held at values[j]. x (n, in) is the plain run's input to `layer`; reads (m,) are the steps
    whose next-char prediction is scored, targets (m,) the characters expected there."""
    L, H, kind = model.config.layers, model.config.hidden, model.kind
    B = 1 + len(ablate)
    rows = torch.arange(1, B)
    weights = [model.layer_weights(k) for k in range(L)]
    w_ih = [w[0].to(dtype) for w in weights]
    params = [(w[0], w[1].to(dtype), w[2], w[3]) for w in weights]  # the recurrent product in `dtype`
    bias = [input_bias(kind, w[2], w[3]) for w in weights]
    xw = torch.addmm(bias[layer], x, weights[layer][0].T)  # (n, G*H): layer's input side, shared by all rows

    def edit(memory):
        memory[rows, ablate] = values

    h = {k: x.new_zeros(B, H) for k in range(layer, L)}
    c = {k: x.new_zeros(B, H) if kind == "lstm" else None for k in range(layer, L)}
    total = x.new_zeros(B)
    read_at = dict(zip(reads.tolist(), targets.tolist()))
    for t in range(int(reads.max()) + 1):
        h[layer], c[layer] = layer_step(kind, xw[t, None], h[layer], c[layer], params[layer], edit)
        for k in range(layer + 1, L):
            below = (h[k - 1].to(dtype) @ w_ih[k].T).float() + bias[k]  # (B, G*H)
            h[k], c[k] = layer_step(kind, below, h[k], c[k], params[k])
        if t in read_at:
            total += torch.log_softmax(model.head(h[L - 1]), -1)[:, read_at[t]]
    return total / len(reads)


def ablation_ranking(
    model, text: str, positions=None, chars=None, mode: str = "zero", precision: str = "bfloat16", batch: int = 256
) -> pd.DataFrame:
    """Rank every cell of every layer by how much ablating it lowers the targets' mean log p.

    positions: indices j of the characters to predict (default: where a quote or a bracket
    closes, `closing_positions`); chars: the character to score at each (default the actual
    text[j]). mode "zero" sets the memory (an LSTM's c_t, a GRU's or RNN's h_t) to 0, "mean" holds
    it at the cell's mean over the text.
    precision "bfloat16" does the recurrent matmuls in bfloat16 (much faster on CPUs with AMX;
    gates and states stay float32), "float32" is exact. Columns: layer, cell (from 0), delta
    (mean log p ablated minus plain, nats; most negative first), rank (from 1).
    """
    check_choice("ablation mode", mode, MODES)
    check_choice("precision", precision, PRECISIONS)
    if not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be a positive whole number, not {batch!r}")
    text = normalise(text)
    ids = model.vocab.encode(text)
    positions = closing_positions(text) if positions is None else np.asarray(positions, dtype=np.int64).ravel()
    if not len(positions):
        raise ValueError("no target positions: the text closes no quote or bracket (give positions)")
    if positions.min() < 1 or positions.max() >= len(ids) or len(set(positions.tolist())) < len(positions):
        raise ValueError(f"target positions must be distinct and between 1 and {len(ids) - 1}")
    if chars is None:
        targets = ids[positions]
    else:
        chars = normalise("".join(chars))  # "\r\n" is one "\n", as in the text
        if len(chars) != len(positions):
            raise ValueError(f"{len(chars)} target characters for {len(positions)} positions")
        targets = model.vocab.encode(chars)
    n = int(positions.max())  # steps 0 .. n - 1 are read
    plain = model.trace(text[:n])
    L, H = model.config.layers, model.config.hidden
    dtype = PRECISIONS[precision]
    reads = positions - 1
    targets = torch.as_tensor(targets)
    frames = []
    for layer in range(L):
        x = model.embedding(torch.as_tensor(ids[:n])) if layer == 0 else torch.from_numpy(plain.hidden[layer - 1])
        x = x.detach()
        fill = torch.from_numpy(plain.raw_memory(layer)).mean(0) if mode == "mean" else torch.zeros(H)  # (H,)
        for lo in range(0, H, batch):
            cells = torch.arange(lo, min(lo + batch, H))
            scores = batched_scores(model, layer, x, cells, fill[cells], reads, targets, dtype)
            frames.append(
                pd.DataFrame(
                    {
                        "layer": layer,
                        "cell": cells.numpy(),
                        "delta": (scores[1:] - scores[0]).numpy().astype(np.float64),
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True).sort_values("delta", kind="stable", ignore_index=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table
