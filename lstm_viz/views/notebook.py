"""`trace.show(...)`: the coloured text as a notebook widget (anywidget), for Jupyter, JupyterLab,
VS Code and Colab.

Python computes what the browser shows (each character's place on the colour scale of
`lstm_viz.views.colour`, labels from `lstm_viz.views.glyphs`, the top-5 guesses); the script is
the coloured text the app draws too (assets/coloured_text.js) with the widget's head and strip.
Up/Down or k/j change the cell through the synced `cell` trait, so `widget.cell` reads and sets it from Python.
Hover cards and the strip need no kernel round trip; a cell change recolours from Python.
Given the model's cell labels (`labels=`: `lstm_viz.explain`'s table, or the shipped one from
`lstm_viz.find.cellpage`), the hover card also says what the chosen cell is about.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import colour, glyphs
from .render import to_html
from .view import DEFAULT_VIEW, TOP, View, caption, describe, visible

try:
    import anywidget
    import traitlets
except ImportError:  # the widget is optional: trace.to_html() and figures work without it
    anywidget = None

ASSETS = Path(__file__).resolve().parent / "assets"
COLOURED_TEXT_JS, COLOURED_TEXT_CSS = ASSETS / "coloured_text.js", ASSETS / "coloured_text.css"  # the app's too
MAX_CHARS = 20_000  # the widget sends every character's labels, colours and guesses at once


def script() -> str:
    """The widget's ES module: the constants the coloured text needs, the coloured text, widget.js."""
    shared = {"scale": colour.scale(), "glyphs": glyphs.NAMES, "top": TOP}
    return (
        f"const SHARED = {json.dumps(shared)};\n"
        + COLOURED_TEXT_JS.read_text(encoding="utf-8")
        + (ASSETS / "widget.js").read_text(encoding="utf-8")
    )


def style() -> str:
    """The widget's CSS: the coloured text's, then its own."""
    return COLOURED_TEXT_CSS.read_text(encoding="utf-8") + (ASSETS / "widget.css").read_text(encoding="utf-8")


def _missing(*args, **kwargs):
    raise ImportError(
        "trace.show() needs anywidget: pip install 'lstm-viz[notebook]' "
        "(trace.to_html() and trace.figure() work without it)"
    )


def cell_labels(labels) -> dict[tuple[int, int], str]:
    """{(layer, cell): "label (match 0.82)"} from a table with columns layer (from 0), cell, label
    and score (`lstm_viz.explain`'s), or from such a mapping of plain labels; {} for None."""
    if labels is None:
        return {}
    if isinstance(labels, dict):
        return {(int(layer), int(cell)): str(text) for (layer, cell), text in labels.items()}
    missing = {"layer", "cell", "label", "score"} - set(getattr(labels, "columns", ()))
    if missing:
        raise ValueError(
            f"labels needs the columns layer, cell, label and score (as lstm_viz.explain gives): "
            f"missing {', '.join(sorted(missing))}"
        )
    return {
        (int(layer), int(cell)): f"{text} (match {score:.2f})" if score == score else str(text)
        for layer, cell, text, score in zip(labels["layer"], labels["cell"], labels["label"], labels["score"])
    }


if anywidget is None:
    TraceWidget = _missing
