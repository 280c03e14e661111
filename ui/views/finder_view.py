"""The "Find cells" panel: rank every cell by its match with a hypothesis or a regex on your text
(or by its contrast around a marked span), and the chosen cell's label box: its label and match
on held-out text from the model's explanation table (explain.json), with its strongest snippets.

The hypothesis picked here is the page's `hypothesis` (a plain session key, ui/session/state.DEFAULTS),
which other panels get through `Shown`: the picker's own key is dropped while this tab is closed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lstm_viz.core import features
from lstm_viz.find import cellpage
from lstm_viz.views import colour, render
from lstm_viz.views.view import signal_name

from ..backend import cache
from ..session import cell_link, labels, state
from ..session.shown import Shown
from ..session.signals import SIGNALS
from ..widgets import cell_table

MODES = {"hypothesis": "A hypothesis", "regex": "Your own regex", "span": "A marked span"}
HYPOTHESES = [name for name in features.FEATURES if name != "regex"]
TABLE_KEY = "find_table"


def _hypothesis_picked() -> None:
    st.session_state["hypothesis"] = st.session_state["find_hypothesis"]


def query(length: int, pos: int) -> dict:
    """Draw the finder's controls; what to rank by, as plain values."""
    state.choose(st.session_state, "find_mode", MODES)
    mode = st.radio("Find cells that follow", list(MODES), format_func=MODES.get, horizontal=True, key="find_mode")
    if mode == "hypothesis":
        st.session_state["find_hypothesis"] = st.session_state["hypothesis"]
        state.choose(st.session_state, "find_hypothesis", HYPOTHESES)
        hypothesis = st.selectbox(
            "Hypothesis",
            HYPOTHESES,
            key="find_hypothesis",
            on_change=_hypothesis_picked,
            format_func=lambda n: f"{n.replace('_', ' ')}: {features.get(n).label}",
        )
        return {"mode": mode, "hypothesis": hypothesis, "regex": None}
    if mode == "regex":
        pattern = st.text_input(
            "Regular expression (characters inside any match count as on)",
            key="find_regex",
            placeholder=r'e.g. "[^"]*" or \bif\b',
        )
        return {"mode": mode, "hypothesis": "regex", "regex": pattern}
    session = st.session_state  # a span opens on the selected position
    session["find_start"] = min(pos if session["find_start"] is None else session["find_start"], max(0, length - 1))
    session["find_end"] = min(max(pos + 10 if session["find_end"] is None else session["find_end"], 1), length)
    left, right = st.columns(2)
    start = left.number_input("Span start", 0, max(0, length - 1), key="find_start")
    end = right.number_input("Span end (exclusive)", 1, length, key="find_end")
    return {"mode": mode, "start": int(start), "end": int(end)}


DETAILS = {  # the ranking's figures behind its Details expander, and what each says
    "sign": "+1: the cell rises with the hypothesis (is higher inside it); -1: it falls",
    "pearson": "Pearson r of the cell with the hypothesis on your text; the match is its size |r|",
    "auc": "ROC AUC: the chance that a character inside has a higher value than one outside (0.5: none)",
    "mean_in": "the cell's mean tanh(c) inside the hypothesis",
    "mean_out": "its mean outside",
    "spearman": "Spearman rho: Pearson r of the ranks",
}


def ranked_table(name: str, table: pd.DataFrame, columns: list[str], **column_config) -> None:
    """The ranked cells, each with a link to its page; a click on a row picks a cell."""
    cell_table.show(name, table, columns, TABLE_KEY, max_height=400, **column_config)
    st.caption("Click a row to make that cell the chosen cell; its number opens its page.")


def match_ranking(name: str, ranked: pd.DataFrame) -> None:
    """The cells ranked by their match on your text; the AUC, Pearson r and sign behind Details."""
    ranked_table(
        name,
        ranked,
        ["layer", "cell", "match"],
        match=st.column_config.NumberColumn(
            f"match {labels.MATCH_WHERE['live']}", help=labels.MATCH_HELP["live"], format="%.2f"
        ),
    )
    with st.expander("Details"):
        shown = [c for c in DETAILS if c in ranked.columns]
        st.dataframe(
            ranked[["layer", "cell", "match", *shown]].assign(layer=ranked["layer"] + 1),
            hide_index=True,
            key="find_details",
            column_config={c: st.column_config.NumberColumn(c, help=DETAILS[c]) for c in shown},
        )


def against(values: np.ndarray, hypothesis: np.ndarray, title: str, hypothesis_name: str) -> go.Figure:
    """The chosen cell's values (T,) and the hypothesis (T,) over the text, on two y axes."""
    x = list(range(len(values)))
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": values.tolist(),
            "name": "cell",
            "line": {"color": colour.LSTM},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": hypothesis.astype(float).tolist(),
            "yaxis": "y2",
            "name": hypothesis_name,
            "line": {"color": colour.BASELINE, "shape": "hv"},
        },
    ]
    layout = {
        "title": {"text": title, "font": {"size": 14}},
        "height": 260,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "yaxis": {"range": [-1.05, 1.05], "title": "cell"},
        "yaxis2": {"overlaying": "y", "side": "right", "title": hypothesis_name, "showgrid": False},
        "xaxis": {"title": "position"},
        "legend": {"orientation": "h", "y": -0.25},
    }
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def snippet_html(text: str, at: int, colours: list[int]) -> str:
    """One snippet of the explanation table (colours: values x 100) as escaped HTML on one line; the
    activating character outlined."""
    return render.snippet(text, [c / 100 for c in colours], outlined=at)


