"""Exact per-character tracing of every LSTM cell, like TransformerLens's run_with_cache.

`trace` runs each layer of a model through the layer kernels of `lstm_viz.core.kernel` (the fused
LSTM kernel, with tanh(c_t) recovered as h_t / o_t) and keeps every layer's tanh(c_t) and h_t
and the next-character distribution in a `Trace`; gates are derived from it on demand.

`Trace.to_html`, `figure` and `show` are facade methods, like pandas' `DataFrame.plot`: they
import their view module (`render`, `figures`, `notebook`, which build on this one) when called.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch

from .checks import check_choice
from .edits import check
from .kernel import (
    GATES,
    GATES_OF,
    NAMED,
    SIGNALS_OF,
    check_signal,
    float32_matmuls,
    fused_layer,
    intervened_layer,
    intervened_plain_layer,
    linear_scan,
    plain_layer,
)
from .vocab import Vocab, normalise


@dataclass
class Trace:
    """Activations of one text, for every layer and every character (after reading it).

    For a GRU or an RNN (`kind`), which have no cell state c, `cell` is h_t itself (the same
    array as `hidden`): `memory` names that for every kind.
    """

    text: str  # the normalised text; character t is text[t]
    ids: np.ndarray  # (T,) int64
    cell: np.ndarray  # (L, T, H) float32, tanh(c_t) (a GRU's or RNN's: h_t, see `memory`)
    hidden: np.ndarray  # (L, T, H) float32, h_t
    log_probs: np.ndarray  # (T, V) float32, log p(next char | text[:t+1])
    initial: tuple  # (h_0, c_0), each (L, H) float32: the state before the first character (a GRU's or RNN's: (h_0,))
    final: tuple  # (h_T, c_T), each (L, H) float32: the state after the last character (a GRU's or RNN's: (h_T,))
    vocab: Vocab = field(repr=False)
    weights: list = field(repr=False)  # per layer (W_ih, W_hh, b_ih + b_hh), numpy (a GRU's: W_ih, W_hh, b_ih, b_hh)
    embedding: np.ndarray = field(repr=False)  # (V, E)
    interventions: tuple = ()  # the Clamp and Scale edits this run was made with
    kind: str = "lstm"  # the model's: lstm, gru or rnn

    @property
    def memory(self) -> np.ndarray:
        """(L, T, H) float32: every kind's memory, in [-1, 1]: an LSTM's tanh(c_t) (its `cell`), a
        GRU's or an RNN's h_t (their only state)."""
        return self.cell

    @property
    def gate_names(self) -> tuple[str, ...]:
        """The gates of this kind, in PyTorch's row order: an LSTM's input, forget, candidate,
        output; a GRU's reset, update, candidate; an RNN has none."""
        return GATES_OF[self.kind]

    @property
    def signals(self) -> tuple[str, ...]:
        """The names `signal` takes for this kind: cell (the memory), hidden and the gates."""
        return SIGNALS_OF[self.kind]

    def _lstm_only(self, what: str) -> None:
        if self.kind != "lstm":
            raise ValueError(
                f"{what} has no meaning for {NAMED[self.kind]}: it has no cell state c_t (its memory is h_t)"
            )

    def contributions(self, layer: int, cell: int, t: int) -> np.ndarray:
        """(t + 1,) float64: the part of the raw cell state c_t written at each character s <= t.

        Entry s is i_s * g_s * prod_{r=s+1..t} f_r; the initial state's share prod_{r<=t} f_r * c_0
        is added to entry 0, so the entries sum to c_t. Interventions on this cell count as
        written where they act: a clamp at s writes its value and erases what came before it,
        a scale multiplies what was there and what is written at s.
        """
        self._lstm_only("who wrote c_t")
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
        A GRU's gates are reset, update (sigmoids) and candidate (n_t, a tanh); an RNN has none.
        """
        if self.kind != "lstm":
            return self._plain_gates(names, layer, cells, start, stop)
        for name in names:
            check_choice("gate", name, GATES)
        w_ih, w_hh, b = self.weights[layer]
        L, T, H = self.cell.shape
        stop = T if stop is None else stop
        cells = np.arange(H) if cells is None else np.asarray(cells)
        rows = np.concatenate([GATES.index(name) * H + cells for name in names])
        x = self.embedding[self.ids[start:stop]] if layer == 0 else self.hidden[layer - 1, start:stop]  # (t, in)
        h = self.hidden[layer]
        w = w_hh[rows].T  # (H, k * len(names))
        recurrent = (
            h[start - 1 : stop - 1] @ w
            if start > 0
            else np.concatenate([self.initial[0][layer][None] @ w, h[: max(stop - 1, 0)] @ w])
        )  # h_{t-1} @ W_hh
        pre = x @ w_ih[rows].T + recurrent + b[rows]
        return {
            name: np.tanh(part) if name == "candidate" else 0.5 + 0.5 * np.tanh(0.5 * part)  # sigmoid
            for name, part in zip(names, np.split(pre, len(names), axis=1))
        }

    def _previous_hidden(self, layer: int, start: int, stop: int) -> np.ndarray:
        """(stop - start, H) h_{t-1} of one layer for t in [start, stop), h_0 before the first."""
        h = self.hidden[layer]
        if start > 0:
            return h[start - 1 : stop - 1]
        return np.concatenate([self.initial[0][layer][None], h[: max(stop - 1, 0)]])

    def _plain_gates(self, names, layer: int, cells=None, start: int = 0, stop: int | None = None) -> dict:
        """`gates` of a GRU: r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise, and the
        candidate n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); an RNN has no gates."""
        if not self.gate_names:
            raise ValueError(f"{NAMED[self.kind]} has no gates (its one state is h_t)")
        for name in names:
            check_choice("gate", name, self.gate_names)
        w_ih, w_hh, b_ih, b_hh = self.weights[layer]
        L, T, H = self.shape
        stop = T if stop is None else stop
        cells = np.arange(H) if cells is None else np.asarray(cells)
        order = [g for g in self.gate_names if g in names or g == "reset" and "candidate" in names]
        rows = np.concatenate([self.gate_names.index(name) * H + cells for name in order])
        x = self.embedding[self.ids[start:stop]] if layer == 0 else self.hidden[layer - 1, start:stop]  # (t, in)
        from_x = dict(zip(order, np.split(x @ w_ih[rows].T + b_ih[rows], len(order), axis=1)))
        from_h = self._previous_hidden(layer, start, stop) @ w_hh[rows].T + b_hh[rows]
        from_h = dict(zip(order, np.split(from_h, len(order), axis=1)))
        sigmoid = {g: 0.5 + 0.5 * np.tanh(0.5 * (from_x[g] + from_h[g])) for g in ("reset", "update") if g in order}
        out = {g: sigmoid[g] for g in names if g != "candidate"}
        if "candidate" in names:
            out["candidate"] = np.tanh(from_x["candidate"] + sigmoid["reset"] * from_h["candidate"])
        return {name: out[name] for name in names}

    def gate(self, name: str, layer: int, cells=None, start: int = 0, stop: int | None = None) -> np.ndarray:
        """(stop - start, k) activations of one gate: input, forget, output or candidate (a GRU's
        reset, update or candidate)."""
        return self.gates([name], layer, cells, start, stop)[name]

    def signal(self, name: str, layer: int, cells=None, start: int = 0, stop: int | None = None) -> np.ndarray:
        """(stop - start, k) float32 values of one signal (see SIGNALS) for `cells` (all if None).

        The one accessor the finder, the app and the analyses read activations through. "cell"
        and "memory" are the memory of every kind (see `memory`).
        """
        if name == "memory":
            name = "cell"
        check_signal(name, self.kind)
        if name in self.gate_names:
            return self.gate(name, layer, cells, start, stop).astype(np.float32, copy=False)
        values = (self.cell if name == "cell" else self.hidden)[layer, start:stop]  # (t, H)
        return values if cells is None else values[:, np.asarray(cells)]

    def raw_cells(self, layer: int) -> np.ndarray:
        """(T, H) float32 raw cell states c_t of one layer (not squashed by tanh), solved exactly
        from the trace's gates: c_t = f_t * c_{t-1} + i_t * g_t from the initial state, with the
        run's interventions applied where they act (as in `contributions`)."""
        self._lstm_only("a raw cell state c_t")
        g = self.gates(("input", "forget", "candidate"), layer)
        keep, write = g["forget"], g["input"] * g["candidate"]  # (T, H)
        for iv in self.interventions:
            if iv.layer == layer:
                span, cells = slice(iv.start, iv.end(len(self.ids))), list(iv.cells)
                k, w = keep[span][:, cells], write[span][:, cells]  # copies, edited and written back
                iv.apply_written(k, w)
                keep[span, cells], write[span, cells] = k, w
        return linear_scan(
            torch.from_numpy(keep), torch.from_numpy(write), torch.from_numpy(self.initial[1][layer])
        ).numpy()

    def raw_memory(self, layer: int) -> np.ndarray:
        """(T, H) float32: the state that `lstm_viz.Clamp` and `lstm_viz.Scale` edit, unsquashed: an
        LSTM's raw cell state c_t (`raw_cells`), a GRU's or an RNN's h_t."""
        return self.raw_cells(layer) if self.kind == "lstm" else self.hidden[layer]

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

    # Views for notebooks and papers (lstm_viz.views.render, lstm_viz.views.figures, lstm_viz.views.notebook) ----------

    def to_html(self, view=None, **options) -> str:
        """Static, self-contained HTML of the text coloured by one cell (`lstm_viz.views.render.to_html`);
        `view` a `lstm_viz.View`, or its fields as keywords (layer=1, cell=429), with model=."""
        from ..views.render import to_html
        from ..views.view import split

        return to_html(self, *split(view, options))

    def _repr_html_(self) -> str:
        from ..views.render import repr_html

        return repr_html(self)

    def figure(self, kind: str = "text", view=None, **options):
        """A paper figure as SVG text (or PNG bytes with format="png"), see `lstm_viz.views.figures.figure`;
        `view` a `lstm_viz.View`, or its fields as keywords, with the figure's options."""
        from ..views.figures import figure
        from ..views.view import split

        view, rest = split(view, options)
        return figure(self, view, kind, **rest)

    def show(self, view=None, **options):
        """The interactive notebook widget: hover cards, Up/Down to change cells, the top-5 strip;
        `view` a `lstm_viz.View`, or its fields as keywords, with model= and labels=."""
        from ..views.notebook import TraceWidget
        from ..views.view import split

        view, rest = split(view, options)
        return TraceWidget(self, view, **rest)


