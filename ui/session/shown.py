"""What the page's sections pass each other: plain values, never widget keys."""

from __future__ import annotations

from typing import NamedTuple

import lstm_viz


class Picked(NamedTuple):
    """The sidebar's choices: the model (None if it failed to load, with the reason) and the cell."""

    name: str
    model: lstm_viz.CharLSTM | None
    load_error: str | None
    layer: int
    cell: int
    signal: str
    notes: list[str]  # one line for each choice that was moved or ignored


class Shown(NamedTuple):
    """What the page shows, as every panel gets it: the model, its trace of the text, the chosen
    layer, cell, signal and position, and the hypothesis the finder tests (a name in
    lstm_viz.core.features)."""

    name: str
    trace: lstm_viz.Trace
    layer: int
    cell: int
    signal: str
    pos: int
    hypothesis: str

    @property
    def view(self) -> lstm_viz.View:
        """The chosen layer, cell and signal over the whole text, as every drawing of a trace takes them."""
        return lstm_viz.View(self.layer, self.cell, self.signal)
