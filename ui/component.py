"""The two in-page views, as st.components.v2 components (inline HTML, CSS and JS, no build).

Both report a click on a character as the trigger "select" with its position; the caller's
`on_select` callback reads it from st.session_state[key]["select"].
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

ASSETS = Path(__file__).parent / "assets"
TEXT_KEY, STRIP_KEY = "text_view", "strip_view"


def _register(name: str, stem: str):
    return st.components.v2.component(
        name,
        html=(ASSETS / f"{stem}.html").read_text(encoding="utf-8"),
        css=(ASSETS / f"{stem}.css").read_text(encoding="utf-8"),
        js=(ASSETS / f"{stem}.js").read_text(encoding="utf-8"),
    )


_text_view = _register("lstm_viz_text", "text_view")
_strip_view = _register("lstm_viz_strip", "strip")


def text_view(text_part: dict, cell_part: dict, on_select: Callable[[], None]) -> None:
    """The coloured text with hover cards; clicking a character calls `on_select`."""
    _text_view(key=TEXT_KEY, data={"text": text_part, "cell": cell_part}, on_select_change=on_select)


def strip_view(strip_part: dict, on_select: Callable[[], None]) -> None:
    """The prediction strip; clicking a column calls `on_select`."""
    _strip_view(key=STRIP_KEY, data=strip_part, on_select_change=on_select)


def selected(key: str) -> int | None:
    """The position a view's click sent in this rerun, if any (for its on_select callback)."""
    value = st.session_state.get(key, {}).get("select")
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