@torch.no_grad()
def trace(model, text: str, state=None, interventions=(), base: Trace | None = None) -> Trace:
    """Run `model` over `text` and keep every layer's c, h and the next-char distribution.

    `state` is an optional (h, c) pair, each (L, H), to continue from (see `trace_chunks`).
    Each layer runs through the fused kernel (`lstm_viz.core.kernel.fused_layer`); a layer with
    `interventions` (`lstm_viz.Clamp`, `lstm_viz.Scale`) runs through `intervened_layer`.
    `base`, a plain trace of the same model, text and state, lends its layers below the first
    intervened one, which the interventions cannot change; any other base is a ValueError.
    On CUDA every matmul runs in full float32 (`float32_matmuls`). The model's training mode
    does not matter: no dropout is applied here.
    """
    if model.config.kind != "lstm":
        return trace_plain(model, text, state, interventions, base)
    text = normalise(text)
    ids = model.vocab.encode(text)
    L, H = model.config.layers, model.config.hidden
    T = len(ids)
    check(interventions, L, H, T)
    device = model.head.weight.device
    if state is None:
        state = (torch.zeros(L, H), torch.zeros(L, H))
    h0, c0 = (torch.as_tensor(s, dtype=torch.float32).to(device) for s in state)
    initial = (h0.cpu().numpy(), c0.cpu().numpy())
    params = [model.layer_weights(layer) for layer in range(L)]
    weights = [tuple(w.detach().cpu().numpy() for w in (p[0], p[1], p[2] + p[3])) for p in params]
    embedding = model.embedding.weight.detach().cpu().numpy()
    if base is not None:
        check_base(base, text, initial, weights, embedding)
    first = min((iv.layer for iv in interventions), default=L) if base is not None else 0
    cell = np.empty((L, T, H), dtype=np.float32)
    hidden = np.empty((L, T, H), dtype=np.float32)
    h_last, c_last = h0.clone(), c0.clone()
    with float32_matmuls() if device.type == "cuda" else nullcontext():
        x = model.embedding(torch.as_tensor(ids, device=device))  # (T, E)
        for layer in range(L if T else 0):
            if layer < first:
                cell[layer], hidden[layer] = base.cell[layer], base.hidden[layer]
                h_last[layer], c_last[layer] = (torch.as_tensor(s[layer]) for s in base.final)
                x = torch.as_tensor(hidden[layer], device=device)
                continue
            edits = [iv for iv in interventions if iv.layer == layer]
            on_cpu = device.type == "cpu"  # then write straight into the result array
            into = torch.from_numpy(cell[layer]) if on_cpu else None
            run = partial(intervened_layer, edits=edits) if edits else fused_layer
            out, tanh_c, h_last[layer], c_last[layer] = run(x, h0[layer], c0[layer], params[layer], into)
            if not on_cpu:
                cell[layer] = tanh_c.cpu().numpy()
            hidden[layer] = out.cpu().numpy()
            x = out
        log_probs = torch.log_softmax(model.head(x if T else x.new_zeros(0, H)), -1).cpu().numpy()  # (T, V)
    return Trace(
        text=text,
        ids=ids,
        cell=cell,
        hidden=hidden,
        log_probs=log_probs,
        initial=initial,
        final=(h_last.cpu().numpy(), c_last.cpu().numpy()),
        vocab=model.vocab,
        weights=weights,
        embedding=embedding,
        interventions=tuple(interventions),
    )


