"""The cell page (Streamlit multipage): one cell's label, snippets, histogram, what it writes,
related cells and steering, at its own address (Cell?model=warpeace&cell=2:429); its UI is
ui/cellpage_view.py."""

from pathlib import Path

import streamlit as st

from ui import cellpage_view

ICON = str(Path(__file__).resolve().parent.parent / "ui" / "assets" / "icon.png")  # served locally
st.set_page_config(page_title="lstm-viz: cell", page_icon=ICON, layout="wide")
cellpage_view.page()
