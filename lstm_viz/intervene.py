"""Interventions: fix or scale cells' raw state c_t over a span and recompute everything after.

`Clamp` sets c_t of some cells to a value, `Scale` multiplies it (factor 0 is a zero ablation);
h_t = o_t * tanh(c_t) and all later steps and layers follow from the edited state exactly.
`model.trace(text, interventions=[...])` and `model.sample(..., interventions=[...])` accept them;
`effect` compares an intervened run with the plain one, character by character.

Outside the interventions' spans the fused kernel runs a layer's segments as in a plain trace;
inside, it still runs them when the edits hold cells at constants (clamps, zero scales), with
those cells' gates set to keep the constant; a scale by a nonzero factor is stepped by hand
(`stepped_segment`, the step of `lstm_viz.reference` with the input side done in one matmul). Only the intervened
layer and the layers above it change; `base` lends the plain run's layers below.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .reference import step
from .trace import Trace, fused_layer
from .vocab import UNKNOWN, normalise


class Intervention:
    """What Clamp and Scale share: a layer (from 0), its cells, and the span [start, stop) they act on."""

    def validate(self, name: str, number: float) -> None:
        cells = (self.cells,) if np.ndim(self.cells) == 0 else tuple(np.asarray(self.cells).ravel().tolist())
        if not cells:
            raise ValueError("an intervention needs at least one cell")
        if not all(isinstance(k, (int, np.integer)) for k in cells + (self.layer, self.start)) or \
                not isinstance(self.stop, (int, np.integer, type(None))):
            raise ValueError("layer, cells, start and stop must be whole numbers")
        object.__setattr__(self, "cells", tuple(int(k) for k in cells))
        if self.start < 0 or (self.stop is not None and self.stop <= self.start):
            raise ValueError(f"empty or negative span [{self.start}, {self.stop}): need 0 <= start < stop")
        number_value = float(getattr(self, number))
        if not math.isfinite(number_value):
            raise ValueError(f"{name} must be a finite number, not {number_value}")
        object.__setattr__(self, number, number_value)

    def covers(self, t: int) -> bool:
        return self.start <= t and (self.stop is None or t < self.stop)

    def end(self, T: int) -> int:
        return T if self.stop is None else min(self.stop, T)


@dataclass(frozen=True)
class Clamp(Intervention):
    """Set the raw cell state c_t of `cells` in `layer` to `value` for t in [start, stop)."""
    layer: int
    cells: tuple  # an int is taken as one cell
    value: float
    start: int = 0
    stop: int | None = None  # None: to the end of the text

    def __post_init__(self):
        self.validate("clamp value", "value")

    def apply(self, c: torch.Tensor) -> None:
        """Edit c (B, H) in place."""
        c[:, self.cells] = self.value

    def apply_written(self, keep: np.ndarray, write: np.ndarray) -> None:
        """Edit one cell's kept (forget) and written (i * g) shares over the span, in place."""
        keep[:] = 0.0
        write[:] = self.value


@dataclass(frozen=True)
class Scale(Intervention):
    """Multiply the raw cell state c_t of `cells` in `layer` by `factor` for t in [start, stop)."""
    layer: int
    cells: tuple
    factor: float
    start: int = 0
    stop: int | None = None

    def __post_init__(self):
        self.validate("scale factor", "factor")

    def apply(self, c: torch.Tensor) -> None:
        c[:, self.cells] *= self.factor

    def apply_written(self, keep: np.ndarray, write: np.ndarray) -> None:
        keep *= self.factor
        write *= self.factor


def check(interventions, layers: int, hidden: int, T: int) -> None:
    """ValueError with a one-line reason for an intervention the model or text cannot take."""
    for iv in interventions:
        if not isinstance(iv, Intervention):
            raise ValueError(f"not an intervention: {iv!r} (use lstm_viz.Clamp or lstm_viz.Scale)")
        if not 0 <= iv.layer < layers:
            raise ValueError(f"unknown layer {iv.layer}: the model has layers 0 to {layers - 1}")
        bad = [k for k in iv.cells if not 0 <= k < hidden]
        if bad:
            raise ValueError(f"unknown cell {bad[0]}: layer {iv.layer} has cells 0 to {hidden - 1}")
        if iv.start >= T:
            raise ValueError(f"span [{iv.start}, {iv.stop}) starts after the text ends ({T} characters)")


