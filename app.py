"""lstm-viz: pick a model, a layer and a cell, and see every character coloured by it.

Run with `make run` (streamlit run app.py). The page is a few sections, drawn top to bottom by
`main`: the sidebar, the coloured text, the predictions at the selected position, then lazy tabs
(all cells of the layer, the finder with the atlas, interventions) and the downloads. The coloured text comes
first and nothing above it waits on the panels below. To add a panel, see the README's layout
section.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import streamlit as st

import lstm_viz
from lstm_viz import atlas as atlas_file
from ui import (cache, component, controls, downloads, figure_menu, finder_view, intervene_view, ordering, own_model,
                payload, signals, state)

HEATMAP_BEFORE, HEATMAP_AFTER = 30, 90  # characters around the selected position
ICON = str(Path(__file__).parent / "ui" / "assets" / "icon.png")  # served locally: no request leaves the server


class Shown(NamedTuple):
    """What the page shows: the model, its trace of the text, and the chosen layer, cell, signal, position."""
    name: str
    trace: lstm_viz.Trace
    layer: int
    cell: int
    signal: str
    pos: int


class Picked(NamedTuple):
    """The sidebar's choices: the model (None if it failed to load, with the reason) and the cell."""
    name: str
    model: lstm_viz.CharLSTM | None
    load_error: str | None
    layer: int
    cell: int
    signal: str
    notes: list[str]  # one line for each choice that was moved or ignored
    suggestion: str | None  # why the shown cell was suggested, while it is shown


def sidebar(models: list[str]) -> Picked:
    """Model, layer, cell and signal pickers; loads the model."""
    session = st.session_state
    with st.sidebar:
        name = controls.model_picker(models)
        try:
            model, load_error = cache.model(name), None
        except lstm_viz.CheckpointError as e:
            model, load_error = None, f"Cannot load model {name!r}: {e}"
        notes, suggestion = [], None
        if model is not None:
            L, H = session["dims"] = (model.config.layers, model.config.hidden)
            session["current_model"] = name
            controls.model_summary(model.card, L, H)
            suggestion = state.suggestion(session, name, cache.suggestion)
            notes = state.standing_notes(session, state.fit_to_model(session, L, H))
        else:  # keep the pickers (and so their values) while another model is tried
            L, H = state.holding_dims(session)
        layer, cell, signal = controls.cell_picker(L, H, disabled=model is None)
    return Picked(name, model, load_error, layer, cell, signal, notes, suggestion)


def header() -> None:
    st.title("lstm-viz")
    st.caption("What one cell of a character-level LSTM does as it reads: every character is coloured by the "
               "chosen cell (red at -1, white at 0, blue at +1). Pick the model and layer on the left; step through "
               "cells with the buttons above the text (or j and k in it), pin the ones to compare; hover a "
               "character for its values and the model's guesses, click it to select it for the charts below.")


def text(picked: Picked) -> Shown | None:
    """The text box and the coloured text; None when there is nothing to show."""
    session = st.session_state
    if picked.model is None:
        st.error(picked.load_error)
        controls.text_box()
        return None
    for note in picked.notes:
        st.warning(note)
    typed = controls.text_box()
    if picked.suggestion:
        st.caption(picked.suggestion)
    problem = state.text_problem(typed)
    if problem:
        st.error(problem)
        typed = session["shown_text"]
        if typed:
            st.caption("Still showing the last text within the limit.")
    else:
        session["shown_text"] = typed
    typed = lstm_viz.normalise(typed)
    session["pos"] = pos = state.fit_position(session["pos"], len(typed))
    query = state.to_query(session)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    if not typed:
        st.info("Type or paste some text above to see it coloured.")
        return None
    tr = cache.trace(picked.name, typed)
    shown = Shown(picked.name, tr, picked.layer, picked.cell, picked.signal, pos)
    layer_part = cache.layer_part(picked.name, typed, shown.layer, shown.signal)
    component.text_view(layer_part,
                        payload.view_part(payload.layer_key(picked.name, tr.text, shown.layer, shown.signal), signals.cell_signals(tr, shown.layer, shown.cell), shown.layer,
                                          shown.cell, session["jump"], shown.signal, pos),
                        on_select=partial(controls.select_from, component.TEXT_KEY), on_cell=controls.cell_from_view)
    if tr.unknown.any():
        st.caption(f"{int(tr.unknown.sum())} characters are outside the model's alphabet (dotted boxes); "
                   "the model reads them all as one unknown symbol.")
    return shown


def predictions(shown: Shown) -> None:
    """The next-character chart and the prediction strip at the selected position."""
    tr, pos = shown.trace, shown.pos
    left, right = st.columns([1, 2])
    with left:
        component.next_char_view(payload.next_char_part(tr, pos))
    with right:
        st.markdown("**Predictions around the selected position**")
        component.strip_view(payload.strip_part(tr, pos),
                             on_select=partial(controls.select_from, component.STRIP_KEY))


