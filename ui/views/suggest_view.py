"""The best cells for the text on the page: which cell follows quotes, line position and bracket
depth most closely on it (their match, measured live), each a button that shows that cell, or a
line saying the text has none of the thing (a text without quotes)."""

from __future__ import annotations

import streamlit as st

from lstm_viz.core import features

from ..backend import cache
from ..session import labels, state
from ..session.examples import CUSTOM
from ..session.shown import Shown

NONE_IN = {  # what a text lacks when a suggested hypothesis never changes on it
    "quotes": "no quotes",
    "line_position": "too few characters for a line position",
    "bracket_depth": "no brackets",
}
IN = {"live": "in your text", "example": "in this example"}


def line(found: dict | None, feature: str, where: str) -> str:
    """One suggestion as the page words it (where: "live" or "example"): "layer 2 cell 429 follows
    quotes, match 0.97", or what the text lacks: "no quotes in your text"."""
    name = feature.replace("_", " ")
    if found is None:
        return f"{NONE_IN.get(feature, f'{name} never changes')} {IN[where]}"
    match = f"{labels.NAME} {labels.match_value(found['match'])}"
    return f"layer {found['layer'] + 1} cell {found['cell']} follows {name}, {match}"


def draw(shown: Shown) -> None:
    """The suggestions for the shown text, in one row under it."""
    found = cache.suggestions(shown.name, shown.trace.text)
    where = "live" if st.session_state["example"] == CUSTOM else "example"
    columns = st.columns([2, 3, 3, 3], vertical_alignment="center")
    columns[0].caption(
        f"Best cells {labels.MATCH_WHERE[where]}:", help=labels.MATCH_HELP["live"] + " A click shows the cell."
    )
    for column, feature in zip(columns[1:], cache.SUGGESTED):
        best = found[feature]
        if best is None:
            column.caption(line(None, feature, where))
            continue
        column.button(  # no key: a button's state cannot be given a default (state.DEFAULTS)
            line(best, feature, where),
            help=f"{features.get(feature).description}: the cell whose tanh(c) follows it most closely "
            f"{labels.MATCH_WHERE[where]}",
            on_click=state.move_cell,
            args=(st.session_state, best["cell"], best["layer"]),
            width="stretch",
        )
