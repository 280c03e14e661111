"""A table of cells, one per row: each cell's number links to its page, layers are counted from 1
as in the sidebar, and a click anywhere on a row (its checkbox or any of its cells) makes that
cell the chosen one (the finder's ranking and the Cell labels search both show one)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ..session import cell_link, state

SELECTION = ["single-row", "single-cell"]  # a click on any cell of a row selects it, as the checkbox does


def clicked_row(selection) -> int | None:
    """The row a table's selection names: its checked row, else the row of its clicked cell."""
    if selection.rows:
        return selection.rows[0]
    cells = getattr(selection, "cells", None) or []
    return cells[0][0] if cells else None


def pick_row(key: str, table: pd.DataFrame) -> None:
    """Callback of the table under `key`: the clicked row becomes the chosen layer and cell."""
    row = clicked_row(st.session_state[key].selection)
    if row is not None:
        row = table.iloc[row]
        state.move_cell(st.session_state, int(row["cell"]), int(row["layer"]))


def shown(name: str, table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`columns` of `table` (layers from 0) as shown: a page link first, layers counted from 1."""
    pages = [cell_link.url(name, int(layer), int(cell)) for layer, cell in zip(table["layer"], table["cell"])]
    return table[columns].assign(layer=table["layer"] + 1, page=pages)[["page", *columns]]


def widget_key(key: str, layer: int, cell: int) -> str:
    """The table's widget key while (layer, cell) is the chosen cell: a new one for every chosen cell,
    so that the table comes back with nothing selected and a click on the row it last picked counts."""
    return f"{key}-{layer}-{cell}"


def show(name: str, table: pd.DataFrame, columns: list[str], key: str, max_height: int, **column_config) -> None:
    """Draw the cells of `table` (model `name`); extra column_config entries by column name."""
    widget = widget_key(key, st.session_state["layer"], st.session_state["cell"])
    st.dataframe(
        shown(name, table, columns),
        hide_index=True,
        on_select=lambda: pick_row(widget, table),
        selection_mode=SELECTION,
        key=widget,
        width="stretch",
        height=min(max_height, 38 + 35 * len(table)),
        column_config={
            "page": st.column_config.LinkColumn("page", display_text=r"cell=([^&]*)", width="small"),
            **column_config,
        },
    )
