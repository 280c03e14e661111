"""The "Cell map" panel: every cell of the model that varies as a point, placed by how the cells
correlate on held-out text (the first two principal components of the correlation matrix of the
cells that vary, from the model's explain.json) and coloured by the kind of its label; clicking a
point shows that cell. Constant cells have no place: a line says how many."""

from __future__ import annotations

from html import escape

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ..backend import cache
from ..session import cell_link, labels, state
from ..session.shown import Shown
from ..widgets import glossary
from . import labels_view

MAP_KEY = "cell_map"
RING = 10  # px, the radius of the ring around the chosen cell
SYMBOLS = ("circle", "diamond", "square", "triangle-up", "x", "star")  # by layer


def pick_from_map() -> None:
    """on_select of the map: the clicked point's cell becomes the chosen layer and cell."""
    points = st.session_state[MAP_KEY].selection.points
    if points and len(points[0].get("customdata") or ()) == 2:
        layer, cell = (int(v) for v in points[0]["customdata"])
        state.move_cell(st.session_state, cell, layer)


def figure(frame: pd.DataFrame, layer: int, cell: int) -> go.Figure:
    """One trace per kind of label (the legend), a symbol per layer, the chosen cell ringed.
    Labels reach the hover card escaped (plotly reads a few HTML tags in text)."""
    data = []
    for kind, (title, _) in labels.KINDS.items():
        part = frame[frame["kind"] == kind]
        if part.empty:
            continue
        hover = [
            f"{r.layer + 1}:{r.cell} · {labels.match_text(None if pd.isna(r.score) else r.score, 'held_out')}<br>"
            f"{escape(r.label[:90])}"
            for r in part.itertuples()
        ]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": title,
                "x": part["x"].tolist(),
                "y": part["y"].tolist(),
                "customdata": part[["layer", "cell"]].to_numpy().tolist(),
                "text": hover,
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {
                    "color": labels.COLOURS[kind],
                    "size": 7,
                    "opacity": 0.8,
                    "symbol": [SYMBOLS[v % len(SYMBOLS)] for v in part["layer"]],
                    "line": {"width": 0},
                },
            }
        )
    here = frame[(frame["layer"] == layer) & (frame["cell"] == cell)]
    ring = [  # a shape, not a trace: it takes no clicks from the point it circles
        {
            "type": "circle",
            "xref": "x",
            "yref": "y",
            "xsizemode": "pixel",
            "ysizemode": "pixel",
            "xanchor": float(x),
            "yanchor": float(y),
            "x0": -RING,
            "x1": RING,
            "y0": -RING,
            "y1": RING,
            "line": {"color": "#000", "width": 2},
        }
        for x, y in zip(here["x"], here["y"])
    ]
    layout = {
        "height": 560,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "xaxis": {"title": "first component", "zeroline": False},
        "yaxis": {"title": "second component", "zeroline": False},
        "legend": {"title": {"text": "label about"}},
        "shapes": ring,
        "clickmode": "event+select",
        "dragmode": "pan",
    }
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def section(shown: Shown) -> None:
    """The map of every cell; a click on a point shows that cell."""
    record = labels_view.labelled(cache.explanation, shown.name)
    if record is None:
        return
    frame = cache.cell_map(shown.name)
    placed = frame.dropna(subset=["x", "y"])
    layers = record["layers"]
    st.caption(
        f"Each point is a cell, placed so that cells that rise and fall together on {record['chars']:,} "
        "characters of held-out text sit together (the two strongest shared patterns of their correlations, "
        "across and up). Colour: what its label is about; symbol: its layer ("
        + ", ".join(f"{SYMBOLS[k % len(SYMBOLS)]} = layer {k + 1}" for k in range(layers))
        + "). Click a point to show that cell.",
        help=glossary.tip("held-out text", "Pearson r"),
    )
    unplaced = len(frame) - len(placed)
    if unplaced:
        st.caption(
            f"{unplaced} cells are left off the map: they barely change on held-out text (constant, so no label)."
        )
    st.plotly_chart(
        figure(placed, shown.layer, shown.cell),
        key=MAP_KEY,
        on_select=pick_from_map,
        selection_mode="points",
        config={"displayModeBar": False, "scrollZoom": True},
    )
    st.page_link(
        cell_link.PAGE,
        label=f"Page of cell {shown.layer + 1}:{shown.cell}",
        query_params=cell_link.query(shown.name, shown.layer, shown.cell),
    )
