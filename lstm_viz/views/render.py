"""Static, self-contained HTML of one cell over a text: for nbviewer, exported notebooks, any page.

Inline styles only (no script, no stylesheet, nothing fetched), so it survives notebook
sanitisers; each character's hover card is its title attribute. All text is escaped. The
characters, colours and titles are `view.describe`'s, which the SVG figures draw too.
"""

from __future__ import annotations

from html import escape

import numpy as np

from ..core.kernel import GATES_OF, NAMED
from . import colour, glyphs
from .view import DEFAULT_VIEW, View, caption, describe, signal_name, visible

REPR_LIMIT = 3000  # characters a notebook's automatic display shows


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


def to_html(trace, view: View = DEFAULT_VIEW, model: str | None = None) -> str:
    """The text of `view` coloured by its cell's signal, with a legend and hover cards."""
    d = describe(trace, view)
    v = d.view
    spans = []
    for k, t in enumerate(range(v.start, v.stop)):
        char = trace.text[t]
        shown = glyphs.label(char) + "\n" if char == "\n" else visible(char)
        spans.append(span(shown, d.shades[k], d.titles[k], ";outline:1px dotted #333" if trace.unknown[t] else ""))
    T = len(trace.text)
    note = "" if v.stop - v.start == T else f" &middot; characters {v.start} to {v.stop - 1} of {T}"
    return (
        '<div class="lstm-viz-static" style="font-family:system-ui,sans-serif;color:#222;max-width:100%">'
        '<div style="font-size:0.85em;margin-bottom:0.3em">'
        f"<b>{escape(caption(v, model, trace.kind))}</b>"
        f'{note} &middot; <span style="font-family:monospace">{d.lo:+.2f}</span> '
        f'<span style="display:inline-block;width:8em;height:0.8em;vertical-align:middle;border:1px solid #bbb;'
        f'background:{colour.gradient(v.gate)}"></span> '
        f'<span style="font-family:monospace">{d.hi:+.2f}</span>'
        " &middot; hover a character for its value and the model's next-character guesses</div>"
        '<pre style="white-space:pre-wrap;overflow-wrap:anywhere;font-family:monospace;font-size:0.9em;'
        'line-height:1.45;padding:0.5em;border:1px solid #ddd;border-radius:4px;background:#fff;margin:0">'
        + "".join(spans)
        + "</pre></div>"
    )


def default_view(trace) -> View:
    """What a notebook shows by itself: the last layer's cell whose memory varies most over the
    first characters."""
    layer = trace.shape[0] - 1
    values = trace.memory[layer, :REPR_LIMIT]  # (T, H)
    return View(layer, int(np.argmax(values.std(axis=0))) if len(values) else 0, stop=REPR_LIMIT)


def repr_html(trace) -> str:
    """What a notebook shows for a Trace: its most varying last-layer cell over the first characters."""
    L, T, H = trace.shape
    head = (
        f'<div style="font-family:system-ui,sans-serif;font-size:0.85em;color:#555">Trace of {T:,} characters, '
        f"{L} layers x {H} cells. Showing the last layer's most varying cell; "
        "trace.show(layer=..., cell=...) for the interactive view.</div>"
    )
    return head + to_html(trace, default_view(trace))
