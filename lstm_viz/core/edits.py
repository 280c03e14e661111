"""The edits an intervention makes to cells' memory: `Clamp` and `Scale`.

The memory is what a kind carries from step to step in each cell: an LSTM's raw cell state c_t
(h_t = o_t * tanh(c_t) is then taken from the edited c_t), a GRU's or a vanilla RNN's h_t (the
next step and the layer above read the edited h_t).

What they are, where they act and how they change c_t; the kernels that run them are in
`lstm_viz.core.kernel`, the comparison of an edited run with the plain one in `lstm_viz.causal.intervene`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


class Intervention:
    """What Clamp and Scale share: a layer (from 0), its cells, and the span [start, stop) they act on."""

    def validate(self, name: str, number: float) -> None:
        cells = (self.cells,) if np.ndim(self.cells) == 0 else tuple(np.asarray(self.cells).ravel().tolist())
        if not cells:
            raise ValueError("an intervention needs at least one cell")
        if not all(isinstance(k, (int, np.integer)) for k in cells + (self.layer, self.start)) or not isinstance(
            self.stop, (int, np.integer, type(None))
        ):
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
    """Set the memory (an LSTM's raw c_t, otherwise h_t) of `cells` in `layer` to `value` for t in [start, stop)."""

    layer: int
    cells: tuple  # an int is taken as one cell
    value: float
    start: int = 0
    stop: int | None = None  # None: to the end of the text

    def __post_init__(self):
        self.validate("clamp value", "value")

    def apply(self, c: torch.Tensor) -> None:
        """Edit the memory c (B, H) in place."""
        c[:, self.cells] = self.value

    def apply_written(self, keep: np.ndarray, write: np.ndarray) -> None:
        """Edit one cell's kept (forget) and written (i * g) shares over the span, in place."""
        keep[:] = 0.0
        write[:] = self.value


@dataclass(frozen=True)
class Scale(Intervention):
    """Multiply the memory (an LSTM's raw c_t, otherwise h_t) of `cells` in `layer` by `factor` for t in
    [start, stop)."""

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
    """The function that applies every edit covering step t to the memory (B, H), or None."""
    active = [iv for iv in edits if iv.covers(t)]
    if not active:
        return None

    def edit(c):
        for iv in active:
            iv.apply(c)

    return edit
