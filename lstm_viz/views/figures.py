"""Every matplotlib figure of the library: paper figures of a trace, and the analyses' figures.

Paper figures of a trace (`figure`), as SVG text or PNG bytes sized for a paper column. Four
kinds: "text" (one cell colouring the text), "cells" (pinned cells, one row each under every
line of text), "strip" (the top-5 next-character guesses under each character) and "heatmap"
(cells x characters). Every figure has a caption (layer, cell, signal, model) and a colour
legend; colours come from `lstm_viz.views.colour`, labels from `lstm_viz.views.glyphs`. Drawn SVG is
written directly, with the characters as text; PNG is drawn with matplotlib.

The analyses' figures (`gate_saturation`, `error_breakdown`, `closing_distance`,
`character_advantage`, `quote_memory`, written by `save` as PNG and SVG) draw the tables of
`lstm_viz.analysis` for the `analyse` and `compare` reports (`lstm_viz.paper.analysis_report`); the
first two and `quote_memory` also draw several models side by side. The charts the app shows too
are described once (`saturation_panels`, `breakdown_chart`, `closing_chart`: data, titles, axis
words) and drawn from that description by matplotlib and as a plotly figure's JSON
(`gate_saturation_spec`, `error_breakdown_spec`, `closing_distance_spec`), so the two cannot drift.

matplotlib is used through its object API only (no pyplot state, no backend chosen, no global
rcParams: each figure sets its style in an `rc_context`), and imported when a figure is drawn.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

import numpy as np

from ..core.checks import check_choice
from . import colour, glyphs
from .view import DEFAULT_VIEW, View, caption, describe, signal_name, visible

KINDS = ("text", "cells", "strip", "heatmap")
FORMATS = ("svg", "png")
COLUMN_INCHES = 3.4  # one column of a two-column paper
MAX_CHARS = 2000  # a figure is a passage, not a book
FONT = ["DejaVu Sans Mono", "monospace"]
SVG_FONTS = {True: "DejaVu Sans Mono, Menlo, Consolas, monospace", False: "DejaVu Sans, Helvetica, Arial, sans-serif"}
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

SHUT, OPEN = "share of characters nearly shut (< 0.1)", "share nearly open (> 0.9)"  # a gate's saturation axes
SATURATION = {"size": 5, "opacity": 0.5, "diagonal": "#ccc", "range": (-0.03, 1.03)}  # its marks, in points
ANALYSIS_STYLE = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


class Sheet:
    """A page in points, y downwards, on one matplotlib axes that fills the figure."""

    def __init__(self, width_pt: float, font_size: float):
        self.w, self.fs = width_pt, font_size
        self.cw, self.lh = 0.6 * font_size, 1.35 * font_size  # monospace advance, line height
        self.rects, self.texts = [], []
        self.y = 0.0

    def rect(self, x, y, w, h, face, edge=None, lw=0.0):
        self.rects.append((x, y, w, h, face, edge, lw))

    def text(self, x, y, s, size=None, colour_="#111", ha="left", weight="normal", mono=True):
        self.texts.append((x, y, s, size or self.fs, colour_, ha, weight, mono))

    def char(self, x, y, char: str, value: float | None, face=None, ink=None, bold=False):
        """One character box: background from `value` on the colour scale (or `face`), readable ink.

        Multi-letter labels (U+0001) shrink to fit the box."""
        label = glyphs.label(visible(char))
        self.rect(x, y, self.cw, self.lh, face if face is not None else colour.hex_colour(value))
        size = self.fs if len(label) == 1 else 1.6 * self.fs / len(label)
        self.text(
            x + self.cw / 2,
            y + self.lh / 2,
            label,
            size=size,
            colour_=ink or (colour.ink(value) if value is not None else "#111"),
            ha="center",
            weight="bold" if bold else "normal",
        )

    def legend(self, lo: float, hi: float, gate: bool, note: str = ""):
        """A colour bar from lo to hi with its end values (and 0 for the diverging scale)."""
        n, bar_w, h = 48, min(self.w * 0.4, 120.0), self.fs * 0.8
        x0 = self.cw * 6
        self.text(0, self.y + h / 2, f"{lo:+.2f}", size=self.fs * 0.85)
        for k, v in enumerate(colour.legend_values(gate, n)):
            self.rect(x0 + k * bar_w / n, self.y, bar_w / n + 0.05, h, colour.hex_colour(v))
        self.rect(x0, self.y, bar_w, h, "none", "#999", 0.4)
        self.text(x0 + bar_w + self.cw, self.y + h / 2, f"{hi:+.2f}", size=self.fs * 0.85)
        self.y += h + self.lh * 0.6
        if note:
            self.text(0, self.y, note, size=self.fs * 0.8, colour_="#555", mono=False)
            self.y += self.lh

    def save(self, fmt: str, dpi: int = 300):
        """SVG text, written directly (characters stay text), or PNG bytes drawn by matplotlib."""
        return self.svg() if fmt == "svg" else self.png(dpi)

    def svg(self) -> str:
        height = max(self.y, self.lh)
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w:g}pt" height="{height:.2f}pt" '
            f'viewBox="0 0 {self.w:g} {height:.2f}" xml:space="preserve">'
        ]
        for x, y, w, h, face, edge, lw in self.rects:
            stroke = f' stroke="{edge}" stroke-width="{lw:g}"' if edge else ""
            out.append(f'<rect x="{x:.2f}" y="{y:.2f}" width="{w:.2f}" height="{h:.2f}" fill="{face}"{stroke}/>')
        for x, y, text, size, ink, ha, weight, mono in self.texts:
            anchor = ' text-anchor="middle"' if ha == "center" else ""
            bold = ' font-weight="bold"' if weight == "bold" else ""
            out.append(
                f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size:.2f}" font-family="{SVG_FONTS[mono]}" '
                f'fill="{ink}" dominant-baseline="central"{anchor}{bold}>{escape(xml_safe(text))}</text>'
            )
        return "\n".join(out + ["</svg>", ""])

    def png(self, dpi: int) -> bytes:
        from matplotlib import rc_context
        from matplotlib.collections import PatchCollection
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle

        height = max(self.y, self.lh)
        with rc_context({"font.family": "monospace", "font.monospace": FONT}):
            fig = Figure(figsize=(self.w / 72, height / 72))
            ax = fig.add_axes((0, 0, 1, 1))
            ax.set_xlim(0, self.w)
            ax.set_ylim(height, 0)
            ax.set_axis_off()
            ax.add_collection(
                PatchCollection(
                    [Rectangle((x, y), w, h) for x, y, w, h, *_ in self.rects],
                    facecolors=[face for *_, face, _, _ in self.rects],
                    edgecolors=[edge or "none" for *_, edge, _ in self.rects],
                    linewidths=[lw for *_, lw in self.rects],
                )
            )
            for x, y, s, size, ink, ha, weight, mono in self.texts:
                ax.text(
                    x,
                    y,
                    s,
                    fontsize=size,
                    color=ink,
                    ha=ha,
                    va="center",
                    fontweight=weight,
                    parse_math=False,
                    family="monospace" if mono else "sans-serif",
                )
            out = io.BytesIO()
            fig.savefig(out, format="png", dpi=dpi)
        return out.getvalue()


def hex_of(rgb) -> str:
    """#rrggbb of an (r, g, b)."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def xml_safe(text: str) -> str:
    """Text with the characters XML 1.0 forbids (control characters, U+FFFE, U+FFFF) as U+FFFD."""
    return NOT_XML.sub("\ufffd", text)


