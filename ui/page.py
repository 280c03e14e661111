"""What every page of the app sets first: its title and icon, and a still page (ui/assets/still.css)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

ASSETS = Path(__file__).parent / "assets"
ICON = str(ASSETS / "icon.png")  # served locally: no request leaves the server
STILL = (ASSETS / "still.css").read_text()


def start(title: str) -> None:
    """The page's title, icon and wide layout, and its style (a style-only st.html takes no room)."""
    st.set_page_config(page_title=title, page_icon=ICON, layout="wide")
    st.html(f"<style>{STILL}</style>")
