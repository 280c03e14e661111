"""The tabs right below the coloured text: one line per tab, its label and its section.

A section is a function of `ui.session.shown.Shown` that draws the tab, in its own ui/ view module.
Tabs are lazy (`st.tabs(on_change="rerun")`): only the open one runs and is sent, so none holds
up the coloured text. Adding a tab is its view module, one line here, and its test. A tab whose
traces can start while the page's own model runs names the function that asks for them in `AHEAD`.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from .session import state
from .session.shown import Shown
from .views import cellmap_view, cells_view, compare_view, finder_view, intervene_view, labels_view, text_view

PANELS: dict[str, Callable[[Shown], None]] = {
    "Predictions": text_view.predictions,
    "All cells": cells_view.section,
    "Find cells": finder_view.section,
    "Intervene": intervene_view.section,
    "Cell labels": labels_view.section,
    "Cell map": cellmap_view.section,
    "Compare kinds": compare_view.section,
}

AHEAD: dict[str, Callable[[str, str], None]] = {
    "Compare kinds": compare_view.ahead,
}


def ahead(name: str, text: str) -> None:
    """Ask now for what the open tab will show of model `name` on `text` (`AHEAD`), so the trace
    service runs it once the coloured text's own trace is done, while that is drawn and sent."""
    start = AHEAD.get(st.session_state.get("panel"))
    if start is not None:
        start(name, text)


def draw(shown: Shown) -> None:
    """The tabs; the open one's section runs."""
    state.choose(st.session_state, "panel", PANELS)
    tabs = st.tabs(list(PANELS), key="panel", on_change="rerun")
    for tab, section in zip(tabs, PANELS.values()):
        if tab.open:
            with tab:
                section(shown)
