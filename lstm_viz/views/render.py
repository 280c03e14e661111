"""Static, self-contained HTML of one cell over a text: for nbviewer, exported notebooks, any page.

Inline styles only (no script, no stylesheet, nothing fetched), so it survives notebook
sanitisers; each character's hover card is its title attribute. All text is escaped.
"""

from __future__ import annotations

from html import escape

import numpy as np

from ..core.kernel import GATES_OF, NAMED, check_signal
from . import colour, glyphs

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
REPR_LIMIT = 3000  # characters a notebook's automatic display shows
GATE_SIGNALS = tuple(
    dict.fromkeys(g for gates in GATES_OF.values() for g in gates if g != "candidate")
)  # sigmoids, 0..1


def signal_name(signal: str, kind: str = "lstm") -> str:
    """What a signal is called in captions and cards: "cell" is an LSTM's cell state tanh(c) and a
    GRU's or RNN's memory h (its hidden state)."""
    return MEMORY_NAMES[kind] if signal == "cell" else NAMES[signal]


def signal_names(kind: str = "lstm") -> dict[str, str]:
    """Every signal a model of `kind` gives, with its name: the memory, h and the kind's gates (an
    RNN has none: see `gate_note`)."""
    return {name: signal_name(name, kind) for name in ("cell", "hidden") + GATES_OF[kind]}


def gate_note(kind: str = "lstm") -> str:
    """One line for where gates would be offered: "" for a kind with gates."""
    return (
        ""
        if GATES_OF[kind]
        else f"{NAMED[kind][0].upper()}{NAMED[kind][1:]} has no gates: its one state, h, is its memory."
    )


def visible(char: str) -> str:
    """A character safe to write into a page: lone surrogates become U+FFFD."""
    return "\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char


def span(shown: str, value: float, title: str | None = None, style: str = "") -> str:
    """One character (escaped) on the colour of `value` with readable ink; `title` is its hover card,
    `style` more CSS (starting with ";")."""
    card = f' title="{escape(title)}"' if title is not None else ""
    return f'<span style="background:{colour.css(value)};color:{colour.ink(value)}{style}"{card}>{escape(shown)}</span>'


def snippet(text: str, values, outlined: int | None = None, wrap: bool = False) -> str:
    """A line of text (escaped, spaces kept, other characters as their labels) with each character
    on the colour of its value; the `outlined` one framed. Kept on one line, or wrapped with `wrap`."""
    spans = [
        span(
            ch if ch == " " else glyphs.label(visible(ch)), v, style=";outline:2px solid #222" if i == outlined else ""
        )
        for i, (ch, v) in enumerate(zip(text, values))
    ]
    layout = "white-space:pre-wrap;line-height:1.5" if wrap else "white-space:pre"
    return f'<div style="font-family:monospace;{layout};margin:2px 0">{"".join(spans)}</div>'


def check_view(trace, layer: int, cell: int, signal: str, start: int, stop: int | None) -> int:
    """The view's end position; ValueError for a layer, cell, signal or range the trace has not."""
    L, T, H = trace.shape
    check_signal(signal, trace.kind)
    if not 0 <= layer < L:
        raise ValueError(f"layer {layer} is out of range: this model has layers 0 to {L - 1}")
    if not 0 <= cell < H:
        raise ValueError(f"cell {cell} is out of range: this model has cells 0 to {H - 1}")
    stop = T if stop is None else min(stop, T)
    if not 0 <= start <= stop:
        raise ValueError(f"start {start} and stop {stop} do not give a range within the {T} characters")
    return stop


def caption(layer: int, cell: int, signal: str, model: str | None, kind: str = "lstm") -> str:
    """ "Layer 2, cell 429, cell state tanh(c), model warpeace" (layers counted from 1, as in the app;
    the signal named for the model's `kind`, see `signal_name`)."""
    return f"Layer {layer + 1}, cell {cell}, {signal_name(signal, kind)}" + (f", model {model}" if model else "")


def to_html(
    trace,
    layer: int = 0,
    cell: int = 0,
    signal: str = "cell",
    start: int = 0,
    stop: int | None = None,
    scale: str = "fixed",
    model: str | None = None,
) -> str:
    """The text in [start, stop) coloured by one cell's signal, with a legend and hover cards."""
    stop = check_view(trace, layer, cell, signal, start, stop)
    raw = trace.signal(signal, layer, [cell], start, stop)[:, 0]  # (n,)
    values, (lo, hi) = colour.fit(raw, signal in GATE_SIGNALS, scale)
    ids, probs = trace.top_k_ids(5, start, stop)
    spans = []
    for k, t in enumerate(range(start, stop)):
        char = trace.text[t]
        guesses = ", ".join(
            f"{glyphs.label(visible(trace.vocab.symbol(int(i))))} {100 * p:.0f}%" for i, p in zip(ids[k], probs[k])
        )
        card = (
            f"position {t}: {glyphs.label(visible(char))}{' (unknown)' if trace.unknown[t] else ''}\n"
            f"{signal_name(signal, trace.kind)} {raw[k]:+.3f}\nnext: {guesses}"
        )
        shown = glyphs.label(char) + "\n" if char == "\n" else visible(char)
        spans.append(span(shown, values[k], card, ";outline:1px dotted #333" if trace.unknown[t] else ""))
    note = "" if stop - start == len(trace.text) else f" &middot; characters {start} to {stop - 1} of {len(trace.text)}"
    return (
        '<div class="lstm-viz-static" style="font-family:system-ui,sans-serif;color:#222;max-width:100%">'
        '<div style="font-size:0.85em;margin-bottom:0.3em">'
        f"<b>{escape(caption(layer, cell, signal, model, trace.kind))}</b>"
        f'{note} &middot; <span style="font-family:monospace">{lo:+.2f}</span> '
        f'<span style="display:inline-block;width:8em;height:0.8em;vertical-align:middle;border:1px solid #bbb;'
        f'background:{colour.gradient(signal in GATE_SIGNALS)}"></span> '
        f'<span style="font-family:monospace">{hi:+.2f}</span>'
        " &middot; hover a character for its value and the model's next-character guesses</div>"
        '<pre style="white-space:pre-wrap;overflow-wrap:anywhere;font-family:monospace;font-size:0.9em;'
        'line-height:1.45;padding:0.5em;border:1px solid #ddd;border-radius:4px;background:#fff;margin:0">'
        + "".join(spans)
        + "</pre></div>"
    )


def default_view(trace) -> tuple[int, int]:
    """(layer, cell) a notebook shows by itself: the last layer's cell whose memory varies most over the text."""
    layer = trace.shape[0] - 1
    values = trace.memory[layer, :REPR_LIMIT]  # (T, H)
    return layer, int(np.argmax(values.std(axis=0))) if len(values) else 0


def repr_html(trace) -> str:
    """What a notebook shows for a Trace: its most varying last-layer cell over the first characters."""
    layer, cell = default_view(trace)
    L, T, H = trace.shape
    head = (
        f'<div style="font-family:system-ui,sans-serif;font-size:0.85em;color:#555">Trace of {T:,} characters, '
        f"{L} layers x {H} cells. Showing the last layer's most varying cell; "
        "trace.show(layer=..., cell=...) for the interactive view.</div>"
    )
    return head + to_html(trace, layer, cell, stop=min(T, REPR_LIMIT))
