"""The "Cell labels" panel: search every cell's label (the model's explain.json) by words, e.g.
"quote", "depth", "line"; each matching cell with its match on held-out text, a click shows it
here and its number opens its page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from ..backend import cache
from ..session import labels
from ..session.shown import Shown
from ..widgets import cell_table

T = TypeVar("T")
TABLE_KEY = "labels_table"
COLUMNS = ["layer", "cell", "label", "score", "runner_up", "runner_up_score", "change_low", "change_high"]


def labelled(load: Callable[[str], T | None], name: str) -> T | None:
    """load(name) from the model's explain.json; None after a one-line note when the file cannot be
    read or the model has none (with the command that builds it)."""
    try:
        found = load(name)
    except ValueError as e:
        st.warning(f"Cannot read the cell labels: {labels.plain(str(e))}")
        return None
    if found is None:
        st.info(labels.how_to_build(name))
    return found


def section(shown: Shown) -> None:
    """The search box and the matching cells, best explained first."""
    table = labelled(cache.explanation_table, shown.name)
    if table is None:
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
        + f", best explained first ({labels.MATCH_HELP['held_out']} change_low/high: the causal check's change in "
        "log p, nats, for the 50 best-explained cells). Click a row to show that cell; its number opens its page."
    )
    cell_table.show(
        shown.name,
        found,
        COLUMNS,
        TABLE_KEY,
        max_height=420,
        label=st.column_config.TextColumn("label", width="large"),
        score=st.column_config.NumberColumn(
            f"match {labels.MATCH_WHERE['held_out']}", help=labels.MATCH_HELP["held_out"], format="%.2f"
        ),
        runner_up_score=st.column_config.NumberColumn(
            "runner-up's match", help="the runner-up label's match, measured the same way", format="%.2f"
        ),
    )
