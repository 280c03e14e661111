"""The Glossary page (Streamlit multipage): every word of the app in plain words, and the LSTM's
equations; its UI is ui/views/glossary_view.py."""

from ui import page
from ui.views import glossary_view

page.start("lstm-viz: glossary")
glossary_view.page(page.PAGES[glossary_view.GLOSSARY][0])
