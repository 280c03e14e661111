"""The cell page (Streamlit multipage): one cell's label, snippets, histogram, what it writes,
related cells and steering, at its own address (Cell?model=warpeace&cell=2:429); its UI is
ui/views/cellpage_view.py."""

from ui import page
from ui.views import cellpage_view

page.start("lstm-viz: cell")
cellpage_view.page()