def histogram_html(per_mille: list[int], shown: str, height: int = 120) -> str:
    """A cell's activation histogram (per mille of characters in equal bins of `shown`, what colours
    the text: an LSTM's tanh(c), a GRU's or RNN's h, over [-1, 1]) as bars on the colour scale, in
    plain HTML of numbers only (lighter than a chart: the label box and the cell page draw one on
    every cell change)."""
    n, top = len(per_mille), max(max(per_mille), 1)
    bars = "".join(
        f'<div title="{shown} {-1 + 2 * k / n:+.1f} to {-1 + 2 * (k + 1) / n:+.1f}: {v / 10:.1f}% of characters" '
        f'style="flex:1;height:{100 * v / top:.1f}%;background:{colour.css(-1 + (k + 0.5) * 2 / n)};'
        'border:1px solid #888;border-bottom:none"></div>'
        for k, v in enumerate(per_mille)
    )
    return (
        f'<div style="display:flex;align-items:flex-end;gap:1px;height:{height}px;border-bottom:1px solid #444">'
        f"{bars}</div>"
        '<div style="display:flex;justify-content:space-between;font-size:0.75rem;color:#555">'
        f"<span>-1</span><span>0</span><span>+1</span></div>"
        f'<div style="font-size:0.75rem;color:#555">highest bar: {top / 10:.1f}% of characters</div>'
    )


def label_box(name: str, record: dict | None, layer: int, cell: int) -> None:
    """The chosen cell's entry in the explanation table: its label and match on held-out text, a
    link to its page, its activation histogram and snippets, the rest behind Details."""
    if record is None:
        st.info(labels.how_to_build(name))
        return
    entry = cellpage.entry(record, layer, cell)
    corpus = record.get("corpus", {})
    where = f"{record['chars']:,} characters of the {corpus.get('split', 'held-out')} split of {corpus.get('name')}"
    if record.get("stale"):
        st.warning(
            "These labels were built for other weights of this model: rebuild them with `python -m lstm_viz explain`."
        )
    if entry["score"] is None:
        st.markdown(f"**Layer {layer + 1}, cell {cell}: no label**, it is constant on held-out text.")
    else:
        st.markdown(
            f"**Layer {layer + 1}, cell {cell}: {labels.plain(entry['label'])}** \u00b7 "
            f"{labels.match_text(entry['score'], 'held_out')}",
            help=labels.MATCH_HELP["held_out"] + f" Here: {where}.",
        )
    st.page_link(
        cell_link.PAGE,
        label=f"Page of cell {layer + 1}:{cell}: its label, related cells, what it writes, steering",
        query_params=cell_link.query(name, layer, cell),
    )
    if entry["score"] is not None:
        with st.expander("Details"):
            runner = (
                f"Runner-up: {labels.plain(entry['runner_up'])}, "
                f"{labels.match_text(entry['runner_up_score'], 'held_out')}."
                if entry["runner_up_score"] is not None
                else "No runner-up."
            )
            st.markdown(
                f"The cell {'rises' if entry['sign'] > 0 else 'falls'} with its label (sign {entry['sign']:+d})"
                f"{'; the label is a pair of hypotheses combined' if entry['pair'] else ''}. "
                f"Fit on the first half of the held-out text: {labels.match_value(entry['fit'])} "
                f"(|r|, or a pair's multiple R). {runner}"
            )
    if entry.get("histogram"):
        shown = signal_name("cell", cache.kind(name))
        st.markdown(histogram_html(entry["histogram"], shown), unsafe_allow_html=True)
    for kind, heading in (("top", "Where it is highest"), ("bottom", "Where it is lowest")):
        if entry.get(kind):
            st.caption(f"{heading} on held-out text")
            st.markdown(
                "".join(snippet_html(text, at, colours) for _, at, _, text, colours in entry[kind]),
                unsafe_allow_html=True,
            )


def section(shown: Shown) -> None:
    """Rank every cell against a hypothesis, a regex or a marked span; the chosen cell's label box."""
    tr, name, signal = shown.trace, shown.name, shown.signal
    find = query(len(tr.text), shown.pos)
    if find["mode"] == "span":
        if find["end"] <= find["start"]:
            st.warning("The span's end must come after its start.")
        else:
            span_table, matches = cache.span_search(name, tr.text, find["start"], find["end"], signal)
            ranked_table(
                name,
                span_table,
                ["layer", "cell", "contrast", "inside", "around"],
                contrast=st.column_config.NumberColumn(
                    "contrast", help="the cell's mean inside the span minus its mean around it", format="%+.2f"
                ),
            )
            st.markdown("**Other places where the top five of these cells are on together**")
            st.dataframe(matches.head(20), hide_index=True, width="stretch")
    elif find["mode"] == "regex" and not find["regex"]:
        st.info("Type a regular expression to rank every cell by it.")
    else:
        try:
            ranked, hypothesis = cache.ranking(name, tr.text, find["hypothesis"], find["regex"], signal)
        except ValueError as e:  # a bad regex, or a hypothesis that never changes on this text
            st.warning(str(e))
        else:
            match_ranking(name, ranked)
            values = tr.signal(signal, shown.layer, [shown.cell])[:, 0]
            title = (
                f"Layer {shown.layer + 1}, cell {shown.cell} ({SIGNALS[signal]}) against "
                f"{find['hypothesis'].replace('_', ' ')}"
            )
            st.plotly_chart(against(values, hypothesis, title, find["hypothesis"]), key="find_chart")
    try:
        record = cache.explanation(name)
    except ValueError as e:
        st.warning(f"Cannot read the cell labels: {labels.plain(str(e))}")
        return
    label_box(name, record, shown.layer, shown.cell)
