"""The best cells for the text on the page: which cell follows quotes, line position and bracket
depth most closely on it (and, on an example, the thing it shows off), their match measured live,
each a button that shows that cell, or a line saying the text has none of the thing (a text without
quotes). The one list of suggested cells: the button of the cell shown is marked."""

from __future__ import annotations

import streamlit as st

from lstm_viz.core import features

from ..backend import cache
from ..session import labels, state
from ..session.examples import CUSTOM, EXAMPLES
from ..session.shown import Shown

NONE_IN = {  # what a text lacks when a suggested hypothesis never changes on it
    "quotes": "no quotes",
    "line_position": "too few characters for a line position",
    "bracket_depth": "no brackets",
}
IN = {"live": "in your text", "example": "in this example"}


def line(found: dict | None, hypothesis: str, where: str) -> str:
    """One suggestion as the page words it (where: "live" or "example"): "layer 2 cell 429 follows
    quotes, match 0.97", or what the text lacks: "no quotes in your text"."""
    name = hypothesis.replace("_", " ")
    if found is None:
        return f"{NONE_IN.get(hypothesis, f'{name} never changes')} {IN[where]}"
    match = f"{labels.NAME} {labels.match_value(found['match'])}"
    return f"layer {found['layer'] + 1} cell {found['cell']} follows {name}, {match}"


def shown_features(example: str) -> tuple[str, ...]:
    """What the page names the best cell of: the usual three, and an example's own thing."""
    own = EXAMPLES[example].hypothesis if example in EXAMPLES else None
    return cache.SUGGESTED if own is None or own in cache.SUGGESTED else (*cache.SUGGESTED, own)


def draw(shown: Shown) -> None:
    """The suggestions for the shown text, in one row under it; the shown cell's button marked."""
    example = st.session_state["example"]
    wanted = shown_features(example)
    found = cache.suggestions(shown.name, shown.trace.text, wanted)
    where = "live" if example == CUSTOM else "example"
    columns = st.columns([2] + [3] * len(wanted), vertical_alignment="center")
    columns[0].caption(
        f"Best cells {labels.MATCH_WHERE[where]}:",
        help=labels.MATCH_HELP["live"] + " A click shows the cell; the one shown is marked. "
        "Step through the others with Next cell, or j and k.",
    )
    for column, hypothesis in zip(columns[1:], wanted):
        best = found[hypothesis]
        if best is None:
            column.caption(line(None, hypothesis, where))
            continue
        now = (best["layer"], best["cell"]) == (shown.layer, shown.cell)
        column.button(  # no key: a button's state cannot be given a default (state.DEFAULTS)
            line(best, hypothesis, where),
            help=f"{features.get(hypothesis).label}: the cell whose {memory_words(shown)} follows it most "
            f"closely {labels.MATCH_WHERE[where]}" + (" (shown now)" if now else ""),
            type="primary" if now else "secondary",
            on_click=state.move_cell,
            args=(st.session_state, best["cell"], best["layer"]),
            width="stretch",
        )


def memory_words(shown: Shown) -> str:
    """The signal the finder follows, as the page names it: tanh(c) for an LSTM, h otherwise."""
    return "tanh(c)" if shown.trace.kind == "lstm" else "hidden state h"
