"""The Streamlit side of lstm-viz: widgets, cached calls, views and figures for app.py."""
