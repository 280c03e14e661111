"""What a drawing of a trace shows (`View`), and the coloured text it draws (`describe`).

Every drawing of a trace takes a `View` after the trace: `render.to_html(trace, view)`,
`figures.figure(trace, view, kind)`, the notebook widget `TraceWidget(trace, view)`, and the
app's figure downloads; a Trace's `to_html`, `figure` and `show` take one or its fields as
keywords. `describe` is the one description of the coloured text (each character, its value,
place on the colour scale, colour and hover title) that the static HTML and the SVG both draw,
and whose shades the browser views colour with the same scale.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..core.kernel import GATES_OF, check_signal
from . import colour, glyphs

GATE_SIGNALS = tuple(
    dict.fromkeys(g for gates in GATES_OF.values() for g in gates if g != "candidate")
)  # sigmoids, 0..1
TOP = 5  # next-character guesses a hover card shows
NAMES = {
    "cell": "cell state tanh(c)",
    "hidden": "hidden state h",
    "input": "input gate",
    "forget": "forget gate",
    "candidate": "candidate",
    "output": "output gate",
    "reset": "reset gate",
    "update": "update gate",
}
MEMORY_NAMES = {"lstm": NAMES["cell"], "gru": "memory h", "rnn": "memory h"}  # what "cell" is, per kind


def signal_name(signal: str, kind: str = "lstm") -> str:
    """What a signal is called in captions and cards: "cell" is an LSTM's cell state tanh(c) and a
    GRU's or RNN's memory h (its hidden state)."""
    return MEMORY_NAMES[kind] if signal == "cell" else NAMES[signal]


@dataclass(frozen=True)
class View:
    """One cell's signal over the characters [start, stop) (stop None: to the end), coloured on the
    signal's fixed range (scale "fixed") or the range this text reaches ("text")."""

    layer: int = 0
    cell: int = 0
    signal: str = "cell"
    start: int = 0
    stop: int | None = None
    scale: str = "fixed"

    @property
    def gate(self) -> bool:
        """Whether the signal is a gate (0 to 1, white to blue) rather than -1 to 1."""
        return self.signal in GATE_SIGNALS

    def on(self, trace) -> View:
        """This view with `stop` resolved for `trace`; ValueError for a layer, cell, signal, range or
        scale the trace has not."""
        L, T, H = trace.shape
        check_signal(self.signal, trace.kind)
        colour.fit([], False, self.scale)  # refuses an unknown scale
        if not 0 <= self.layer < L:
            raise ValueError(f"layer {self.layer} is out of range: this model has layers 0 to {L - 1}")
        if not 0 <= self.cell < H:
            raise ValueError(f"cell {self.cell} is out of range: this model has cells 0 to {H - 1}")
        stop = T if self.stop is None else min(self.stop, T)
        if not 0 <= self.start <= stop:
            raise ValueError(f"start {self.start} and stop {stop} do not give a range within the {T} characters")
        return dataclasses.replace(self, stop=stop)


DEFAULT_VIEW = View()  # the first cell's memory over the whole text
VIEW_FIELDS = tuple(f.name for f in dataclasses.fields(View))


def split(view: View | None, options: dict) -> tuple[View, dict]:
    """(`view` with the View fields among `options` changed, the other options): the keyword form
    of `Trace.to_html`, `Trace.figure` and `Trace.show` (trace.show(layer=1, cell=429, model=...))."""
    fields = {k: options[k] for k in VIEW_FIELDS if k in options}
    rest = {k: v for k, v in options.items() if k not in fields}
    return dataclasses.replace(view or DEFAULT_VIEW, **fields), rest


def caption(view: View, model: str | None = None, kind: str = "lstm") -> str:
    """ "Layer 2, cell 429, cell state tanh(c), model warpeace" (layers counted from 1, as in the app;
    the signal named for the model's `kind`, see `signal_name`)."""
    return f"Layer {view.layer + 1}, cell {view.cell}, {signal_name(view.signal, kind)}" + (
        f", model {model}" if model else ""
    )


def visible(char: str) -> str:
    """A character safe to write into a page: lone surrogates become U+FFFD."""
    return "\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char


@dataclass(frozen=True)
class Description:
    """The coloured text of one view: per character (n of them) its value, place on the colour
    scale and colour, and the legend's ends. Titles (hover cards) are worked out when asked for."""

    trace: object
    view: View  # resolved: stop is set
    values: np.ndarray  # (n,) the signal's values
    shades: np.ndarray  # (n,) the values on the colour scale, -1 to 1 (0 to 1 for a gate)
    lo: float
    hi: float

    @property
    def chars(self) -> str:
        return self.trace.text[self.view.start : self.view.stop]

    @cached_property
    def rgb(self) -> list[tuple[int, int, int]]:
        """(n,) background of each character."""
        return [colour.rgb(v) for v in self.shades]

    @cached_property
    def inks(self) -> list[str]:
        """(n,) text colour of each character, readable on its background."""
        return [colour.ink(v) for v in self.shades]

    @cached_property
    def titles(self) -> list[str]:
        """(n,) hover card of each character: position, label, value, the top next characters."""
        tr, v = self.trace, self.view
        ids, probs = tr.top_k_ids(TOP, v.start, v.stop)  # (n, TOP)
        name = signal_name(v.signal, tr.kind)
        titles = []
        for k, t in enumerate(range(v.start, v.stop)):
            guesses = ", ".join(
                f"{glyphs.label(visible(tr.vocab.symbol(int(i))))} {100 * p:.0f}%" for i, p in zip(ids[k], probs[k])
            )
            titles.append(
                f"position {t}: {glyphs.label(visible(tr.text[t]))}{' (unknown)' if tr.unknown[t] else ''}\n"
                f"{name} {self.values[k]:+.3f}\nnext: {guesses}"
            )
        return titles


def describe(trace, view: View) -> Description:
    """The coloured text of `view` over `trace` (ValueError for a view the trace has not)."""
    view = view.on(trace)
    values = trace.signal(view.signal, view.layer, [view.cell], view.start, view.stop)[:, 0]  # (n,)
    shades, (lo, hi) = colour.fit(values, view.gate, view.scale)
    return Description(trace, view, values, shades, lo, hi)