def wrap(text: str, cols: int, break_lines: bool) -> list[list[int]]:
    """Positions of `text` in rows of at most `cols`; with break_lines a newline also ends its row."""
    rows, row = [], []
    for t, char in enumerate(text):
        row.append(t)
        if len(row) == cols or (break_lines and char == "\n"):
            rows.append(row)
            row = []
    return rows + ([row] if row else [])


def figure(
    trace,
    view: View = DEFAULT_VIEW,
    kind: str = "text",
    cells=None,
    model: str | None = None,
    format: str = "svg",
    width: float = COLUMN_INCHES,
    font_size: float = 7.0,
):
    """A figure of the trace's `view`: SVG text (format="svg") or PNG bytes at 300 dpi (format="png").

    `cells` lists the cells of the view's layer for "cells" and "heatmap" (default: the view's
    cell alone; for the heatmap, the 16 that vary most). ValueError for anything the trace
    cannot show.
    """
    check_choice("figure", kind, KINDS)
    check_choice("format", format, FORMATS)
    view = view.on(trace)
    if view.stop - view.start > MAX_CHARS:
        raise ValueError(f"a figure shows at most {MAX_CHARS:,} characters; pass start and stop")
    H = trace.shape[2]
    if cells is None:
        spread = _values(trace, view, None).std(axis=0) if kind == "heatmap" else None  # (H,)
        cells = [view.cell] if spread is None else list(np.argsort(-spread, kind="stable")[:16])
    cells = [int(c) for c in cells]
    if not cells or any(not 0 <= c < H for c in cells):
        raise ValueError(f"cells must be between 0 and {H - 1}")
    sheet = Sheet(width * 72, font_size)
    draw = {"text": _text, "cells": _cells, "strip": _strip, "heatmap": _heatmap}[kind]
    draw(sheet, trace, view, cells, model)
    return sheet.save(format)


