"""What every page of the app sets first: its title and icon, a still page (ui/assets/still.css),
and widget states read safely (ui/widget_states.py)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from . import session_check, state, widget_states

ASSETS = Path(__file__).parent / "assets"
ICON = str(ASSETS / "icon.png")  # served locally: no request leaves the server
STILL = (ASSETS / "still.css").read_text()


def start(title: str) -> None:
    """The page's title, icon and wide layout, and its style (a style-only st.html takes no room)."""
    widget_states.guard(mend)
    st.set_page_config(page_title=title, page_icon=ICON, layout="wide")
    st.html(f"<style>{STILL}</style>")


def mend() -> None:
    """Every key of every page missing or not valid in a started session put back to its default (a
    new session is left to `state.start`, which fills it from its link)."""
    if state.started(st.session_state):
        session_check.repair(st.session_state, {**state.DEFAULTS, **state.PAGE_DEFAULTS})
