"""The sidebar's figure downloads: which figure, which scale, which cells; files built only when clicked."""

from __future__ import annotations

import streamlit as st

from lstm_viz.core import cells as cell_list
from lstm_viz.views import colour

from ..session import state

KINDS = {"text": "Coloured text", "cells": "Cell rows", "strip": "Prediction strip", "heatmap": "Heatmap"}
SCALES = dict(zip(colour.SCALES, ("Fixed scale ([-1, 1]; gates 0 to 1)", "This text's own range")))


def options(layers: int, hidden: int, layer: int, cell: int) -> tuple[str, str, list[int] | None, str | None]:
    """(kind, scale, cells for the rows or None, a problem with the typed cells or None)."""
    state.choose(st.session_state, "figure_kind", KINDS)
    kind = st.selectbox("Figure", list(KINDS), format_func=KINDS.get, key="figure_kind")
    state.choose(st.session_state, "figure_scale", SCALES)
    scale = st.radio("Colour scale", list(SCALES), format_func=SCALES.get, key="figure_scale")
    if kind != "cells":
        return kind, scale, None, None
    typed = st.text_input("Cells for the rows (of this layer)", key="figure_cells", placeholder=str(cell))
    cells, problem = cell_list.of_layer(typed, layer, layers, hidden) if typed.strip() else ([cell], None)
    return kind, scale, cells, problem
