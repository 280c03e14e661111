"""Exact per-character tracing of every LSTM cell, like TransformerLens's run_with_cache.

Each layer runs through the fused LSTM kernel (the same call `nn.LSTM` makes), which returns
h_t for every step but only the last c. The output gate is then recovered for all steps at once
with one batched matmul from h_{t-1}, and tanh(c_t) = h_t / o_t. Where o_t could underflow, the
input, forget and candidate gates are recovered instead and c_t = f_t * c_{t-1} + i_t * g_t is
solved as a blocked scan.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch

from .vocab import Vocab, normalise

GATES = ("input", "forget", "candidate", "output")  # PyTorch's row order in the LSTM weights
SIGNALS = ("cell", "hidden") + GATES  # what `Trace.signal` gives: tanh(c_t), h_t and the gates


@dataclass
class Trace:
    """Activations of one text, for every layer and every character (after reading it)."""
    text: str  # the normalised text; character t is text[t]
    ids: np.ndarray  # (T,) int64
    cell: np.ndarray  # (L, T, H) float32, tanh(c_t)
    hidden: np.ndarray  # (L, T, H) float32, h_t
    log_probs: np.ndarray  # (T, V) float32, log p(next char | text[:t+1])
    initial: tuple  # (h_0, c_0), each (L, H) float32: the state before the first character
    final: tuple  # (h_T, c_T), each (L, H) float32: the state after the last character
    vocab: Vocab = field(repr=False)
    weights: list = field(repr=False)  # per layer (W_ih, W_hh, b_ih + b_hh), numpy
    embedding: np.ndarray = field(repr=False)  # (V, E)
    interventions: tuple = ()  # the Clamp and Scale edits this run was made with

    def contributions(self, layer: int, cell: int, t: int) -> np.ndarray:
        """(t + 1,) float64: the part of the raw cell state c_t written at each character s <= t.

        Entry s is i_s * g_s * prod_{r=s+1..t} f_r; the initial state's share prod_{r<=t} f_r * c_0
        is added to entry 0, so the entries sum to c_t. Interventions on this cell count as
        written where they act: a clamp at s writes its value and erases what came before it,
        a scale multiplies what was there and what is written at s.
        """
        L, T, H = self.shape
        if not (0 <= layer < L and 0 <= cell < H):
            raise ValueError(f"no cell {cell} in layer {layer}: the model has {L} layers of {H} cells (counted from 0)")
        if not 0 <= t < T:
            raise ValueError(f"position {t} is outside the text (0 to {T - 1})")
        g = self.gates(("input", "forget", "candidate"), layer, [cell], 0, t + 1)
        write = (g["input"] * g["candidate"])[:, 0].astype(np.float64)  # (t + 1,)
        keep = g["forget"][:, 0].astype(np.float64)  # (t + 1,)
        for iv in self.interventions:
            if iv.layer == layer and cell in iv.cells:
                span = slice(iv.start, min(iv.stop if iv.stop is not None else T, t + 1))
                iv.apply_written(keep[span], write[span])
        after = np.append(np.cumprod(keep[::-1])[::-1][1:], 1.0)  # prod_{r=s+1..t} keep_r
        out = write * after
        out[0] += self.initial[1][layer, cell] * np.prod(keep)
        return out

    @property
    def unknown(self) -> np.ndarray:
        """(T,) bool: characters outside the model's alphabet."""
        return self.ids == 0

    @property
    def shape(self) -> tuple[int, int, int]:
        """(layers, characters, cells per layer)."""
        return self.cell.shape

    def gates(self, names, layer: int, cells=None, start: int = 0, stop: int | None = None) -> dict:
        """name -> (stop - start, k) activations of each gate in `names` for `cells` (all if None).

        input, forget and output are sigmoids, candidate a tanh; all come out of one product
        from the layer's input and h_{t-1}, computed only for the cells and steps asked for.
        """
        for name in names:
            if name not in GATES:
                raise ValueError(f"unknown gate {name!r}; choose one of {', '.join(GATES)}")
        w_ih, w_hh, b = self.weights[layer]
        L, T, H = self.cell.shape
        stop = T if stop is None else stop
        cells = np.arange(H) if cells is None else np.asarray(cells)
        rows = np.concatenate([GATES.index(name) * H + cells for name in names])
        x = self.embedding[self.ids[start:stop]] if layer == 0 else self.hidden[layer - 1, start:stop]  # (t, in)
        h = self.hidden[layer]
        w = w_hh[rows].T  # (H, k * len(names))
        recurrent = h[start - 1:stop - 1] @ w if start > 0 else \
            np.concatenate([self.initial[0][layer][None] @ w, h[:max(stop - 1, 0)] @ w])  # h_{t-1} @ W_hh
        pre = x @ w_ih[rows].T + recurrent + b[rows]
        return {name: np.tanh(part) if name == "candidate" else 0.5 + 0.5 * np.tanh(0.5 * part)  # sigmoid
                for name, part in zip(names, np.split(pre, len(names), axis=1))}

    def gate(self, name: str, layer: int, cells=None, start: int = 0, stop: int | None = None) -> np.ndarray:
        """(stop - start, k) activations of one gate: input, forget, output or candidate."""
        return self.gates([name], layer, cells, start, stop)[name]

    def signal(self, name: str, layer: int, cells=None, start: int = 0, stop: int | None = None) -> np.ndarray:
        """(stop - start, k) float32 values of one signal (see SIGNALS) for `cells` (all if None).

        The one accessor the finder, the app and the analyses read activations through.
        """
        if name not in SIGNALS:
            raise ValueError(f"unknown signal {name!r}; choose one of {', '.join(SIGNALS)}")
        if name in GATES:
            return self.gate(name, layer, cells, start, stop).astype(np.float32, copy=False)
        values = (self.cell if name == "cell" else self.hidden)[layer, start:stop]  # (t, H)
        return values if cells is None else values[:, np.asarray(cells)]

    def probs(self, t: int) -> np.ndarray:
        """(V,) distribution of the character after position t."""
        return np.exp(self.log_probs[t].astype(np.float64))

    def top_k(self, t: int, k: int = 5) -> list[tuple[str, float]]:
        """The k likeliest next characters after position t, with their probabilities."""
        ids, probs = self.top_k_ids(k, t, t + 1)
        return [(self.vocab.symbol(int(i)), float(p)) for i, p in zip(ids[0], probs[0])]

    def top_k_ids(self, k: int = 5, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(n, k) ids and (n, k) float64 probabilities of the k likeliest next characters at every
        position in [start, stop), likeliest first (ties by id), for many positions at once."""
        log_probs = self.log_probs[start:stop]  # (n, V)
        ids = np.argsort(-log_probs, axis=1, kind="stable")[:, :k]
        return ids, np.exp(np.take_along_axis(log_probs, ids, axis=1).astype(np.float64))

    @property
    def loss_per_char(self) -> np.ndarray:
        """(T,) nats of predicting character t+1; NaN where it is unknown or absent."""
        loss = np.full(len(self.ids), np.nan, dtype=np.float32)
        nxt = self.ids[1:]
        known = nxt != 0
        loss[:-1][known] = -self.log_probs[np.arange(len(nxt))[known], nxt[known]]
        return loss

    @property
    def bits_per_char(self) -> float:
        """Mean loss over the known next characters, in bits."""
        loss = self.loss_per_char
        return float(np.nanmean(loss) / math.log(2)) if np.isfinite(loss).any() else float("nan")

    # Views for notebooks and papers (lstm_viz.render, lstm_viz.figures, lstm_viz.notebook) ----------

    def to_html(self, layer: int = 0, cell: int = 0, signal: str = "cell", **view) -> str:
        """Static, self-contained HTML of the text coloured by one cell (see `lstm_viz.render.to_html`)."""
        from .render import to_html
        return to_html(self, layer, cell, signal, **view)

    def _repr_html_(self) -> str:
        from .render import repr_html
        return repr_html(self)

    def figure(self, kind: str = "text", layer: int = 0, cell: int = 0, signal: str = "cell", **options):
        """A paper figure as SVG text (or PNG bytes with format="png"); see `lstm_viz.figures.figure`."""
        from .figures import figure
        return figure(self, kind, layer, cell, signal, **options)

    def show(self, layer: int = 0, cell: int = 0, signal: str = "cell", **view):
        """The interactive notebook widget: hover cards, Up/Down to change cells, the top-5 strip."""
        from .notebook import TraceWidget
        return TraceWidget(self, layer, cell, signal, **view)


def linear_scan(f: torch.Tensor, u: torch.Tensor, c0: torch.Tensor) -> torch.Tensor:
    """Solve c_t = f_t * c_{t-1} + u_t for f, u (T, H) from c0 (H,) in about 2*sqrt(T) steps.

    Blocks of B steps are scanned side by side from zero; a short pass then carries the
    state from block to block, and c = local + (product of f within the block) * carry.
    """
    T, H = f.shape
    B = max(1, math.isqrt(T))
    n = -(-T // B)
    pad = n * B - T
    F = torch.cat([f, f.new_ones(pad, H)]).view(n, B, H)
    U = torch.cat([u, u.new_zeros(pad, H)]).view(n, B, H)
    local, prod = torch.empty_like(U), torch.empty_like(F)
    acc, p = U.new_zeros(n, H), F.new_ones(n, H)
    for k in range(B):
        acc = torch.addcmul(U[:, k], F[:, k], acc)
        p = p * F[:, k]
        local[:, k], prod[:, k] = acc, p
    carry = [c0]
    for b in range(n - 1):
        carry.append(torch.addcmul(local[b, -1], prod[b, -1], carry[-1]))
    c = torch.addcmul(local, prod, torch.stack(carry)[:, None])  # (n, B, H)
    return c.view(n * B, H)[:T]


def exact_cells(x, h_prev, weights, cols, c0) -> torch.Tensor:
    """tanh(c_t) (T, k) of the cells `cols`, by recovering i, f, g and scanning the recurrence."""
    w_ih, w_hh, b = weights
    H = w_hh.shape[1]
    rows = torch.cat([cols, cols + H, cols + 2 * H])  # i, f, g rows of these cells
    pre = torch.addmm(b[rows], x, w_ih[rows].T).addmm_(h_prev, w_hh[rows].T)  # (T, 3k)
    i, f, g = pre.chunk(3, dim=1)
    return linear_scan(f.sigmoid(), i.sigmoid() * g.tanh(), c0).tanh()


def fused_layer(x, h0, c0, params, tanh_c=None):
    """One layer over x (T, in) from h0, c0 (H,) through the fused LSTM kernel.

    Returns h (T, H), tanh(c) (T, H) (written into `tanh_c` when given), and the final h, c (H,).
    tanh(c_t) is h_t / o_t, with the output gate o recovered by one batched matmul; cells whose
    output gate ever nears underflow (pre-activation below -60) are scanned exactly.
    """
    w_ih, w_hh, b_ih, b_hh = params
    H = w_hh.shape[1]
    out, h_n, c_n = torch.lstm(x[None], (h0[None, None], c0[None, None]),
                               [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False, True)
    out = out[0]  # (T, H)
    b = b_ih + b_hh
    pre_o = torch.addmm(b[3 * H:], x, w_ih[3 * H:].T)  # (T, H): output gate, before sigmoid
    pre_o[1:].addmm_(out[:-1], w_hh[3 * H:].T)  # h_{t-1} @ W_ho for t >= 1 ...
    pre_o[0] += h0 @ w_hh[3 * H:].T  # ... and the initial state for t = 0
    cols = (pre_o < -60).any(0).nonzero()[:, 0]
    tanh_c = torch.empty_like(out) if tanh_c is None else tanh_c
    torch.div(out, pre_o.sigmoid_(), out=tanh_c).clamp_(-1, 1)
    if len(cols):
        h_prev = torch.cat([h0[None], out[:-1]])  # (T, H)
        tanh_c[:, cols] = exact_cells(x, h_prev, (w_ih, w_hh, b), cols, c0[cols])
    return out, tanh_c, h_n[0, 0], c_n[0, 0]


@torch.no_grad()
def trace(model, text: str, state=None, interventions=(), base: Trace | None = None) -> Trace:
    """Run `model` over `text` and keep every layer's c, h and the next-char distribution.

    `state` is an optional (h, c) pair, each (L, H), to continue from (see `trace_chunks`).
    Each layer runs through the fused kernel (see `fused_layer`); a layer with `interventions`
    (`lstm_viz.Clamp`, `lstm_viz.Scale`) is stepped by hand inside their spans (see
    `lstm_viz.intervene`). `base`, a trace of the same text and state, lends its layers below
    the first intervened one, which the interventions cannot change.
    """
    text = normalise(text)
    ids = model.vocab.encode(text)
    L, H = model.config.layers, model.config.hidden
    T = len(ids)
    if interventions:
        from .intervene import check, intervened_layer
        check(interventions, L, H, T)
    device = model.head.weight.device
    if state is None:
        state = (torch.zeros(L, H), torch.zeros(L, H))
    h0, c0 = (torch.as_tensor(s, dtype=torch.float32).to(device) for s in state)
    first = min((iv.layer for iv in interventions), default=L)
    reuse = (base is not None and bool(interventions) and base.text == text
             and all(np.array_equal(a, b.cpu().numpy()) for a, b in zip(base.initial, (h0, c0))))
    cell = np.empty((L, T, H), dtype=np.float32)
    hidden = np.empty((L, T, H), dtype=np.float32)
    h_last, c_last = h0.clone(), c0.clone()
    weights = []
    x = model.embedding(torch.as_tensor(ids, device=device))  # (T, E)
    for layer in range(L):
        params = model.layer_weights(layer)
        weights.append((params[0], params[1], params[2] + params[3]))
        if not T:
            continue
        if reuse and layer < first:
            cell[layer], hidden[layer] = base.cell[layer], base.hidden[layer]
            h_last[layer], c_last[layer] = (torch.as_tensor(s[layer]) for s in base.final)
            x = torch.as_tensor(hidden[layer], device=device)
            continue
        edits = [iv for iv in interventions if iv.layer == layer]
        on_cpu = device.type == "cpu"  # then write straight into the result array
        into = torch.from_numpy(cell[layer]) if on_cpu else None
        run = partial(intervened_layer, edits=edits) if edits else fused_layer
        out, tanh_c, h_last[layer], c_last[layer] = run(x, h0[layer], c0[layer], params, into)
        if not on_cpu:
            cell[layer] = tanh_c.cpu().numpy()
        hidden[layer] = out.cpu().numpy()
        x = out
    log_probs = torch.log_softmax(model.head(x if T else x.new_zeros(0, H)), -1).cpu().numpy()  # (T, V)
    return Trace(text=text, ids=ids, cell=cell, hidden=hidden, log_probs=log_probs,
                 initial=(h0.cpu().numpy(), c0.cpu().numpy()),
                 final=(h_last.cpu().numpy(), c_last.cpu().numpy()), vocab=model.vocab,
                 weights=[tuple(w.detach().cpu().numpy() for w in ws) for ws in weights],
                 embedding=model.embedding.weight.detach().cpu().numpy(), interventions=tuple(interventions))


def trace_chunks(model, text: str, chunk: int = 10_000):
    """Yield (start, Trace) for consecutive pieces of a long text, carrying the state across."""
    text = normalise(text)
    state = None
    for start in range(0, len(text), chunk):
        piece = trace(model, text[start:start + chunk], state)
        state = piece.final
        yield start, piece
