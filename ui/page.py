"""What every page of the app sets first: the process's trace service, its title and icon, a still
page (ui/assets/still.css), its layout and look (ui/assets/page.css), the links to the app's pages
by what they are (Streamlit's own list, which names the main page after its file, is off in
.streamlit/config.toml), and widget states read safely (ui/session/widget_states.py)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lstm_viz.serve import service

from .session import cell_link, session_check, state, widget_states

ASSETS = Path(__file__).parent / "assets"
ICON = str(ASSETS / "icon.png")  # served locally: no request leaves the server
STILL = (ASSETS / "still.css").read_text()
LOOK = (ASSETS / "page.css").read_text()
MAIN = "app.py"
PAGES = {  # the sidebar's links: page file (relative to app.py), its name and what it holds
    MAIN: (
        "Explore cells",
        "the coloured text, the tour of the lecture's cells, and the tabs to find and change cells",
    ),
    cell_link.PAGE: ("Cell", "everything known of the chosen cell: its label, snippets, what it writes, steering"),
    "pages/1_Analyses.py": ("Analyses", "the paper's analyses: gate saturation, the LSTM against n-grams, errors"),
    "pages/3_Glossary.py": ("Glossary", "every word of the app in plain words, and the LSTM's equations"),
}


def start(title: str) -> None:
    """The process's trace service (`lstm_viz.serve.service.start`, once per process), and the
    page's title, icon and wide layout, and its style (a style-only st.html takes no room)."""
    service.start()
    widget_states.guard(mend)
    st.set_page_config(page_title=title, page_icon=ICON, layout="wide")
    st.html(f"<style>{STILL}\n{LOOK}</style>")
    navigation()


def navigation() -> None:
    """Links to the app's pages, by what they are; the Cell page opens on the cell the main page
    shows. A page run on its own (a test, `streamlit run pages/...`) is not in the app: no links."""
    if Path(get_script_run_ctx().main_script_path).name != MAIN:
        return
    session = st.session_state
    cell = (
        cell_link.query(session["current_model"], session["layer"], session["cell"])
        if state.started(session)
        else cell_link.EXAMPLE_QUERY
    )
    with st.sidebar:
        for path, (label, about) in PAGES.items():
            st.page_link(path, label=label, help=about, query_params=cell if path == cell_link.PAGE else None)
        st.divider()


def mend() -> None:
    """Every key of every page missing or not valid in a started session put back to its default (a
    new session is left to `state.start`, which fills it from its link)."""
    if state.started(st.session_state):
        session_check.repair(st.session_state, {**state.DEFAULTS, **state.PAGE_DEFAULTS})
