"""The Compare tab: the text on the page under every model trained on the same corpus (an LSTM, a
GRU, a vanilla RNN, as many as there are), one coloured row per model, each coloured by its own
best cell for a hypothesis (quotes at first) with its match on this text, so the LSTM's quote cell
stands beside the RNN's best attempt."""

from __future__ import annotations

import streamlit as st

import lstm_viz
from lstm_viz.core import features
from lstm_viz.core.kernel import NAMED

from ..backend import cache, peers
from ..components import component, payload
from ..session import labels, signals, state
from ..session.shown import Shown

HYPOTHESES = [name for name in features.FEATURES if name != "regex"]  # the finder's, less your own regex
KIND_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN"}


def heading(name: str, about: dict, best: dict | None, hypothesis: str) -> str:
    """A row's heading: the model, its kind and size, and its best cell with its match on this text
    (or that the hypothesis never changes on it)."""
    kind = KIND_NAMES.get(about["kind"], about["kind"])
    model = f"**{labels.plain(name)}** ({kind}, {about['layers']} x {about['hidden']})"
    if best is None:
        return f"{model}: {hypothesis.replace('_', ' ')} never changes on this text"
    return (
        f"{model}: its best cell, layer {best['layer'] + 1} cell {best['cell']}, follows "
        f"{hypothesis.replace('_', ' ')} with {labels.NAME} **{labels.match_value(best['match'])}**"
    )


def note(models: list[tuple[str, dict]]) -> str | None:
    """One line when the models do not cover several kinds, else None."""
    kinds = {about["kind"] for _, about in models}
    if len(kinds) > 1:
        return None
    (kind,) = kinds
    return (
        f"Only {NAMED.get(kind, kind)} is available for this corpus: models of the other kinds trained on it "
        "appear here once their folders are in pretrained/."
    )


def row(name: str, about: dict, text: str, hypothesis: str, index: int, on_page: str) -> None:
    """One model's row: its heading and the text coloured by its best cell. `on_page`: the layer
    part the page's own coloured text has sent (`payload.layer_key`), which the row does not send again."""
    best = cache.suggestion(name, text, hypothesis)  # the page's own for the model shown, when it has it
    st.markdown(heading(name, about, best, hypothesis), help=labels.MATCH_HELP["live"])
    if best is None:
        return
    tr = cache.trace(name, text)
    layer, cell = best["layer"], best["cell"]
    key = payload.layer_key(name, text, layer, "cell")
    view = payload.view_part(
        key,
        signals.cell_signals(tr, layer, cell),
        lstm_viz.View(layer, cell),
        jump=0,
        selected=0,
        kind=tr.kind,  # the legend: an LSTM's tanh(c), a GRU's or RNN's memory h
    )
    part = None if key == on_page else cache.layer_part(name, text, layer, "cell")
    component.text_view(part, view, on_select=ignore, on_cell=ignore, key=f"_compare_{index}")


def ignore() -> None:
    """A row's clicks and cell switches stay in the row: the page's own cell is not moved."""


def ahead(name: str, text: str) -> None:
    """Ask the trace service for the other models' traces of `text`, to be run once nothing else
    waits (`ui.panels.ahead`)."""
    for other, _ in peers.same_corpus(name, cache.model(name).card):
        if other != name:
            try:
                cache.pending(other, text, _ahead=True)
            except lstm_viz.CheckpointError:  # its row says why it cannot be shown
                continue


def section(shown: Shown) -> None:
    """The tab: the hypothesis picker, a note if only one kind is there, then one row per model."""
    state.choose(st.session_state, "compare_hypothesis", HYPOTHESES)
    hypothesis = st.selectbox(
        "Each model's best cell for",
        HYPOTHESES,
        key="compare_hypothesis",
        format_func=lambda n: f"{n.replace('_', ' ')}: {features.get(n).label}",
        help="Every model trained on the same text as the one shown, each coloured by its own cell that "
        "follows this most closely on the text above (the cell's memory: tanh(c) for an LSTM, h otherwise).",
    )
    models = peers.same_corpus(shown.name, cache.model(shown.name).card)
    line = note(models)
    if line:
        st.caption(line)
    on_page = payload.layer_key(shown.name, shown.trace.text, shown.layer, shown.signal)
    for index, (name, about) in enumerate(models):
        row(name, about, shown.trace.text, hypothesis, index, on_page)
