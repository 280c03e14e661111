"""The "Cell labels" panel: search every cell's label (the model's explain.json) by words, e.g.
"quote", "depth", "line"; each matching cell with its held-out score, a click shows it here and
its number opens its page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import cache, cell_link, labels, state
from .shown import Shown

TABLE_KEY = "labels_table"
COLUMNS = ["page", "layer", "cell", "label", "score", "runner_up", "runner_up_score", "change_low", "change_high"]


def pick_row(found: pd.DataFrame) -> None:
    """Callback of the table: the clicked row becomes the chosen layer and cell."""
    rows = st.session_state[TABLE_KEY].selection.rows
    if rows:
        row = found.iloc[rows[0]]
        state.move_cell(st.session_state, int(row["cell"]), int(row["layer"]))


def table_of(name: str, found: pd.DataFrame) -> pd.DataFrame:
    """The matching cells as shown: a link to each page, layers counted from 1."""
    return found.assign(
        page=[cell_link.url(name, int(r.layer), int(r.cell)) for r in found.itertuples()], layer=found["layer"] + 1
    )[COLUMNS]


def section(shown: Shown) -> None:
    """The search box and the matching cells, best explained first."""
    try:
        table = cache.explanation_table(shown.name)
    except ValueError as e:
        st.warning(f"Cannot read the cell labels: {labels.plain(str(e))}")
        return
    if table is None:
        st.info(labels.how_to_build(shown.name))
        return
    words = st.text_input(
        "Search cell labels",
        key="label_search",
        placeholder="e.g. quote, or depth, or line (a cell matches when its label holds every word)",
    )
    found = cache.label_search(shown.name, words)
    if found.empty:
        st.info("No cell's label holds all of these words.")
        return
    st.caption(
        f"{len(found):,} of {len(table):,} cells"
        + (" have labels with all of these words" if words.strip() else "")
        + ", best explained first (score: held-out correlation; change_low/high: the causal check's change in "
        "log p, nats, for the 50 best-explained cells). Click a row to show that cell; its number opens its page."
    )
    st.dataframe(
        table_of(shown.name, found),
        hide_index=True,
        on_select=lambda: pick_row(found),
        selection_mode="single-row",
        key=TABLE_KEY,
        width="stretch",
        height=min(420, 38 + 35 * len(found)),
        column_config={
            "page": st.column_config.LinkColumn("page", display_text=r"cell=([^&]*)", width="small"),
            "label": st.column_config.TextColumn("label", width="large"),
        },
    )
