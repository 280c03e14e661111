"""lstm-viz: pick a model, a layer and a cell, and see every character coloured by it.

Run with `make run` (streamlit run app.py). The page is drawn top to bottom; the coloured
text comes first so that a cell switch repaints it before the charts below are rebuilt.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import streamlit as st

import lstm_viz
from lstm_viz import atlas as atlas_file
from ui import cache, charts, component, controls, downloads, examples, finder_view, ordering, payload, signals, state

HEATMAP_BEFORE, HEATMAP_AFTER = 30, 90  # characters around the selected position

ICON = str(Path(__file__).parent / "ui" / "assets" / "icon.png")  # served locally: no request leaves the server
st.set_page_config(page_title="lstm-viz", page_icon=ICON, layout="wide")

models = lstm_viz.available()
if not models:
    st.error("No models found: put a model folder (card.json + model.safetensors) in pretrained/.")
    st.stop()
if "model" not in st.session_state:  # a new session: start from the link it was opened with
    initial, notes = state.from_query(st.query_params, models)
    st.session_state.update(initial)
    st.session_state["url_notes"] = notes
elif st.session_state["model"] not in models:
    st.session_state["model"] = state.default_model(models)

with st.sidebar:
    name = controls.model_picker(models)
    try:
        model, load_error = cache.model(name), None
    except lstm_viz.CheckpointError as e:
        model, load_error = None, f"Cannot load model {name!r}: {e}"
    if model is not None:
        L, H = st.session_state["dims"] = (model.config.layers, model.config.hidden)
        controls.model_summary(model.card, L, H)
        if st.session_state.pop("suggest", False):
            state.suggest(st.session_state, name, cache.suggestion)
        fit_notes = state.fit_to_model(st.session_state, L, H)
    else:  # keep the pickers (and so their values) while another model is tried
        L, H = state.holding_dims(st.session_state)
    layer, cell, signal = controls.cell_picker(L, H, disabled=model is None)

st.title("lstm-viz")
st.caption("What one cell of a character-level LSTM does as it reads: every character is coloured by the "
           "chosen cell (red at -1, white at 0, blue at +1). Pick the model, layer and cell on the left; hover "
           "a character for its values and the model's guesses, click it to select it for the charts below.")
if model is None:
    st.error(load_error)
    controls.text_box()
    st.stop()
for note in st.session_state.pop("url_notes", []) + fit_notes:
    st.warning(note)

text = controls.text_box()
note = examples.suggestion_note(st.session_state.get("suggested"), name, st.session_state["example"], layer, cell)
if note:
    st.caption(note)
problem = state.text_problem(text)
if problem:
    st.error(problem)
    text = st.session_state.get("shown_text", "")
    if text:
        st.caption("Still showing the last text within the limit.")
else:
    st.session_state["shown_text"] = text
text = lstm_viz.normalise(text)
st.session_state["pos"] = pos = state.fit_position(st.session_state["pos"], len(text))
query = state.to_query(st.session_state)
if st.query_params.to_dict() != query:
    st.query_params.from_dict(query)
if not text:
    st.info("Type or paste some text above to see it coloured.")
    st.stop()

tr = cache.trace(name, text)
cell_signals = signals.cell_signals(tr, layer, cell)
component.text_view(cache.text_part(name, text), payload.cell_part(cell_signals, layer, cell, signal, pos),
                    on_select=partial(controls.select_from, component.TEXT_KEY))
if tr.unknown.any():
    st.caption(f"{int(tr.unknown.sum())} characters are outside the model's alphabet (dotted boxes); "
               "the model reads them all as one unknown symbol.")

signal_label = signals.SIGNALS[signal]
left, right = st.columns([1, 2])
with left:
    actual = tr.text[pos + 1] if pos + 1 < len(tr.text) else None
    actual_p = float(np.exp(-tr.loss_per_char[pos])) if actual is not None and not tr.unknown[pos + 1] else 0.0
    st.plotly_chart(charts.next_char(tr.top_k(pos), actual, actual_p, pos, tr.text[pos]), key="next_char")
    if actual is None:
        st.caption("This is the last character: nothing came after it.")
with right:
    st.markdown("**Predictions around the selected position**")
    component.strip_view(payload.strip_part(tr, cell_signals[signal], pos),
                         on_select=partial(controls.select_from, component.STRIP_KEY))

st.subheader(f"All cells of layer {layer + 1}")
everything = signals.signal(tr, signal, layer, np.arange(H), pos, pos + 1)[0]
bars_key = controls.bars_key(layer, signal)
st.plotly_chart(charts.cells_at(everything, pos, signal_label), key=bars_key,
                on_select=partial(controls.pick_bar, bars_key), selection_mode="points")

order, rows, custom_text = controls.heatmap_options(H)
custom, custom_problem = ordering.parse_cells(custom_text, H)
if order == "custom" and custom_problem:
    st.warning(custom_problem)
variation = cache.variation(name, text, layer, signal) if order == "variation" else np.zeros(H)
shown = ordering.order_cells(order, variation, everything, custom)[:rows]
if shown:
    start, stop = max(0, pos - HEATMAP_BEFORE), min(len(tr.text), pos + HEATMAP_AFTER)
    window = signals.signal(tr, signal, layer, shown, start, stop)
    title = f"{signal_label} of {len(shown)} cells over positions {start} to {stop - 1}"
    component.heatmap_view(payload.heatmap_part(window, shown, start, tr.text[start:stop], cell, pos, title),
                           on_pick=controls.pick_from_heatmap)
else:
    st.info("Type the cells to show, e.g. 47, 3, 210.")

st.subheader("Find cells")
find = finder_view.query(len(tr.text), pos)
if find["mode"] == "span":
    if find["end"] <= find["start"]:
        st.warning("The span's end must come after its start.")
    else:
        span_table, matches = cache.span_search(name, text, find["start"], find["end"], signal)
        finder_view.ranked_table(span_table, ["layer", "cell", "score", "sign", "inside", "around"])
        st.markdown("**Other places where the top five of these cells are on together**")
        st.dataframe(matches.head(20), hide_index=True, width="stretch")
elif find["mode"] == "regex" and not find["regex"]:
    st.info("Type a regular expression to rank every cell by it.")
else:
    try:
        ranked, hypothesis = cache.ranking(name, text, find["feature"], find["regex"], signal)
    except ValueError as e:  # a bad regex, or a hypothesis that never changes on this text
        st.warning(str(e))
    else:
        finder_view.ranked_table(ranked, ["layer", "cell", "score", "sign", "statistic"])
        st.plotly_chart(finder_view.against(cell_signals[signal], hypothesis,
                                            f"Layer {layer + 1}, cell {cell} ({signal_label}) against "
                                            f"{find['feature'].replace('_', ' ')}", find["feature"]),
                        key="find_chart")
cell_atlas = cache.atlas(name)
finder_view.atlas_entry(cell_atlas, atlas_file.cell_entry(cell_atlas, layer, cell) if cell_atlas else None,
                        layer, cell)

with st.sidebar:
    st.divider()
    st.download_button(f"Cell {cell} as CSV", partial(downloads.cell_csv, tr, layer, cell),
                       file_name=f"{name}-layer{layer + 1}-cell{cell}.csv", mime="text/csv", on_click="ignore",
                       width="stretch")
    st.download_button("All cells as NPZ", partial(downloads.trace_npz, tr), file_name=f"{name}-trace.npz",
                       mime="application/octet-stream", on_click="ignore", width="stretch")
    st.caption("The link in the address bar reopens this model, layer, cell and example.")
