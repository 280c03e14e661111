"""The sidebar: the model and cell pickers, the downloads, the figure for a paper and the upload box."""

from __future__ import annotations

import dataclasses

import streamlit as st

import lstm_viz

from ..backend import cache, own_model
from ..session import cell_link, state
from ..session.shown import Picked, Shown
from ..widgets import controls, downloads, figure_menu


def pickers(models: list[str]) -> Picked:
    """Model, layer, cell and signal pickers; loads the model."""
    session = st.session_state
    with st.sidebar:
        name = controls.model_picker(models)
        try:
            model, load_error = cache.model(name), None
        except lstm_viz.CheckpointError as e:
            model, load_error = None, f"Cannot load model {name!r}: {e}"
        notes = []
        if model is not None:
            L, H = session["dims"] = (model.config.layers, model.config.hidden)
            session["current_model"] = name
            controls.model_summary(model.card, L, H)
            state.suggest(session, name, cache.suggestion)
            new = own_model.dropped_notes(session) + state.model_notes(session) + state.fit_to_model(session, L, H)
            notes = state.standing_notes(session, new)
        else:  # keep the pickers (and so their values) while another model is tried
            L, H = state.holding_dims(session)
        kind = model.config.kind if model is not None else "lstm"
        layer, cell, signal = controls.cell_picker(L, H, kind, disabled=model is None)
        if model is not None:
            st.page_link(
                cell_link.PAGE,
                label=f"Page of cell {layer + 1}:{cell}",
                query_params=cell_link.query(name, layer, cell),
                help="its label, snippets of held-out text, what it writes, related cells and steering",
            )
    return Picked(name, model, load_error, layer, cell, signal, notes)


def download_buttons(shown: Shown) -> None:
    """The chosen cell as CSV and the whole trace as NPZ; built only when clicked."""
    name, layer, cell = shown.name, shown.layer, shown.cell
    source = cache.trace_source(name, shown.trace)
    with st.sidebar:
        st.divider()
        st.download_button(
            f"Cell {cell} as CSV",
            downloads.later(downloads.cell_csv, source, layer, cell),
            file_name=f"{name}-layer{layer + 1}-cell{cell}.csv",
            mime="text/csv",
            on_click="ignore",
            width="stretch",
        )
        st.download_button(
            "All cells as NPZ",
            downloads.later(downloads.trace_npz, source),
            file_name=f"{name}-trace.npz",
            mime="application/octet-stream",
            on_click="ignore",
            width="stretch",
        )
        st.caption("The link in the address bar reopens this model, layer, cell and example.")


def figure_downloads(shown: Shown) -> None:
    """A paper figure around the selected position (lstm_viz.views.figures) as SVG or PNG; built only when clicked."""
    L, _, H = shown.trace.shape
    source = cache.trace_source(shown.name, shown.trace)
    with st.sidebar, st.expander("Figure for a paper"):
        kind, scale, rows, problem = figure_menu.options(L, H, shown.layer, shown.cell)
        if problem:
            st.warning(problem)
        stem = f"{shown.name}-layer{shown.layer + 1}-cell{shown.cell}-{kind}"
        for fmt, mime in (("svg", "image/svg+xml"), ("png", "image/png")):
            st.download_button(
                f"{figure_menu.KINDS[kind]} as {fmt.upper()}",
                downloads.later(
                    downloads.figure,
                    source,
                    dataclasses.replace(shown.view, scale=scale),
                    kind,
                    shown.pos,
                    fmt,
                    shown.name,
                    rows,
                ),
                file_name=f"{stem}.{fmt}",
                mime=mime,
                on_click="ignore",
                width="stretch",
                disabled=rows == [],
            )


def upload() -> None:
    """Your own model from a checkpoint zip, for this session (ui/backend/own_model.py)."""
    with st.sidebar:
        st.divider()
        own_model.uploader(st.session_state)
