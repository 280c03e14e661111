"""Plotly figures: the next-character panel and all cells at one position.

Every character label passes through `plotly_label`, since plotly reads text as HTML.
Figures are written as plain dicts and wrapped without plotly's validation, which would
otherwise cost more per rerun (512 colours checked one by one) than everything else a cell
switch does; the AppTest tests read back what these dicts produce.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lstm_viz.colour import css
from lstm_viz.glyphs import plotly_label

GUESS, ACTUAL = "#4a6fd0", "#1a9e3a"


def _figure(data: list[dict], title: str, height: int, **layout) -> go.Figure:
    layout = {"title": {"text": title, "font": {"size": 14}}, "height": height, "showlegend": False,
              "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, **layout}
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def next_char(top: list[tuple[str, float]], actual: str | None, actual_p: float, pos: int,
              char: str) -> go.Figure:
    """Horizontal bars of the top-5 next characters after `pos`; the one that came next is green.

    If the actual next character is not among the five, it gets a sixth bar of its own.
    """
    labels = [plotly_label(c) for c, _ in top]
    probs = [p for _, p in top]
    colours = [ACTUAL if c == actual else GUESS for c, _ in top]
    notes = ["actual next" if c == actual else "" for c, _ in top]
    if actual is not None and actual not in [c for c, _ in top]:
        labels.append(plotly_label(actual) + " (actual)")
        probs.append(actual_p)
        colours.append(ACTUAL)
        notes.append("actual next")
    bars = {"type": "bar", "orientation": "h", "x": probs, "y": [f"{i + 1}. {lab}" for i, lab in enumerate(labels)],
            "marker": {"color": colours}, "text": [f"{p:.1%} {n}".strip() for p, n in zip(probs, notes)],
            "textposition": "auto", "hovertemplate": "%{y}: %{x:.2%}<extra></extra>"}
    return _figure([bars], f"Next character after position {pos} ({plotly_label(char)})", 300,
                   yaxis={"autorange": "reversed", "tickfont": {"family": "monospace", "size": 14}},
                   xaxis={"range": [0, 1], "tickformat": ".0%"})


def cells_at(values: np.ndarray, pos: int, signal_label: str) -> go.Figure:
    """One bar per cell of the layer: its value at `pos`. Clicking a bar picks that cell.

    It does not mark the chosen cell, so a cell switch leaves it unchanged and unredrawn.
    """
    bars = {"type": "bar", "x": np.arange(len(values)), "y": values,
            "marker": {"color": [css(v) for v in values], "line": {"width": 0}},
            "hovertemplate": "cell %{x}: %{y:.3f}<extra></extra>"}
    return _figure([bars], f"Every cell's {signal_label} at position {pos}", 260, hovermode="x", bargap=0,
                   yaxis={"range": [-1.05, 1.05]},
                   xaxis={"title": {"text": "cell (click a bar to show it)", "font": {"size": 12}}})
