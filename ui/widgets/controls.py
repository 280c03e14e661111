"""The widgets: each draws itself from st.session_state and returns a plain value.

Callbacks run before the script reruns, so everything drawn in that rerun sees the change.
"""

from __future__ import annotations

import streamlit as st

from lstm_viz import normalise

from ..components import component
from ..session import signals, state
from ..session.examples import CUSTOM, EXAMPLES
from ..session.state import LIMIT
from . import glossary

EXAMPLE_LABELS = {**{k: e.label for k, e in EXAMPLES.items()}, CUSTOM: "Your own text"}
TEXT_LABEL = f"Text (up to {LIMIT:,} characters; Ctrl+Enter applies)"
TEXT_HEIGHT = 90  # px: a few lines, so that the coloured text and its tabs fit on the first screen


def _model_picked() -> None:
    state.switch_model(st.session_state)


def model_picker(models: list[str]) -> str:
    return st.selectbox("Model", models, key="model", on_change=_model_picked)


def model_summary(card: dict, layers: int, hidden: int) -> None:
    corpus = card.get("corpus", {}).get("name", "unknown corpus")
    bits = card.get("loss", {}).get("val", {}).get("bits")
    st.caption(
        f"{layers} layers x {hidden} cells, trained on {corpus}"
        + (f"; {bits:.3f} bits/char on held-out text" if bits is not None else ""),
        help=glossary.tip("layer", "cell", "nats and bits", "held-out text"),
    )


def _cell_typed() -> None:
    state.move_cell(st.session_state, st.session_state["cell"])


def cell_picker(layers: int, hidden: int, kind: str = "lstm", disabled: bool = False) -> tuple[int, int, str]:
    """Layer (0-based), cell and signal. (The coloured text has its own previous/next buttons; the
    cell box follows them.) Disabled, they still hold their values (Streamlit forgets the state of
    widgets not drawn)."""
    layer = st.selectbox(
        "Layer",
        range(layers),
        key="layer",
        format_func=lambda i: f"{i + 1} of {layers}",
        disabled=disabled,
        help=glossary.TERMS["layer"].short,
    )
    cell = st.number_input(
        f"Cell (0 to {hidden - 1})",
        min_value=0,
        max_value=hidden - 1,
        step=1,
        key="cell",
        on_change=_cell_typed,
        disabled=disabled,
        help=glossary.TERMS["cell"].short,
    )
    options = signals.offered(kind)
    state.choose(st.session_state, "signal", options)
    signal = st.radio(
        "Colour by",
        list(options),
        key="signal",
        format_func=options.get,
        disabled=disabled,
        help=glossary.tip(*glossary.signal_terms(kind)),
    )
    return layer, int(cell), signal


def _load_example() -> None:
    example = st.session_state["example"]
    if example in EXAMPLES:
        chosen = EXAMPLES[example]
        st.session_state.update(text=chosen.text, pos=0, suggest=True, hypothesis=chosen.hypothesis)


def _text_edited() -> None:
    example = st.session_state["example"]
    if example in EXAMPLES and st.session_state["text"] != EXAMPLES[example].text:
        st.session_state["example"] = CUSTOM


def text_box() -> str:
    """The example picker and the text area; editing an example turns it into your own text."""
    st.selectbox(
        "Example text", list(EXAMPLE_LABELS), key="example", format_func=EXAMPLE_LABELS.get, on_change=_load_example
    )
    return st.text_area(TEXT_LABEL, key="text", height=TEXT_HEIGHT, on_change=_text_edited)


KEEP_FIRST = f"Keep the first {LIMIT:,} characters"


def keep_first() -> None:
    """on_click of KEEP_FIRST: the text box cut to the limit (its lines ended by \\n, as traced)."""
    st.session_state["text"] = normalise(st.session_state["text"])[:LIMIT]


def cell_from_view() -> None:
    """on_cell callback of the coloured text: the cell it switched to by itself, for the rest of the page."""
    cell = component.switched()
    if cell is not None and 0 <= cell < st.session_state["dims"][1]:
        state.follow_view(st.session_state, cell)


TRAINING = "over_training"  # session key: True once the training slider asked for every snapshot's values


def want_training() -> None:
    """on_training callback of the coloured text: its training slider moved off the trained model, so
    this session gets every snapshot's values from now on (`text_view.training_part`)."""
    st.session_state[TRAINING] = True


def select_from(key: str) -> None:
    """on_select callback of a view: its click becomes the selected position."""
    pos = component.selected(key)
    if pos is not None:
        st.session_state["pos"] = pos