def trace_weights(model, params) -> list[tuple]:
    """Per layer the weights a Trace keeps (numpy): (W_ih, W_hh, b_ih + b_hh), but a GRU's
    (W_ih, W_hh, b_ih, b_hh), whose candidate takes b_hn inside the reset gate."""
    if model.config.kind == "gru":
        return [tuple(w.detach().cpu().numpy() for w in p) for p in params]
    return [tuple(w.detach().cpu().numpy() for w in (p[0], p[1], p[2] + p[3])) for p in params]


@torch.no_grad()
def trace_plain(model, text: str, state=None, interventions=(), base: Trace | None = None) -> Trace:
    """`trace` of a GRU or an RNN: each layer through its fused kernel (`kernel.plain_layer`, the
    call nn.GRU and nn.RNN make), keeping h_t, every state these kinds have; the GRU's gates are
    derived on demand (`Trace.gates`). `state` is h (L, H) or a tuple whose first item it is.
    `interventions` edit h_t (`kernel.intervened_plain_layer`); `base` lends the layers below the
    first intervened one, as in `trace`."""
    kind = model.config.kind
    text = normalise(text)
    ids = model.vocab.encode(text)
    L, H = model.config.layers, model.config.hidden
    T = len(ids)
    check(interventions, L, H, T)
    device = model.head.weight.device
    h0 = torch.zeros(L, H) if state is None else state[0] if isinstance(state, (tuple, list)) else state
    h0 = torch.as_tensor(h0, dtype=torch.float32).to(device)
    initial = (h0.cpu().numpy(),)
    params = [model.layer_weights(layer) for layer in range(L)]
    weights = trace_weights(model, params)
    embedding = model.embedding.weight.detach().cpu().numpy()
    if base is not None:
        check_base(base, text, initial, weights, embedding)
    first = min((iv.layer for iv in interventions), default=L) if base is not None else 0
    hidden = np.empty((L, T, H), dtype=np.float32)
    h_last = h0.clone()
    with float32_matmuls() if device.type == "cuda" else nullcontext():
        x = model.embedding(torch.as_tensor(ids, device=device))  # (T, E)
        for layer in range(L if T else 0):
            if layer < first:
                hidden[layer] = base.hidden[layer]
                h_last[layer] = torch.as_tensor(base.final[0][layer])
                x = torch.as_tensor(hidden[layer], device=device)
                continue
            edits = [iv for iv in interventions if iv.layer == layer]
            if edits:
                x, h_last[layer] = intervened_plain_layer(kind, x, h0[layer], params[layer], edits)
            else:
                x, h_last[layer] = plain_layer(kind, x, h0[layer], params[layer])
            hidden[layer] = x.cpu().numpy()
        log_probs = torch.log_softmax(model.head(x if T else x.new_zeros(0, H)), -1).cpu().numpy()  # (T, V)
    return Trace(
        text=text,
        ids=ids,
        cell=hidden,
        hidden=hidden,
        log_probs=log_probs,
        initial=initial,
        final=(h_last.cpu().numpy(),),
        vocab=model.vocab,
        weights=weights,
        embedding=embedding,
        interventions=tuple(interventions),
        kind=kind,
    )