def cells(shown: Shown) -> None:
    """Every cell of the layer at the selected position, and the heatmap of cells around it."""
    tr, layer, signal, pos = shown.trace, shown.layer, shown.signal, shown.pos
    H = tr.shape[2]
    signal_label = signals.SIGNALS[signal]
    everything = tr.signal(signal, layer, None, pos, pos + 1)[0]  # (H,)
    component.cells_view(payload.cells_part(everything, pos, signal_label), on_pick=controls.pick_bar)
    order, rows, custom_text = controls.heatmap_options(H)
    custom, custom_problem = ordering.parse_cells(custom_text, H)
    if order == "custom" and custom_problem:
        st.warning(custom_problem)
    variation = cache.variation(shown.name, tr.text, layer, signal) if order == "variation" else np.zeros(H)
    chosen = ordering.order_cells(order, variation, everything, custom)[:rows]
    if not chosen:
        st.info("Type the cells to show, e.g. 47, 3, 210.")
        return
    start, stop = max(0, pos - HEATMAP_BEFORE), min(len(tr.text), pos + HEATMAP_AFTER)
    window = tr.signal(signal, layer, chosen, start, stop)
    title = f"{signal_label} of {len(chosen)} cells over positions {start} to {stop - 1}"
    component.heatmap_view(payload.heatmap_part(window, chosen, start, tr.text[start:stop], shown.cell, pos, title),
                           on_pick=controls.pick_from_heatmap)


def finder(shown: Shown) -> None:
    """Rank every cell against a hypothesis, a regex or a marked span; the chosen cell's atlas entry."""
    tr, name, signal = shown.trace, shown.name, shown.signal
    find = finder_view.query(len(tr.text), shown.pos)
    if find["mode"] == "span":
        if find["end"] <= find["start"]:
            st.warning("The span's end must come after its start.")
        else:
            span_table, matches = cache.span_search(name, tr.text, find["start"], find["end"], signal)
            finder_view.ranked_table(span_table, ["layer", "cell", "score", "sign", "inside", "around"])
            st.markdown("**Other places where the top five of these cells are on together**")
            st.dataframe(matches.head(20), hide_index=True, width="stretch")
    elif find["mode"] == "regex" and not find["regex"]:
        st.info("Type a regular expression to rank every cell by it.")
    else:
        try:
            ranked, hypothesis = cache.ranking(name, tr.text, find["feature"], find["regex"], signal)
        except ValueError as e:  # a bad regex, or a hypothesis that never changes on this text
            st.warning(str(e))
        else:
            finder_view.ranked_table(ranked, ["layer", "cell", "score", "sign", "statistic"])
            values = tr.signal(signal, shown.layer, [shown.cell])[:, 0]
            st.plotly_chart(finder_view.against(values, hypothesis,
                                                f"Layer {shown.layer + 1}, cell {shown.cell} "
                                                f"({signals.SIGNALS[signal]}) against "
                                                f"{find['feature'].replace('_', ' ')}", find["feature"]),
                            key="find_chart")
    cell_atlas = cache.atlas(name)
    finder_view.atlas_entry(cell_atlas, atlas_file.cell_entry(cell_atlas, shown.layer, shown.cell)
                            if cell_atlas else None, shown.layer, shown.cell)


def panels(shown: Shown) -> None:
    """The tabs below the text; only the open one runs and is sent."""
    all_cells, find_cells, intervene = controls.panels()
    if all_cells.open:
        with all_cells:
            cells(shown)
    if find_cells.open:
        with find_cells:
            finder(shown)
    if intervene.open:
        with intervene:
            intervene_view.section(shown.name, shown.trace, shown.layer, shown.cell, shown.pos,
                                   st.session_state["find_feature"])


def download_buttons(shown: Shown) -> None:
    """The chosen cell as CSV and the whole trace as NPZ, in the sidebar; built only when clicked."""
    tr, name, layer, cell = shown.trace, shown.name, shown.layer, shown.cell
    with st.sidebar:
        st.divider()
        st.download_button(f"Cell {cell} as CSV", partial(downloads.cell_csv, tr, layer, cell),
                           file_name=f"{name}-layer{layer + 1}-cell{cell}.csv", mime="text/csv", on_click="ignore",
                           width="stretch")
        st.download_button("All cells as NPZ", partial(downloads.trace_npz, tr), file_name=f"{name}-trace.npz",
                           mime="application/octet-stream", on_click="ignore", width="stretch")
        st.caption("The link in the address bar reopens this model, layer, cell and example.")


def figure_downloads(shown: Shown) -> None:
    """A paper figure around the selected position (lstm_viz.figures) as SVG or PNG; built only when clicked."""
    with st.sidebar, st.expander("Figure for a paper"):
        kind, scale, rows, problem = figure_menu.options(shown.trace.shape[2], shown.cell)
        if problem:
            st.warning(problem)
        stem = f"{shown.name}-layer{shown.layer + 1}-cell{shown.cell}-{kind}"
        for fmt, mime in (("svg", "image/svg+xml"), ("png", "image/png")):
            st.download_button(f"{figure_menu.KINDS[kind]} as {fmt.upper()}",
                               partial(downloads.figure, shown.trace, kind, shown.layer, shown.cell, shown.signal,
                                       shown.pos, scale, fmt, shown.name, rows),
                               file_name=f"{stem}.{fmt}", mime=mime, on_click="ignore", width="stretch",
                               disabled=rows == [])


def upload() -> None:
    """Your own model from a checkpoint zip, for this session (ui/own_model.py)."""
    with st.sidebar:
        st.divider()
        own_model.uploader(st.session_state)


def main() -> None:
    st.set_page_config(page_title="lstm-viz", page_icon=ICON, layout="wide")
    models = lstm_viz.available() + own_model.names(st.session_state)
    if not models:
        st.error("No models found: put a model folder (card.json + model.safetensors) in pretrained/.")
        return
    state.start(st.session_state, st.query_params, models)
    picked = sidebar(models)
    header()
    shown = text(picked)
    if shown is not None:
        predictions(shown)
        panels(shown)
        download_buttons(shown)
        figure_downloads(shown)
    upload()


main()
