"""The "All cells" panel: every cell of the layer at the selected position, and the heatmap of
cells around it (ordered by variation, strength, number, or a typed list; grouped by label when
the model has an explain.json)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz.core import cells as cell_list
from lstm_viz.views.view import signal_name

from ..backend import cache
from ..components import component, payload
from ..session import labels, ordering, state
from ..session.shown import Shown

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


def heatmap_options(hidden: int) -> tuple[str, int, str, bool]:
    """Row order, how many rows, the typed list for the custom order, and whether to group by label."""
    left, middle, right, last = st.columns([2, 1, 2, 1], vertical_alignment="bottom")
    state.choose(st.session_state, "heatmap_order", ordering.ORDERS)
    order = left.selectbox("Order cells", list(ordering.ORDERS), key="heatmap_order", format_func=ordering.ORDERS.get)
    rows = middle.number_input("Cells shown", min_value=1, max_value=hidden, step=8, key="heatmap_rows")
    custom = right.text_input(
        "My own list of cells", key="heatmap_custom", placeholder="e.g. 47, 3, 210", disabled=order != "custom"
    )
    group = last.checkbox("Group by label", key="heatmap_group", help="cells whose label starts alike sit together")
    return order, int(rows), custom, group


def grouped(name: str, layer: int, hidden: int, chosen: list[int]) -> tuple[list[int], list[str] | None]:
    """The heatmap's cells grouped by label, with each row's group title; as they were, with no
    titles and a note on how to build labels, when the model has none."""
    try:
        table = cache.explanation_table(name)
    except ValueError as e:
        st.warning(f"Cannot group by label: {labels.plain(str(e))}")
        return chosen, None
    if table is None:
        st.info(labels.how_to_build(name))
        return chosen, None
    return labels.group_by_label(chosen, labels.layer_labels(table, layer, hidden))


def section(shown: Shown) -> None:
    """The bars of every cell at the selected position, then the heatmap."""
    tr, layer, signal, pos = shown.trace, shown.layer, shown.signal, shown.pos
    L, _, H = tr.shape
    everything = tr.signal(signal, layer, None, pos, pos + 1)[0]  # (H,)
    words = signal_name(signal, tr.kind)  # "memory h" for a GRU's or an RNN's memory
    component.cells_view(payload.cells_part(everything, pos, words), on_pick=pick_bar)
    order, rows, custom_text, group = heatmap_options(H)
    custom, custom_problem = cell_list.of_layer(custom_text, layer, L, H)
    if order == "custom" and custom_problem:
        st.warning(custom_problem)
    variation = cache.variation(shown.name, tr.text, layer, signal) if order == "variation" else np.zeros(H)
    chosen = ordering.order_cells(order, variation, everything, custom)[:rows]
    if not chosen:
        st.info("Type the cells to show, e.g. 47, 3, 210.")
        return
    groups = None
    if group:
        chosen, groups = grouped(shown.name, layer, H, chosen)
    start, stop = max(0, pos - HEATMAP_BEFORE), min(len(tr.text), pos + HEATMAP_AFTER)
    window = tr.signal(signal, layer, chosen, start, stop)
    title = f"{words} of {len(chosen)} cells over positions {start} to {stop - 1}"
    component.heatmap_view(
        payload.heatmap_part(window, chosen, start, tr.text[start:stop], shown.cell, pos, title, groups),
        on_pick=pick_from_heatmap,
    )