def edits_at(edits, t: int):
    """The function that applies every edit covering step t to c (B, H), or None."""
    active = [iv for iv in edits if iv.covers(t)]
    if not active:
        return None

    def edit(c):
        for iv in active:
            iv.apply(c)
    return edit


def doubled_candidate(w: torch.Tensor) -> torch.Tensor:
    """A copy of gate weights or biases (4H, ...) with the candidate rows doubled, so that one
    sigmoid over all four gates gives tanh(g) as 2 * sigmoid(2 g) - 1."""
    H = w.shape[0] // 4
    w = w.clone()
    w[2 * H:3 * H] *= 2
    return w


def stepped_segment(x, h, c, params, edit, out, c_out):
    """Step one layer by hand over x (n, in) from h, c (H,), applying `edit` to c_t at every step.

    The same step as `reference.step`, leaner: the input side of all steps is one matmul, and
    each step is one addmm and one sigmoid for the four gates. h_t goes to out (n, H) and c_t to
    c_out (n, H); returns the last h, c.
    """
    w_ih, w_hh, b_ih, b_hh = params
    xw = torch.addmm(doubled_candidate(b_ih + b_hh), x, doubled_candidate(w_ih).T)  # (n, 4H)
    w_hh_t = doubled_candidate(w_hh).T
    h, c = h[None], c[None]  # (1, H)
    for t in range(len(x)):
        gates = torch.addmm(xw[t:t + 1], h, w_hh_t).sigmoid_()
        i, f, g, o = gates.chunk(4, dim=1)
        g.mul_(2).sub_(1)  # tanh of the candidate's pre-activation
        c = torch.addcmul(f * c, i, g)  # c_t = f * c_{t-1} + i * g
        edit(c)
        c_out[t] = c[0]
        h = out[t:t + 1]
        torch.mul(o, c.tanh(), out=h)
    return h[0], c[0]


def held_values(active) -> dict | None:
    """cell -> the constant c_t that the `active` edits hold it at over a segment (a clamp, a
    clamp then scales, or scales by a product of 0); None if some edited cell still depends on c."""
    held, scaled = {}, {}
    for iv in active:
        for k in iv.cells:
            if isinstance(iv, Clamp):
                held[k] = iv.value
                scaled.pop(k, None)
            elif k in held:
                held[k] *= iv.factor
            else:
                scaled[k] = scaled.get(k, 1.0) * iv.factor
    if any(factor != 0 for factor in scaled.values()):
        return None
    return {**held, **{k: 0.0 for k in scaled}}


def holding_params(params, cells: torch.Tensor):
    """The layer's weights with the input gate of `cells` shut (i = 0) and the forget gate open
    (f = 1) exactly, so that c_t of those cells keeps the value it starts from while o_t, h_t and
    every other cell are computed as usual."""
    H = params[1].shape[1]
    w_ih, w_hh, b_ih, b_hh = (p.detach().clone() for p in params)
    for rows, bias in ((cells, -1e4), (cells + H, 1e4)):  # sigmoid gives exactly 0 and 1 here
        w_ih[rows], w_hh[rows], b_ih[rows], b_hh[rows] = 0.0, 0.0, bias, 0.0
    return w_ih, w_hh, b_ih, b_hh


