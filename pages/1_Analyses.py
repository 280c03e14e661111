"""The Analyses page (Streamlit multipage): gate saturation, LSTM against n-grams, error breakdown,
closing distance; its UI is ui/analyses_view.py."""

from ui import analyses_view, page

page.start("lstm-viz: analyses")
analyses_view.page()