def check_base(base: Trace, text: str, initial: tuple, weights: list, embedding: np.ndarray) -> None:
    """ValueError unless `base` is a plain trace of this text and initial state by a model with
    exactly these weights (the traced model's own, as numpy), so its layers can be reused."""
    if not isinstance(base, Trace):
        raise ValueError(f"base must be a Trace, not {type(base).__name__}")
    if base.interventions:
        raise ValueError("base has interventions of its own: give the plain trace (model.trace(text))")
    if base.text != text:
        raise ValueError("base is a trace of another text")
    if not all(np.array_equal(a, b) for a, b in zip(base.initial, initial)):
        raise ValueError("base starts from another state")
    same = (
        len(base.weights) == len(weights)
        and np.array_equal(base.embedding, embedding)
        and all(np.array_equal(a, b) for ws, vs in zip(base.weights, weights) for a, b in zip(ws, vs))
    )
    if not same:
        raise ValueError("base is a trace of another model (its weights differ)")


def trace_chunks(model, text: str, chunk: int = 10_000):
    """Yield (start, Trace) for consecutive pieces of a long text, carrying the state across."""
    text = normalise(text)
    state = None
    for start in range(0, len(text), chunk):
        piece = trace(model, text[start : start + chunk], state)
        state = piece.final
        yield start, piece