else:

    class TraceWidget(anywidget.AnyWidget):
        """One cell of a trace colouring its text; `cell`, `layer`, `signal` and `scale` are live."""

        _esm = script()
        _css = style()
        layer = traitlets.Int(0).tag(sync=True)
        cell = traitlets.Int(0).tag(sync=True)
        signal = traitlets.Unicode("cell").tag(sync=True)
        scale = traitlets.Unicode("fixed").tag(sync=True)
        selected = traitlets.Int(0).tag(sync=True)  # position (within the view) the strip is centred on
        cells = traitlets.Int(0).tag(sync=True)  # cells per layer, for the keys' wrap-around
        offset = traitlets.Int(0).tag(sync=True)  # text position of the first character shown
        chars = traitlets.List().tag(sync=True)  # (n,) the characters shown
        labels = traitlets.List().tag(sync=True)  # (n,) printable label of each character, for the strip
        unknown = traitlets.List().tag(sync=True)  # positions outside the model's alphabet
        top = traitlets.List().tag(sync=True)  # (n, 5) [label, probability] of the likeliest next characters
        hits = traitlets.List().tag(sync=True)  # (n,) which of the five came next, -1 if none
        shades = traitlets.List().tag(sync=True)  # (n,) each character's place on the colour scale, -1 to 1
        values = traitlets.List().tag(sync=True)  # (n,) the signal's value, for the hover card
        caption = traitlets.Unicode().tag(sync=True)
        label = traitlets.Unicode().tag(sync=True)  # the chosen cell's label and score, "" without labels
        legend = traitlets.Dict().tag(sync=True)  # lo, hi, whether the scale is a gate's, a note

        def __init__(self, trace, view: View = DEFAULT_VIEW, model: str | None = None, labels=None):
            view = view.on(trace)
            self._labels = cell_labels(labels)
            start, stop = view.start, view.stop
            if stop - start > MAX_CHARS:
                raise ValueError(f"the widget shows at most {MAX_CHARS:,} characters; pass start and stop")
            self._trace, self._span, self._model = trace, (start, stop), model
            text = trace.text[start:stop]
            ids, probs = trace.top_k_ids(TOP, start, stop)  # (n, TOP)
            nxt = list(trace.ids[start + 1 : stop + 1]) + [-1] * (stop + 1 - len(trace.ids) - start)
            labels = [glyphs.label(visible(trace.vocab.symbol(i))) for i in range(len(trace.vocab))]
            super().__init__(
                layer=view.layer,
                cell=view.cell,
                signal=view.signal,
                scale=view.scale,
                cells=trace.shape[2],
                offset=start,
                chars=[visible(c) for c in text],
                labels=[glyphs.label(visible(c)) for c in text],
                unknown=[k for k in range(len(text)) if trace.unknown[start + k]],
                top=[
                    [[labels[i], round(float(p), 4)] for i, p in zip(row_ids, row_p)]
                    for row_ids, row_p in zip(ids, probs)
                ],
                hits=[list(row).index(n) if n > 0 and n in row else -1 for row, n in zip(ids.tolist(), nxt)],
            )
            self._paint()

        @property
        def view(self) -> View:
            """What the widget shows now."""
            start, stop = self._span
            return View(self.layer, self.cell, self.signal, start, stop, self.scale)

        @traitlets.validate("cell")
        def _valid_cell(self, proposal):
            if not 0 <= proposal["value"] < self._trace.shape[2]:
                raise traitlets.TraitError(f"cell {proposal['value']} is out of range: 0 to {self._trace.shape[2] - 1}")
            return proposal["value"]

        @traitlets.validate("layer")
        def _valid_layer(self, proposal):
            if not 0 <= proposal["value"] < self._trace.shape[0]:
                raise traitlets.TraitError(
                    f"layer {proposal['value']} is out of range: 0 to {self._trace.shape[0] - 1}"
                )
            return proposal["value"]

        @traitlets.validate("signal", "scale")
        def _valid_choice(self, proposal):
            name, value = proposal["trait"].name, proposal["value"]
            View(**{name: value}).on(self._trace)
            return value

        @traitlets.observe("layer", "cell", "signal", "scale")
        def _changed(self, change):
            if hasattr(self, "_trace"):
                self._paint()

        def _paint(self) -> None:
            """Shades, values, caption and legend of the current view (`view.describe`)."""
            d = describe(self._trace, self.view)
            with self.hold_sync():
                self.shades = [float(v) for v in d.shades]
                self.values = [round(float(v), 4) for v in d.values]
                self.caption = caption(d.view, self._model, self._trace.kind)
                self.label = self._labels.get((self.layer, self.cell), "")
                self.legend = {
                    "lo": d.lo,
                    "hi": d.hi,
                    "gate": d.view.gate,
                    "note": "scaled to this text" if self.scale == "text" else "",
                }

        def to_html(self) -> str:
            """The static view of what the widget shows now."""
            return to_html(self._trace, self.view, self._model)

        def _repr_mimebundle_(self, **kwargs):
            """The widget, with the static HTML beside it for viewers that run no kernel (nbviewer, GitHub)."""
            bundle = super()._repr_mimebundle_(**kwargs)
            data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
            return {**data, "text/html": self.to_html()}, meta
