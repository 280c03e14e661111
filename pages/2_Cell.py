"""The cell page (Streamlit multipage): one cell's label, snippets, histogram, what it writes,
related cells and steering, at its own address (Cell?model=warpeace&cell=2:429); its UI is
ui/cellpage_view.py."""

from ui import cellpage_view, page

page.start("lstm-viz: cell")
cellpage_view.page()
