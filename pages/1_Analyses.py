"""The Analyses page (Streamlit multipage): gate saturation, LSTM against n-grams, error breakdown,
closing distance; its UI is ui/views/analyses_view.py."""

from ui import page
from ui.views import analyses_view

page.start("lstm-viz: analyses")
analyses_view.page()
