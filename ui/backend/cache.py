"""Cached work: the model once per process, its trace once per (model, text).

A Trace is read-only, so it is shared through st.cache_resource: st.cache_data would copy
its ~90 MB of arrays (2 x 512 cells, 10,000 characters) on every rerun, and a cell switch
would pay for it. Traces come from the process's trace service (`lstm_viz.serve.service`), so the
texts of several sessions asked for at once are traced as one batch on the cores it budgets;
the long jobs (ablation, attribution, analyses) wait in its queue (`ui.backend.jobs.heavy`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np
import pandas as pd
import streamlit as st

import lstm_viz
from lstm_viz.core import features
from lstm_viz.find import cellpage, finder
from lstm_viz.serve import service

from ..components import payload
from ..session import labels
from ..session.examples import EXAMPLES, default_example
from . import own_model
from .jobs import heavy


def model(name: str) -> lstm_viz.CharLSTM:
    """A model folder's model, or one this session uploaded (ui/backend/own_model.py; its name is its content's
    hash)."""
    uploaded = own_model.model(st.session_state, name)
    return uploaded if uploaded is not None else stored_model(name)


def kind(name: str) -> str:
    """A model's kind ("lstm", "gru" or "rnn"); an LSTM's for a model that cannot be loaded (the
    sidebar says why)."""
    try:
        return model(name).config.kind
    except lstm_viz.CheckpointError:
        return "lstm"


@st.cache_resource(max_entries=4, show_spinner="Loading the model...")
def stored_model(name: str) -> lstm_viz.CharLSTM:
    return lstm_viz.load(name)


def trace(name: str, text: str) -> lstm_viz.Trace:
    """Model `name`'s trace of `text`: the one `pending` holds, waited for here if not done."""
    future = pending(name, text)
    if not future.done():
        service.start().traces.hurry(future)
        with st.spinner("Running the model over the text..."):
            future.exception()  # waits, without raising
    if future.exception() is not None:
        pending.clear(name, text)  # asked for again, it is traced again
    return future.result()


@st.cache_resource(max_entries=16, show_spinner=False)
def pending(name: str, text: str, _ahead: bool = False) -> Future:
    """The future of model `name`'s trace of `text` from the trace service, asked for once per
    (model, text); `_ahead`: wanted soon, not yet (`ui.panels.ahead`: taken once no page waits)."""
    return service.start().traces.submit(model(name), text, ahead=_ahead)


def trace_source(name: str, tr: lstm_viz.Trace) -> Callable[[], lstm_viz.Trace]:
    """The trace `tr` of model `name` for a file built when its download is clicked (in a thread of
    the server, maybe after the cache dropped it): `tr` while anything else holds it, else traced
    again. It holds the model and text, not the trace, so an open session never keeps alive a
    trace the cache has dropped (~17 MB for 2,000 characters, ~85 MB for 10,000)."""
    held, m, text = weakref.ref(tr), model(name), tr.text
    return lambda: held() or service.start().traces.trace(m, text)


@st.cache_resource(max_entries=16, show_spinner=False)
def layer_part(name: str, text: str, layer: int, signal: str) -> bytes:
    """The coloured text's data for every cell of one layer (`payload.layer_part`); bytes, so shared, not copied."""
    return payload.layer_part(trace(name, text), name, layer, signal)


@st.cache_data(max_entries=64, show_spinner="Measuring how much each cell varies...")
def variation(name: str, text: str, layer: int, signal: str) -> np.ndarray:
    """(H,) standard deviation of each cell's signal over the whole text."""
    return trace(name, text).signal(signal, layer).std(axis=0)


SUGGESTED = ("quotes", "line_position", "bracket_depth")  # what the page always says the best cell of


@st.cache_data(max_entries=32, show_spinner=False)
def suggestions(name: str, text: str, features: tuple[str, ...] = SUGGESTED) -> dict[str, dict | None]:
    """For each of `features`, the cell that follows it best on `text` ({"layer", "cell", "match",
    "sign"}, `finder.best_matches`), or None where it is constant on the text."""
    return finder.best_matches(trace(name, text), features)


def suggestion(name: str, text: str, hypothesis: str) -> dict | None:
    """The cell that best follows `hypothesis` on `text`, as `suggestions` has it (None: constant there)."""
    return suggestions(name, text, SUGGESTED if hypothesis in SUGGESTED else (hypothesis,))[hypothesis]


@st.cache_data(max_entries=32, show_spinner="Ranking every cell...")
def ranking(name: str, text: str, hypothesis: str, regex: str | None, signal: str) -> tuple[pd.DataFrame, np.ndarray]:
    """(top cells table, the hypothesis's values (T,)) for a hypothesis or regex; ValueError for a bad regex."""
    values = features.compute(hypothesis, text, regex=regex)
    return finder.find_cells(
        trace(name, text), values, signal=signal, top=20, kind=features.get(hypothesis).kind
    ), values


