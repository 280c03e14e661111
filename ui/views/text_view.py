"""The top of the page: the title, the text box, the coloured text, and the predictions at the selected
position (a tab of ui/panels.py)."""

from __future__ import annotations

from functools import partial

import streamlit as st

import lstm_viz

from ..backend import cache, training
from ..components import component, payload
from ..session import signals, state, tour
from ..session.shown import Picked, Shown
from ..widgets import controls


def header():
    """The page's title; the space beside it (for the tour)."""
    title, beside = st.columns([1.3, 6], vertical_alignment="center")
    title.title("lstm-viz")
    return beside


def text_box(picked: Picked) -> str | None:
    """The example picker and text box, with the notes on the choices; the text to show (the last
    one within the limit, normalised), or None when there is none: the model cannot load, or the
    first text typed is over the limit (its message offers to keep the first LIMIT characters)."""
    session = st.session_state
    if picked.model is None:
        st.error(picked.load_error)
        controls.text_box()
        return None
    for note in picked.notes:
        st.warning(note)
    typed = controls.text_box()
    problem = state.text_problem(typed)
    if problem:
        st.error(problem)
        st.button(controls.KEEP_FIRST, on_click=controls.keep_first)
        typed = session["shown_text"]
        if not typed:
            return None  # the one message above says what to do
        st.caption("Still showing the last text within the limit.")
    else:
        session["shown_text"] = typed
    text = lstm_viz.normalise(typed)
    session["pos"] = state.fit_position(session["pos"], len(text))
    return text


def trace_ahead(session) -> tuple[str, str] | None:
    """Ask for the trace the coloured text will show (the picked model's, of the text box's text if
    it is within the limit) before the page above the text is drawn, so that it runs meanwhile:
    (model, text), or None when there is none to ask for."""
    typed, name = session.get("text"), session.get("model")
    if not typed or not name or state.text_problem(typed):
        return None
    text = lstm_viz.normalise(typed)
    try:
        cache.pending(name, text)
    except lstm_viz.CheckpointError:  # the page says why where the text would be
        return None
    return name, text


def view_part(shown: Shown) -> dict:
    """The coloured text's small, changing data (`payload.view_part`) for what is shown."""
    key = payload.layer_key(shown.name, shown.trace.text, shown.layer, shown.signal)
    return payload.view_part(
        key,
        signals.cell_signals(shown.trace, shown.layer, shown.cell),
        shown.view,
        st.session_state["jump"],
        shown.pos,
        training_part(shown),
        shown.trace.kind,
    )


def training_part(shown: Shown) -> dict | None:
    """The chosen cell at every snapshot of the model's training (`payload.training_part`), None
    for a model without snapshots; the snapshots' values and samples only once this session moved
    the slider (`controls.TRAINING`): until then a paste traces the text once, not once per snapshot."""
    found = training.snapshots(shown.name)
    if not found:
        return None
    if not st.session_state.get(controls.TRAINING):
        return payload.training_part(shown.layer, shown.cell, None, found, None)
    values = training.cell_over_training(shown.name, shown.trace.text, shown.layer, shown.cell, shown.signal)
    return payload.training_part(shown.layer, shown.cell, values, found, training.samples(shown.name))


def coloured_text(picked: Picked, text: str) -> Shown | None:
    """The text coloured by the chosen cell; what is shown, or None when there is no text."""
    if not text:
        st.info(tour.OWN_WORDS)
        return None
    session = st.session_state
    tr = cache.trace(picked.name, text)
    shown = Shown(picked.name, tr, picked.layer, picked.cell, picked.signal, session["pos"], session["hypothesis"])
    component.text_view(
        cache.layer_part(picked.name, text, shown.layer, shown.signal),
        view_part(shown),
        on_select=partial(controls.select_from, component.TEXT_KEY),
        on_cell=controls.cell_from_view,
        on_training=controls.want_training,
    )
    if tr.unknown.any():
        st.caption(
            f"{int(tr.unknown.sum())} characters are outside the model's alphabet (dotted boxes); "
            "the model reads them all as one unknown symbol."
        )
    return shown


def predictions(shown: Shown) -> None:
    """The next-character chart and the prediction strip at the selected position."""
    tr, pos = shown.trace, shown.pos
    left, right = st.columns([1, 2])
    with left:
        component.next_char_view(payload.next_char_part(tr, pos))
    with right:
        st.markdown("**Predictions around the selected position**")
        component.strip_view(payload.strip_part(tr, pos), on_select=partial(controls.select_from, component.STRIP_KEY))