def _values(trace, view: View, cells) -> np.ndarray:
    """(n, k) the view's signal of `cells` (None: every cell) over its characters."""
    return trace.signal(view.signal, view.layer, cells, view.start, view.stop)


def _head(sheet, title: str, lo: float, hi: float, view: View, note: str = ""):
    sheet.y = sheet.lh * 0.7
    sheet.text(0, sheet.y, title, size=sheet.fs, mono=False, weight="bold")
    sheet.y += sheet.lh
    scaled = "scaled to this text" if view.scale == "text" else ""
    sheet.legend(lo, hi, view.gate, "; ".join(n for n in (scaled, note) if n))


def _described(sheet, x, y, d, k):
    """Character k of a description, in its own colours."""
    sheet.char(x, y, d.chars[k], None, face=hex_of(d.rgb[k]), ink=d.inks[k])


def _text(sheet, trace, view, cells, model):
    d = describe(trace, view)
    _head(sheet, caption(view, model, trace.kind), d.lo, d.hi, view)
    for row in wrap(d.chars, int(sheet.w // sheet.cw), break_lines=True):
        for k, i in enumerate(row):
            _described(sheet, k * sheet.cw, sheet.y, d, i)
        sheet.y += sheet.lh
    sheet.y += sheet.lh * 0.3


def _cells(sheet, trace, view, cells, model):
    values, (lo, hi) = colour.fit(_values(trace, view, cells), view.gate, view.scale)  # (n, k)
    names = [f"{view.layer + 1}:{c}" for c in cells]
    indent = (max(map(len, names)) + 1) * sheet.cw
    title = f"Layer {view.layer + 1}, cells {', '.join(map(str, cells))}, {signal_name(view.signal, trace.kind)}" + (
        f", model {model}" if model else ""
    )
    _head(sheet, title, lo, hi, view)
    text = trace.text[view.start : view.stop]
    for row in wrap(text, int((sheet.w - indent) // sheet.cw), break_lines=False):
        for j, name in enumerate(names):
            sheet.text(0, sheet.y + sheet.lh / 2, name, size=sheet.fs * 0.85, colour_="#555")
            for k, i in enumerate(row):
                sheet.char(indent + k * sheet.cw, sheet.y, text[i], values[i, j])
            sheet.y += sheet.lh
        sheet.y += sheet.lh * 0.5


def _strip(sheet, trace, view, cells, model):
    d = describe(trace, view)
    note = "below: top-5 next characters, shade = probability, bold = what came next"
    _head(sheet, caption(view, model, trace.kind), d.lo, d.hi, view, note=note)
    ids, probs = trace.top_k_ids(5, view.start, view.stop)  # (n, 5)
    for row in wrap(d.chars, int(sheet.w // sheet.cw), break_lines=False):
        for k, i in enumerate(row):
            _described(sheet, k * sheet.cw, sheet.y, d, i)
            t = view.start + i
            nxt = int(trace.ids[t + 1]) if t + 1 < len(trace.ids) else -1
            for g in range(5):
                p = float(probs[i, g])
                face = hex_of(round(255 - (255 - c) * min(1.0, p)) for c in colour.GUESS)
                sheet.char(
                    k * sheet.cw,
                    sheet.y + (g + 1.15) * sheet.lh,
                    trace.vocab.symbol(int(ids[i, g])),
                    None,
                    face=face,
                    ink="#fff" if p > 0.6 else "#111",
                    bold=int(ids[i, g]) == nxt and nxt > 0,
                )
        sheet.y += sheet.lh * 6.8


def _heatmap(sheet, trace, view, cells, model):
    values, (lo, hi) = colour.fit(_values(trace, view, cells), view.gate, view.scale)  # (n, k)
    indent = (len(str(max(cells))) + 1) * sheet.cw
    title = f"Layer {view.layer + 1}, {len(cells)} cells, {signal_name(view.signal, trace.kind)}" + (
        f", model {model}" if model else ""
    )
    _head(sheet, title, lo, hi, view)
    text = trace.text[view.start : view.stop]
    for row in wrap(text, int((sheet.w - indent) // sheet.cw), break_lines=False):
        for k, i in enumerate(row):
            sheet.char(indent + k * sheet.cw, sheet.y, text[i], None, face="#ffffff")
        sheet.y += sheet.lh
        for j, c in enumerate(cells):
            sheet.text(
                0,
                sheet.y + sheet.cw / 2,
                str(c),
                size=sheet.fs * 0.7,
                colour_="#000" if c == view.cell else "#666",
                weight="bold" if c == view.cell else "normal",
            )
            for k, i in enumerate(row):
                sheet.rect(indent + k * sheet.cw, sheet.y, sheet.cw, sheet.cw, colour.hex_colour(values[i, j]))
            sheet.y += sheet.cw
        sheet.y += sheet.lh * 0.5


# The analyses' figures ------------------------------------------------------------------------


def analysis_style(draw):
    """Decorator: run `draw` inside the analyses' figure style (`ANALYSIS_STYLE`)."""

    @functools.wraps(draw)
    def styled(*args, **kwargs):
        from matplotlib import rc_context

        with rc_context(ANALYSIS_STYLE):
            return draw(*args, **kwargs)

    return styled


def new_figure(figsize, rows: int = 1, cols: int = 1, **options):
    """A matplotlib Figure (object API) and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, cols, **options)


@analysis_style
def save(fig, folder, name: str) -> list[Path]:
    """Write `fig` as NAME.png and NAME.svg into `folder`; returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    fig.savefig(paths[0], dpi=110, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight", metadata={"Date": None})
    return paths


def by_model(tables, model: str) -> dict:
    """{model name: its table(s)}: a dict as given, or one model's under the name `model`."""
    return dict(tables) if isinstance(tables, dict) else {model: tables}


class Panel(NamedTuple):
    """One gate of one layer in the gate-saturation grid: where it goes, its title, and each cell
    at (share of characters nearly shut, share nearly open)."""

    row: int  # the layer
    col: int
    title: str
    cells: list[int]
    shut: list[float]
    open: list[float]


def saturation_panels(tables, model: str = "LSTM") -> tuple[list[Panel], int, int]:
    """(panels, rows, columns) of the gate-saturation grid from the tables of
    `analysis.gate_saturation`, per layer: a row per layer, a column per gate; several models (a
    dict of name -> per-layer tables, the paper's LSTM and GRU panels) each with their own columns."""
    models = by_model(tables, model)
    columns = [(name, gate) for name, layers in models.items() for gate in dict.fromkeys(layers[0]["gate"])]
    panels = []
    for col, (name, gate) in enumerate(columns):
        for row, table in enumerate(models[name]):
            part = table[table["gate"] == gate]
            above = f"{name}\n" if len(models) > 1 else ""  # the model's name on a line of its own
            title = f"{above}layer {row + 1}, {gate} gate"
            panels.append(Panel(row, col, title, part["cell"].tolist(), part["left"].tolist(), part["right"].tolist()))
    return panels, max(len(layers) for layers in models.values()), len(columns)


@analysis_style
def gate_saturation(tables, model: str = "LSTM"):
    """Figure 3 of the paper (`saturation_panels`) with matplotlib, for the reports' PNG and SVG;
    `gate_saturation_spec` is the same figure for plotly."""
    panels, rows, cols = saturation_panels(tables, model)
    fig, axes = new_figure((2.7 * cols, 2.6 * rows), rows, cols, squeeze=False, sharex=True, sharey=True)
    for ax in axes.flat:
        ax.set_axis_off()
    for p in panels:
        ax = axes[p.row, p.col]
        ax.set_axis_on()
        ax.plot([0, 1], [1, 0], color=SATURATION["diagonal"], lw=0.8)
        ax.scatter(
            p.shut,
            p.open,
            s=SATURATION["size"] ** 2 / 4,
            alpha=SATURATION["opacity"],
            color=colour.LSTM,
            linewidths=0,
            rasterized=True,
        )
        ax.set_xlim(*SATURATION["range"])
        ax.set_ylim(*SATURATION["range"])
        ax.set_title(p.title)
        if p.row == rows - 1:
            ax.set_xlabel(SHUT)
        if p.col == 0:
            ax.set_ylabel(OPEN)
    fig.tight_layout()
    return fig


def gate_saturation_spec(tables, model: str = "LSTM") -> dict:
    """The gate-saturation grid (`saturation_panels`) as a plotly figure's data and layout (plain
    JSON: the library needs no plotly), for the app: the same panels, titles, axes and marks as
    `gate_saturation`, with each cell's number on hover."""
    panels, rows, cols = saturation_panels(tables, model)
    data, annotations = [], []
    lines = max(p.title.count("\n") + 1 for p in panels)
    margin = {"l": 60, "r": 10, "t": 16 + 14 * lines, "b": 50}
    layout = {"height": 300 * rows + 40, "showlegend": False, "margin": margin}
    gap = 0.07 if rows > 1 else 0  # room between rows for a row's tick labels and the next one's titles
    for p in panels:
        k = p.row * cols + p.col + 1
        axis = "" if k == 1 else str(k)
        mark = {"xaxis": f"x{axis}", "yaxis": f"y{axis}"}
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [0, 1],
                "y": [1, 0],
                "hoverinfo": "skip",
                **mark,
                "line": {"color": SATURATION["diagonal"], "width": 1},
            }
        )
        data.append(
            {
                "type": "scattergl",
                "mode": "markers",
                "x": p.shut,
                "y": p.open,
                **mark,
                "marker": {"size": SATURATION["size"], "color": colour.LSTM, "opacity": SATURATION["opacity"]},
                "text": [f"cell {i}" for i in p.cells],
                "hovertemplate": "%{text}: nearly shut %{x:.0%}, nearly open %{y:.0%} of the time<extra></extra>",
            }
        )
        x0, x1 = p.col / cols + 0.03, (p.col + 1) / cols - 0.03
        r = p.row
        y1, y0 = 1 - r / rows - (gap if r else 0), 1 - (r + 1) / rows + (gap if r < rows - 1 else 0)
        layout[f"xaxis{axis}"] = {  # axis titles once: under the last row, left of the first column
            "domain": [x0, x1],
            "range": list(SATURATION["range"]),
            "anchor": f"y{axis}",
            "title": {"text": SHUT if r == rows - 1 else "", "font": {"size": 11}},
        }
        layout[f"yaxis{axis}"] = {
            "domain": [y0, y1],
            "range": list(SATURATION["range"]),
            "anchor": f"x{axis}",
            "title": {"text": OPEN if p.col == 0 else "", "font": {"size": 11}},
        }
        annotations.append(
            {
                "text": p.title.replace("\n", "<br>"),
                "x": (x0 + x1) / 2,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
    return {"data": data, "layout": {**layout, "annotations": annotations}}


class Series(NamedTuple):
    """One set of marks of an analysis chart: horizontal bars (x the value, y the category, bottom
    first) or points (marker "circle" or "diamond"), with a label on each bar and words on hover."""

    name: str
    marker: str  # "bar", "circle" or "diamond"
    colour: str
    x: list
    y: list
    labels: list[str]  # written beside each bar ([] for points)
    hover: list[str]  # one per mark


class Chart(NamedTuple):
    """An analysis chart described once, drawn by `chart_figure` (matplotlib, for the reports' files)
    and `chart_spec` (plotly, for the app), so the two carry the same title, axis words and values."""

    title: str
    x_title: str
    y_title: str
    series: list[Series]
    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None
    x_log: bool = False
    x_percent: bool = False  # x in percent, ticks written with "%"
    inches: tuple[float, float] = (6, 3)  # the file's size
    height: int = 360  # the page's, in pixels


MARKERS = {"circle": "o", "diamond": "D"}  # point markers, as matplotlib names them
POINT = {"size": 8, "opacity": 0.75}  # points' diameter in pixels and opacity
BAR_SPACE = 0.8  # share of a category's height its bars fill


def breakdown_chart(table, model: str = "LSTM") -> Chart:
    """The error breakdown of `analysis.error_breakdown` (or several models': a dict of name ->
    table), each oracle's share of the model's errors in percent, as bars side by side per oracle;
    the counts on hover."""
    models = by_model(table, model)
    oracles = list(next(iter(models.values()))["oracle"])[::-1]  # bottom first: the table's first on top
    shades = colour.CATEGORIES if len(models) > 1 else (colour.LSTM,)
    series, top = [], 1.0
    for k, (name, part) in enumerate(models.items()):
        rows = part.set_index("oracle").reindex(oracles)
        shares = (rows["share"] * 100).tolist()
        counts = rows["errors"].astype(int).tolist()
        total = int(part["errors"].sum())
        series.append(
            Series(
                f"{name} ({total:,} errors)",
                "bar",
                shades[k % len(shades)],
                shares,
                oracles,
                [f"{p:.0f}%" for p in shares],
                [f"{name}, {o}: {p:.1f}% of the errors ({n:,} errors)" for o, p, n in zip(oracles, shares, counts)],
            )
        )
        top = max(top, max(shares) * 1.2)
    several = len(models) > 1
    return Chart(
        "Error breakdown" + ("" if several else f": the {model}'s {total:,} errors"),
        "share of each model's errors (%)" if several else f"share of the {model}'s errors (%)",
        "",
        series,
        x_range=(0, top),
        x_percent=True,
        inches=(6, 0.75 + (0.25 + 0.2 * len(models)) * len(oracles)),
        height=300 + 60 * (len(models) - 1),
    )


def closing_chart(table, model: str = "LSTM") -> Chart:
    """Each closing brace or quote of `analysis.closing_distance` at (distance to its opener, the
    probability each model gave it), on a log distance axis."""
    series = []
    for kind, marker in (("brace", "circle"), ("quote", "diamond")):
        part = table[table["kind"] == kind]
        for column, name, shade in (("lstm", model, colour.LSTM), ("ngram", "20-gram", colour.BASELINE)):
            if len(part) and part[column].notna().any():
                x, y = part["distance"].astype(int).tolist(), part[column].astype(float).tolist()
                words = f"{name}: a closing {kind} {{}} characters after its opener, probability {{:.2f}}"
                hover = [words.format(d, p) for d, p in zip(x, y)]
                series.append(Series(f"{name}, closing {kind}", marker, shade, x, y, [], hover))
    return Chart(
        "Each closing brace or quote",
        "characters since its opener (log scale)",
        "probability of the closer",
        series,
        y_range=(0, 1.02),
        x_log=True,
        inches=(6, 3.4),
    )


@analysis_style
def chart_figure(chart: Chart):
    """`chart` with matplotlib, for the reports' PNG and SVG."""
    from matplotlib.ticker import PercentFormatter

    fig, ax = new_figure(chart.inches)
    bars = [s for s in chart.series if s.marker == "bar"]
    height = BAR_SPACE / max(len(bars), 1)
    for s in chart.series:
        if s.marker != "bar":
            ax.scatter(
                s.x,
                s.y,
                s=POINT["size"] ** 2 / 2,
                marker=MARKERS[s.marker],
                color=s.colour,
                alpha=POINT["opacity"],
                linewidths=0,
                label=s.name,
            )
    for k, s in enumerate(bars):
        y = np.arange(len(s.y)) + (len(bars) - 1 - 2 * k) * height / 2  # the first model on top in its category
        ax.barh(y, s.x, height=height, color=s.colour, label=s.name)
        for yy, v, text in zip(y, s.x, s.labels):
            ax.text(v + 0.5, yy, text, va="center", fontsize=7)
    if bars:
        ax.set_yticks(np.arange(len(bars[0].y)), bars[0].y)
    ax.set_title(chart.title)
    ax.set_xlabel(chart.x_title)
    ax.set_ylabel(chart.y_title)
    if chart.x_log:
        ax.set_xscale("log")
    if chart.x_percent:
        ax.xaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    if chart.x_range:
        ax.set_xlim(*chart.x_range)
    if chart.y_range:
        ax.set_ylim(*chart.y_range)
    fig.tight_layout()
    if len(chart.series) > 1 and bars:  # under the figure, clear of every bar and its label
        ax.legend(loc="upper left", bbox_to_anchor=(0, 0), bbox_transform=fig.transFigure, frameon=False, fontsize=7)
    elif len(chart.series) > 1:
        ax.legend(loc="best", frameon=False, fontsize=7)
    return fig


def chart_spec(chart: Chart) -> dict:
    """`chart` as a plotly figure's data and layout (plain JSON: the library needs no plotly), for
    the app: the same title, axis words and values as `chart_figure`, the counts on hover."""
    data = []
    for s in chart.series:
        if s.marker == "bar":
            mark = {"type": "bar", "orientation": "h", "text": s.labels, "textposition": "outside", "cliponaxis": False}
            mark["marker"] = {"color": s.colour}
        else:
            mark = {"type": "scatter", "mode": "markers"}
            mark["marker"] = {"color": s.colour, "symbol": s.marker, **POINT}
        data.append(
            {
                **mark,
                "name": s.name,
                "x": s.x,
                "y": s.y,
                "hovertext": s.hover,
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    legend = len(chart.series) > 1
    xaxis = {"title": {"text": chart.x_title}}
    if chart.x_log:
        xaxis["type"] = "log"
    if chart.x_percent:
        xaxis["ticksuffix"] = "%"
    if chart.x_range:
        xaxis["range"] = list(chart.x_range)
    yaxis = {"title": {"text": chart.y_title}}
    if chart.y_range:
        yaxis["range"] = list(chart.y_range)
    layout = {
        "title": {
            "text": chart.title,
            "x": 0,
            "xanchor": "left",
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": 8},
        },
        "height": chart.height,
        "margin": {"l": 60, "r": 10, "t": 90 if legend else 40, "b": 50},
        "xaxis": xaxis,
        "yaxis": yaxis,
        "barmode": "group",
        "showlegend": legend,
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    }
    return {"data": data, "layout": layout}


def error_breakdown(table, model: str = "LSTM"):
    """The error breakdown (`breakdown_chart`) with matplotlib; `error_breakdown_spec` for plotly."""
    return chart_figure(breakdown_chart(table, model))


def error_breakdown_spec(table, model: str = "LSTM") -> dict:
    """The error breakdown (`breakdown_chart`) as a plotly figure's data and layout."""
    return chart_spec(breakdown_chart(table, model))


def closing_distance(table, model: str = "LSTM"):
    """The closing distance (`closing_chart`) with matplotlib; `closing_distance_spec` for plotly."""
    return chart_figure(closing_chart(table, model))


def closing_distance_spec(table, model: str = "LSTM") -> dict:
    """The closing distance (`closing_chart`) as a plotly figure's data and layout."""
    return chart_spec(closing_chart(table, model))


@analysis_style
def quote_memory(tables: dict):
    """The long-memory test, several models on one plot: the mean probability of the closing quote
    against its distance from the opening one (tables of `analysis.quote_memory`, by model name),
    the pairs in each bin written under its distances."""
    fig, ax = new_figure((6, 3.4))
    edges = sorted({(int(lo), int(hi)) for t in tables.values() for lo, hi in zip(t["low"], t["high"])})
    where = {edge: i for i, edge in enumerate(edges)}
    markers = "osD^v"
    for k, (name, table) in enumerate(tables.items()):
        x = [where[(int(lo), int(hi))] for lo, hi in zip(table["low"], table["high"])]
        shade = colour.CATEGORIES[k % len(colour.CATEGORIES)]
        ax.plot(x, table["p"], marker=markers[k % len(markers)], color=shade, label=name)
    first = next(iter(tables.values()))
    pairs = {(int(lo), int(hi)): int(n) for lo, hi, n in zip(first["low"], first["high"], first["pairs"])}
    count = {edge: f"{pairs.get(edge, 0)} pair{'' if pairs.get(edge) == 1 else 's'}" for edge in edges}
    labels = [f"{lo}-{hi - 1}\n{count[lo, hi]}" if hi < 10**9 else f"{lo}+\n{count[lo, hi]}" for lo, hi in edges]
    ax.set_xticks(range(len(edges)), labels, fontsize=7)
    ax.set_ylim(0, 1.02)
    ax.set_title("The long-memory test: closing quotes")
    ax.set_xlabel("distance from the opening quote (characters), and the pairs at that distance")
    ax.set_ylabel('mean p(closing ")')
    ax.legend(loc="upper right", frameon=False)
    fig.tight_layout()
    return fig


@analysis_style
def character_advantage(table, model: str = "LSTM"):
    """Where the model's memory pays: nats saved over the n-gram in total, per next character."""
    fig, ax = new_figure((6, 3))
    ax.barh(table["label"][::-1], table["saved"][::-1], color=colour.LSTM)
    ax.set_xlabel(f"nats saved by the {model} over the n-gram, summed over the text")
    fig.tight_layout()
    return fig
