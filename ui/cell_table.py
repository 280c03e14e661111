"""A table of cells, one per row: each cell's number links to its page, layers are counted from 1
as in the sidebar, and a click on a row makes that cell the chosen one (the finder's ranking and
the Cell labels search both show one)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import cell_link, state


def pick_row(key: str, table: pd.DataFrame) -> None:
    """Callback of the table under `key`: the clicked row becomes the chosen layer and cell."""
    rows = st.session_state[key].selection.rows
    if rows:
        row = table.iloc[rows[0]]
        state.move_cell(st.session_state, int(row["cell"]), int(row["layer"]))


def shown(name: str, table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`columns` of `table` (layers from 0) as shown: a page link first, layers counted from 1."""
    pages = [cell_link.url(name, int(layer), int(cell)) for layer, cell in zip(table["layer"], table["cell"])]
    return table[columns].assign(layer=table["layer"] + 1, page=pages)[["page", *columns]]


def show(name: str, table: pd.DataFrame, columns: list[str], key: str, max_height: int, **column_config) -> None:
    """Draw the cells of `table` (model `name`); extra column_config entries by column name."""
    st.dataframe(
        shown(name, table, columns),
        hide_index=True,
        on_select=lambda: pick_row(key, table),
        selection_mode="single-row",
        key=key,
        width="stretch",
        height=min(max_height, 38 + 35 * len(table)),
        column_config={
            "page": st.column_config.LinkColumn("page", display_text=r"cell=([^&]*)", width="small"),
            **column_config,
        },
    )
