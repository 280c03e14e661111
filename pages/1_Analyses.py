"""The Analyses page (Streamlit multipage): gate saturation, LSTM against n-grams, error breakdown,
closing distance; its UI is ui/analyses_view.py."""

from pathlib import Path

import streamlit as st

from ui import analyses_view

ICON = str(Path(__file__).resolve().parent.parent / "ui" / "assets" / "icon.png")  # served locally
st.set_page_config(page_title="lstm-viz: analyses", page_icon=ICON, layout="wide")
analyses_view.page()