@st.cache_data(max_entries=32, show_spinner="Searching for the pattern...")
def span_search(name: str, text: str, start: int, end: int, signal: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells on inside [start, end) and off around it, other places where those cells are on together)."""
    tr = trace(name, text)
    cells = finder.span_cells(tr, start, end, signal=signal, top=10)
    return cells, finder.pattern_matches(tr, cells.head(5), signal=signal)


@st.cache_resource(max_entries=4, show_spinner="Loading the n-gram...")
def ngram(name: str) -> lstm_viz.NGram:
    return lstm_viz.load_ngram(name)


@st.cache_data(max_entries=8, show_spinner="Running the analyses on this text...")
def analyses(name: str, text: str) -> dict:
    """`lstm_viz.analysis.of_text` for the Analyses page; only "problem" when the text is too short."""
    from lstm_viz import analysis

    try:
        ng = ngram(name)
        ng.check_length(text)
    except ValueError as e:
        return {"problem": str(e)}
    return heavy(analysis.of_text, trace(name, text), ng)


@st.cache_resource(max_entries=4, show_spinner="Running the model with the edit...")
def effect(name: str, text: str, edits: tuple) -> lstm_viz.Effect:
    """The plain and the edited run of `text` compared (edits: lstm_viz.Clamp / Scale)."""
    return lstm_viz.effect(model(name), text, list(edits), base=trace(name, text))


@st.cache_data(max_entries=16, show_spinner="Writing on with and without the edit...")
def continuations(name: str, text: str, edits: tuple, seed: int, n: int, temperature: float) -> tuple[str, str]:
    """What the model writes after `text`, as trained and with the edits, from the same seed."""
    m = model(name)
    return m.sample(text, n, temperature, seed), m.sample(text, n, temperature, seed, interventions=list(edits))


@st.cache_data(max_entries=32, show_spinner="Attributing the guess...")
def attribution(name: str, text: str, pos: int, method: str) -> np.ndarray:
    return heavy(lstm_viz.attribution, model(name), text, pos, method)


@st.cache_data(max_entries=8, show_spinner="Ablating every cell...")
def ablation(name: str, text: str) -> pd.DataFrame:
    """Every cell ranked by how much zeroing it lowers log p of the closing quotes and brackets."""
    return heavy(lstm_viz.ablation_ranking, model(name), text)


@st.cache_resource(max_entries=4, show_spinner="Reading the cell labels...")
def explanation(name: str) -> dict | None:
    """The model's explanation record (pretrained/NAME/explain.json, `lstm_viz.find.cellpage.load`), or
    None if it has none (an uploaded model has no folder); ValueError for a file that is not one."""
    try:
        return cellpage.load(name)
    except lstm_viz.CheckpointError:
        return None


@st.cache_resource(max_entries=4, show_spinner=False)
def explanation_table(name: str) -> pd.DataFrame | None:
    """`explanation` as `lstm_viz.explain`'s table (best score first), or None."""
    record = explanation(name)
    return None if record is None else cellpage.table(record)


@st.cache_data(max_entries=64, show_spinner=False)
def label_search(name: str, words: str) -> pd.DataFrame:
    """Cells whose label holds every word (`cellpage.search`), best score first."""
    return cellpage.search(explanation(name), words)


@st.cache_resource(max_entries=4, show_spinner=False)
def cell_map(name: str) -> pd.DataFrame:
    """Every cell's place on the cell map, label, score and kind (`ui.session.labels.map_frame`)."""
    return labels.map_frame(explanation_table(name), explanation(name))


@st.cache_data(max_entries=256, show_spinner=False)
def cell_writes(name: str, layer: int, cell: int) -> dict:
    """What the cell writes at its typical h (`cellpage.writes`)."""
    return cellpage.writes(model(name), explanation(name), layer, cell)


@st.cache_data(max_entries=256, show_spinner=False)
def cell_drivers(name: str, layer: int, cell: int) -> list[tuple]:
    """The inputs driving the cell's gates most (`cellpage.drivers`)."""
    return cellpage.drivers(model(name), explanation(name), layer, cell)


STEER_CHARS, STEER_TEMPERATURE = 200, 0.8


def steer_prime(name: str) -> str:
    """What steering starts from: the first paragraph of the model's default example."""
    return EXAMPLES[default_example(name)].text.split("\n\n", 1)[0] + "\n\n"


@st.cache_data(max_entries=64, show_spinner="Writing 200 characters three times: held low, untouched, held high...")
def steer(name: str, layer: int, cell: int, seed: int) -> dict:
    """{"plain", "low", "high"}: STEER_CHARS characters after `steer_prime` with the cell's raw c held
    at its low and its high value (the record's c_low, c_high) and untouched, from one seed."""
    entry = cellpage.entry(explanation(name), layer, cell)
    return heavy(
        cellpage.steer,
        model(name),
        steer_prime(name),
        layer,
        cell,
        entry["c_low"],
        entry["c_high"],
        STEER_CHARS,
        STEER_TEMPERATURE,
        seed,
    )
