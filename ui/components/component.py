"""The in-page views, as st.components.v2 components (inline HTML, CSS and JS, no build).

The text and the strip report a click on a character as the trigger "select" with its
position, the heatmap a click on a row as "pick" with {cell, position}, and the text a cell it
switched to by itself as "cell" and its training slider's request for every snapshot's values as
"training"; the caller's callback reads it from st.session_state[key].
The coloured text's per-layer data travels in a component of its own (`layer data`, drawn
nothing): its message only changes with (model, text, layer, signal), so Streamlit sends it once
and refers to it by hash on later reruns, while the view's own small data changes freely.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from lstm_viz.serve.launch import REPLICA_COOKIE
from lstm_viz.views import colour, glyphs
from lstm_viz.views.notebook import ASSETS as LIBRARY_ASSETS
from lstm_viz.views.view import TOP

ASSETS = Path(__file__).parent / "assets"
TEXT_KEY, LAYER_KEY, STRIP_KEY, HEATMAP_KEY = "text_view", "layer_data", "strip_view", "heatmap_view"
NEXT_KEY, CELLS_KEY = "next_char", "cells_bars"
SHARED = {  # constants every view's script gets
    "scale": colour.scale(),
    "glyphs": glyphs.NAMES,
    "top": TOP,
    "replica_cookie": REPLICA_COOKIE,
}


def _register(name: str, stem: str, css: str = ""):
    """A view from ui/components/assets/STEM.{html,css,js}; its script starts with SHARED, the
    library's coloured text (the notebook widget's too: its scale, labels and drawing) and
    common.js, and the text view's style with the coloured text's (then `css`)."""
    script = (
        f"const SHARED = {json.dumps(SHARED)};\n"
        + (LIBRARY_ASSETS / "coloured_text.js").read_text(encoding="utf-8")
        + (ASSETS / "common.js").read_text(encoding="utf-8")
        + (ASSETS / f"{stem}.js").read_text(encoding="utf-8")
    )
    shared_css = (LIBRARY_ASSETS / "coloured_text.css").read_text(encoding="utf-8") if stem == "text_view" else ""
    return st.components.v2.component(
        name,
        html=(ASSETS / f"{stem}.html").read_text(encoding="utf-8"),
        css=shared_css + (ASSETS / f"{stem}.css").read_text(encoding="utf-8") + css,
        js=script,
    )


_layer_data = _register("lstm_viz_layer", "layer_data")
# The coloured text scrolls on its own past about 15 lines: the tabs below it stay on the first screen.
TEXT_CAP = "\n.text { max-height: 20rem; }\n"
_text_view = _register("lstm_viz_text", "text_view", TEXT_CAP)
_strip_view = _register("lstm_viz_strip", "strip")
_heatmap_view = _register("lstm_viz_heatmap", "heatmap")
_bars_view = _register("lstm_viz_bars", "bars")


def text_view(
    layer_part: bytes | None,
    view_part: dict,
    on_select: Callable[[], None],
    on_cell: Callable[[], None],
    key: str = "",
    on_training: Callable[[], None] | None = None,
) -> None:
    """The coloured text with its own cell switching, pinned rows and hover cards (`payload`); its
    layer part None where the page sends that part already (the view finds it by its key).

    Clicking a character calls `on_select`; a cell the view switched to calls `on_cell`; its
    training slider, moved while it has no snapshot values, calls `on_training`. A page with
    several of them gives each a `key` of its own (its widget keys are TEXT_KEY + key and
    LAYER_KEY + key).
    """
    with st.container(gap=None):
        if layer_part is not None:
            _layer_data(key=LAYER_KEY + key, data=layer_part, height=0)
        events = {"on_select_change": on_select, "on_cell_change": on_cell}
        if on_training is not None:
            events["on_training_change"] = on_training
        _text_view(key=TEXT_KEY + key, data=view_part, **events)


def strip_view(strip_part: dict, on_select: Callable[[], None]) -> None:
    """The prediction strip; clicking a column calls `on_select`."""
    _strip_view(key=STRIP_KEY, data=strip_part, on_select_change=on_select)


def heatmap_view(heatmap_part: dict, on_pick: Callable[[], None]) -> None:
    """The cell heatmap, drawn on a canvas; clicking a row calls `on_pick`."""
    _heatmap_view(key=HEATMAP_KEY, data=heatmap_part, on_pick_change=on_pick)


def next_char_view(part: dict) -> None:
    """The next-character guesses at the selected position (`payload.next_char_part`)."""
    _bars_view(key=NEXT_KEY, data=part)


def cells_view(part: dict, on_pick: Callable[[], None]) -> None:
    """Every cell of the layer at one position (`payload.cells_part`); clicking a bar calls `on_pick`."""
    _bars_view(key=CELLS_KEY, data=part, on_pick_change=on_pick)


def picked_bar() -> int | None:
    """The cell whose bar was clicked in this rerun, if any."""
    value = st.session_state.get(CELLS_KEY, {}).get("pick")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def picked() -> tuple[int, int] | None:
    """The (cell, position) a heatmap click sent in this rerun, if any."""
    value = st.session_state.get(HEATMAP_KEY, {}).get("pick")
    if isinstance(value, dict) and all(isinstance(value.get(k), int) for k in ("cell", "position")):
        return value["cell"], value["position"]
    return None


def switched() -> int | None:
    """The cell the text view switched to by itself, sent in this rerun, if any."""
    value = st.session_state.get(TEXT_KEY, {}).get("cell")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def selected(key: str) -> int | None:
    """The position a view's click sent in this rerun, if any (for its on_select callback)."""
    value = st.session_state.get(key, {}).get("select")
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
