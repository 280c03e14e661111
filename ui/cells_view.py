"""The "All cells" panel: every cell of the layer at the selected position, and the heatmap of
cells around it (ordered by variation, strength, number, or a typed list)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz import cells as cell_list

from . import cache, component, ordering, payload, state
from .shown import Shown
from .signals import SIGNALS

HEATMAP_BEFORE, HEATMAP_AFTER = 30, 90  # characters around the selected position


def pick_bar() -> None:
    """on_pick callback of the all-cells bars: the clicked bar's cell becomes the chosen cell."""
    cell = component.picked_bar()
    if cell is not None:
        state.move_cell(st.session_state, cell)


def pick_from_heatmap() -> None:
    """on_pick callback of the heatmap: the clicked row's cell and column's character."""
    picked = component.picked()
    if picked is not None:
        cell, st.session_state["pos"] = picked
        state.move_cell(st.session_state, cell)


def heatmap_options(hidden: int) -> tuple[str, int, str]:
    """Row order, how many rows, and the typed list for the custom order."""
    left, middle, right = st.columns([2, 1, 2])
    order = left.selectbox("Order cells", list(ordering.ORDERS), key="heatmap_order", format_func=ordering.ORDERS.get)
    rows = middle.number_input("Cells shown", min_value=1, max_value=hidden, step=8, key="heatmap_rows")
    custom = right.text_input(
        "My own list of cells", key="heatmap_custom", placeholder="e.g. 47, 3, 210", disabled=order != "custom"
    )
    return order, int(rows), custom


def section(shown: Shown) -> None:
    """The bars of every cell at the selected position, then the heatmap."""
    tr, layer, signal, pos = shown.trace, shown.layer, shown.signal, shown.pos
    L, _, H = tr.shape
    everything = tr.signal(signal, layer, None, pos, pos + 1)[0]  # (H,)
    component.cells_view(payload.cells_part(everything, pos, SIGNALS[signal]), on_pick=pick_bar)
    order, rows, custom_text = heatmap_options(H)
    custom, custom_problem = cell_list.of_layer(custom_text, layer, L, H)
    if order == "custom" and custom_problem:
        st.warning(custom_problem)
    variation = cache.variation(shown.name, tr.text, layer, signal) if order == "variation" else np.zeros(H)
    chosen = ordering.order_cells(order, variation, everything, custom)[:rows]
    if not chosen:
        st.info("Type the cells to show, e.g. 47, 3, 210.")
        return
    start, stop = max(0, pos - HEATMAP_BEFORE), min(len(tr.text), pos + HEATMAP_AFTER)
    window = tr.signal(signal, layer, chosen, start, stop)
    title = f"{SIGNALS[signal]} of {len(chosen)} cells over positions {start} to {stop - 1}"
    component.heatmap_view(
        payload.heatmap_part(window, chosen, start, tr.text[start:stop], shown.cell, pos, title),
        on_pick=pick_from_heatmap,
    )
