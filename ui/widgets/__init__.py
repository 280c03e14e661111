"""Widgets drawn from session state, the figure menu, tables of cells, files to download."""
