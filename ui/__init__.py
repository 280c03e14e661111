"""The Streamlit side of lstm-viz: widgets, cached calls, views and figures for app.py."""

# The app's layers, its subpackages, lowest first: a module imports only from its own layer and
# the layers below it (tests/test_structure.py). page.py and panels.py come above them all.
LAYERS = ("session", "components", "backend", "widgets", "views")
