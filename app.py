"""lstm-viz: pick a model, a layer and a cell, and see every character coloured by it.

Run with `make run` (streamlit run app.py). This file is the page's table of contents: `main`
draws it top to bottom from the ui/ sections, which pass plain values (`ui.session.shown`): the sidebar's
pickers, the title and the tour of the lecture's cells, the text box beside the tour's words and
"What am I looking at?", the coloured text, the best cells for it, then right under them the lazy
tabs of `ui.panels.PANELS` (the predictions at the selected position first) and the sidebar's
downloads. The coloured text comes first and nothing above it waits on the panels below. Its trace
is asked for first of all, so that it runs while the page above it is drawn, and then the open
tab's (`ui.panels.ahead`), which run once it is done. To add a tab, see docs/architecture.md,
"Adding a panel".
"""

from __future__ import annotations

import streamlit as st

import lstm_viz
from ui import page, panels
from ui.backend import cache, own_model, runlog
from ui.session import history, state
from ui.views import glossary_view, sidebar_view, suggest_view, text_view, tour_view


def main() -> None:
    page.start("lstm-viz")
    session = st.session_state
    models = lstm_viz.available() + own_model.names(session)
    if not models:
        st.error("No models found: put a model folder (card.json + model.safetensors) in pretrained/.")
        return
    state.start(session, st.query_params, models, cache.kind, history.navigated())
    ahead = text_view.trace_ahead(session)  # the coloured text's trace runs while the page above it is drawn
    if ahead is not None:
        panels.ahead(*ahead)  # and then the open tab's
    picked = sidebar_view.pickers(models)
    with text_view.header():
        tour_view.buttons()
    box, about = st.columns(2)
    with about:
        tour_view.words()
        glossary_view.looking_at()
    with box:
        text = text_view.text_box(picked)
    if text is not None:
        state.sync_link(session, st.query_params)
        shown = text_view.coloured_text(picked, text)
        if shown is not None:
            suggest_view.draw(shown)
            panels.draw(shown)
            sidebar_view.download_buttons(shown)
            sidebar_view.figure_downloads(shown)
    sidebar_view.upload()


with runlog.timed(st.session_state):  # a line per run when $LSTM_VIZ_RUN_LOG is set (benchmarks)
    main()