def intervened_layer(x, h0, c0, params, tanh_c=None, edits=()):
    """`trace.fused_layer` with `edits` on this layer: x (T, in), h0 and c0 (H,).

    The steps are cut where an edit starts or stops. Segments no edit covers run through the
    fused kernel; so do segments whose edits hold cells at constants (clamps, zero scales): the
    kernel runs with those cells' gates set to keep their starting value, which is set to the
    constant. Other segments (a scale by a nonzero factor) are stepped by hand.
    Returns h (T, H), tanh(c) (T, H), h_T, c_T.
    """
    T, H = len(x), params[1].shape[1]
    cuts = sorted({0, T} | {min(iv.start, T) for iv in edits} | {iv.end(T) for iv in edits})
    out = x.new_empty(T, H)
    tanh_c = x.new_empty(T, H) if tanh_c is None else tanh_c
    h, c = h0, c0
    for a, z in zip(cuts[:-1], cuts[1:]):
        active = [iv for iv in edits if iv.covers(a)]  # the same for the whole segment
        held = held_values(active)
        if held is None:
            h, c = stepped_segment(x[a:z], h, c, params, edits_at(active, a), out[a:z], tanh_c[a:z])
            tanh_c[a:z].tanh_()
            continue
        run_params = params
        if held:
            cells = torch.as_tensor(list(held))
            c = c.clone()
            c[cells] = torch.as_tensor(list(held.values()), dtype=c.dtype)
            run_params = holding_params(params, cells)
        out[a:z], tanh_c[a:z], h, c = fused_layer(x[a:z], h, c, run_params)
    return out, tanh_c, h, c


@dataclass
class Effect:
    """What interventions change, character by character (position t predicts character t + 1)."""
    before: Trace
    after: Trace
    delta: np.ndarray  # (T,) log p(actual next char) after minus before; NaN where unknown or absent
    kl: np.ndarray  # (T,) KL(before || after) of the next-char distributions, in nats

    def top_k(self, t: int, k: int = 5) -> tuple[list, list]:
        """The k likeliest next characters after position t, before and after the intervention."""
        return self.before.top_k(t, k), self.after.top_k(t, k)


def effect(model, text: str, interventions, base: Trace | None = None) -> Effect:
    """Trace `text` with and without `interventions` and compare the next-char predictions.

    `base`, the plain trace of `text` if already at hand, is reused (and its lower layers too).
    """
    if not interventions:
        raise ValueError("no interventions given")
    before = base if base is not None and base.text == normalise(text) and not base.interventions else model.trace(text)
    after = model.trace(text, interventions=interventions, base=before)
    delta = before.loss_per_char - after.loss_per_char
    p = np.exp(before.log_probs.astype(np.float64))
    kl = (p * (before.log_probs.astype(np.float64) - after.log_probs)).sum(axis=1)
    return Effect(before, after, delta, kl)


@torch.no_grad()
def sample(model, prime: str, n: int, temperature: float, seed: int, interventions) -> str:
    """`CharLSTM.sample` with interventions; positions count from the first character of `prime`.

    The prime is traced (with the interventions that start in it), then each new character
    goes through `reference.step`: an intervention that changes nothing (a scale by 1) gives
    the very continuation a plain sample does with the same seed.
    """
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    prime = normalise(prime) or "\n"
    L, H = model.config.layers, model.config.hidden
    check(interventions, L, H, len(prime) + n)
    was_training = model.training
    model.eval()
    gen = torch.Generator(device=model.head.weight.device).manual_seed(seed)
    read = model.trace(prime, interventions=[iv for iv in interventions if iv.start < len(prime)])
    h, c = (list(torch.from_numpy(s)[:, None]) for s in read.final)  # per layer (1, H)
    weights = [model.layer_weights(layer) for layer in range(L)]
    logits = model.head(h[-1])  # (1, V)
    out = []
    for k in range(n):
        step_logits = logits[0] / temperature
        step_logits[UNKNOWN] = -float("inf")  # never generate the unknown slot
        nxt = torch.multinomial(torch.softmax(step_logits, -1), 1, generator=gen)
        out.append(int(nxt))
        if k == n - 1:
            break
        x = model.embedding(nxt)  # (1, E)
        for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
            edit = edits_at([iv for iv in interventions if iv.layer == layer], len(prime) + k)
            h[layer], c[layer], _ = step(torch.addmm(b_ih + b_hh, x, w_ih.T), h[layer], c[layer], w_hh, edit)
            x = h[layer]
        logits = model.head(x)
    model.train(was_training)
    return model.vocab.decode(out)
