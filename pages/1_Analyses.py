"""The Analyses page (Streamlit multipage): gate saturation, LSTM against n-grams, error breakdown,
closing distance; and for a model with snapshots, its training (ui/views/training_view.py); its UI is
ui/views/analyses_view.py."""

import lstm_viz
from ui import page
from ui.views import analyses_view, training_view

page.start("lstm-viz: analyses")
analyses_view.page()
if lstm_viz.available():
    training_view.dynamics_section(analyses_view.current(lstm_viz.available())[0])
