"""The "Find cells" panel: rank every cell against a hypothesis, a regex or a marked span, and
the chosen cell's entry in the model's atlas (its strongest snippets from held-out text).

The hypothesis picked here is the page's `hypothesis` (a plain session key, ui/state.DEFAULTS),
which other panels get through `Shown`: the picker's own key is dropped while this tab is closed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lstm_viz import atlas as atlas_file
from lstm_viz import colour, features, render

from . import cache, cell_link, cell_table, state
from .shown import Shown
from .signals import SIGNALS

MODES = {"hypothesis": "A hypothesis", "regex": "Your own regex", "span": "A marked span"}
HYPOTHESES = [name for name in features.FEATURES if name != "regex"]
TABLE_KEY = "find_table"


def _hypothesis_picked() -> None:
    st.session_state["hypothesis"] = st.session_state["find_feature"]


def query(length: int, pos: int) -> dict:
    """Draw the finder's controls; what to rank by, as plain values."""
    state.choose(st.session_state, "find_mode", MODES)
    mode = st.radio("Find cells that follow", list(MODES), format_func=MODES.get, horizontal=True, key="find_mode")
    if mode == "hypothesis":
        st.session_state["find_feature"] = st.session_state["hypothesis"]
        state.choose(st.session_state, "find_feature", HYPOTHESES)
        feature = st.selectbox(
            "Hypothesis",
            HYPOTHESES,
            key="find_feature",
            on_change=_hypothesis_picked,
            format_func=lambda n: f"{n.replace('_', ' ')}: {features.get(n).description}",
        )
        return {"mode": mode, "feature": feature, "regex": None}
    if mode == "regex":
        pattern = st.text_input(
            "Regular expression (characters inside any match count as on)",
            key="find_regex",
            placeholder=r'e.g. "[^"]*" or \bif\b',
        )
        return {"mode": mode, "feature": "regex", "regex": pattern}
    session = st.session_state  # a span opens on the selected position
    session["find_start"] = min(pos if session["find_start"] is None else session["find_start"], max(0, length - 1))
    session["find_end"] = min(max(pos + 10 if session["find_end"] is None else session["find_end"], 1), length)
    left, right = st.columns(2)
    start = left.number_input("Span start", 0, max(0, length - 1), key="find_start")
    end = right.number_input("Span end (exclusive)", 1, length, key="find_end")
    return {"mode": mode, "start": int(start), "end": int(end)}


def ranked_table(name: str, table: pd.DataFrame, columns: list[str]) -> None:
    """The ranked cells, each with a link to its page; a click on a row picks a cell."""
    cell_table.show(name, table, columns, TABLE_KEY, max_height=400)
    st.caption("Click a row to make that cell the chosen cell; its number opens its page.")


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


def shot_colours(shot: list) -> tuple[str, int, list[int]]:
    """(text, index, colours x 100) of an atlas snippet; older atlases hold only the activating value."""
    text, at, value, *colours = shot
    return text, at, colours[0] if colours else [round(value * 100) if i == at else 0 for i in range(len(text))]


def snippet_html(text: str, at: int, colours: list[int]) -> str:
    """One atlas snippet (colours: values x 100) as escaped HTML on one line; the activating character outlined."""
    return render.snippet(text, [c / 100 for c in colours], outlined=at)


def histogram_html(per_mille: list[int], height: int = 120) -> str:
    """A cell's activation histogram (per mille of characters in equal bins of tanh(c) over [-1, 1])
    as bars on the colour scale, in plain HTML of numbers only (lighter than a chart: the atlas entry
    and the cell page draw one on every cell change)."""
    n, top = len(per_mille), max(max(per_mille), 1)
    bars = "".join(
        f'<div title="tanh(c) {-1 + 2 * k / n:+.1f} to {-1 + 2 * (k + 1) / n:+.1f}: {v / 10:.1f}% of characters" '
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


def explanation_text(explanation: dict | None) -> str:
    """One line on how well the best hypothesis, as a fitted linear map, simulates the cell."""
    if not explanation:
        return "its best hypothesis cannot simulate it (constant on this text)"
    e = explanation
    return (
        f"simulated as {e['slope']:+.3f} x {e['feature'].replace('_', ' ')} {e['intercept']:+.3f} "
        f"(fitted on the first half): **correlation {e['score']:.2f}** with the real activation on the second half"
    )


def atlas_entry(name: str, atlas: dict | None, entry: dict | None, layer: int, cell: int) -> None:
    """What the atlas says of one cell: statistics, best hypothesis and how well it simulates the
    cell, its activation histogram, and snippets at the top, bottom and quartiles."""
    if atlas is None or entry is None:
        st.info("This model has no cell atlas: build one with `python -m lstm_viz atlas --model NAME --corpus PATH`.")
        return
    where = f"{atlas['chars']:,} characters of held-out {atlas.get('corpus', {}).get('name', 'text')}"
    st.markdown(f"**Layer {layer + 1}, cell {cell} in the atlas** ({where})")
    st.page_link(
        cell_link.PAGE,
        label=f"Page of cell {layer + 1}:{cell}: its label from the generated hypotheses, related cells, steering",
        query_params=cell_link.query(name, layer, cell),
    )
    if atlas.get("stale"):
        st.warning("The atlas was built for other weights of this model: rebuild it with `python -m lstm_viz atlas`.")
    best = entry.get("best")
    best_text = (
        (
            f"best hypothesis **{best['feature'].replace('_', ' ')}** ({best['statistic']} {best['score']:.3f}, "
            f"{'higher' if best['sign'] > 0 else 'lower'} inside)"
        )
        if best
        else "no hypothesis fits"
    )
    st.markdown(f"variance {entry['variance']:.3f} · saturated {entry['saturation']:.0%} of the time · {best_text}")
    if "explanation" in entry:
        st.markdown(f"Explanation score: {explanation_text(entry['explanation'])}")
    if entry.get("histogram"):
        st.markdown(histogram_html(entry["histogram"]), unsafe_allow_html=True)
    quartiles = ", ".join(f"{q:.0%}" for q in atlas.get("quantiles", []))
    for kind, heading in (
        ("top", "Where it is highest"),
        ("quantiles", f"At its quantiles ({quartiles})"),
        ("bottom", "Where it is lowest"),
    ):
        if entry.get(kind):
            st.caption(heading)
            st.markdown("".join(snippet_html(*shot_colours(shot)) for shot in entry[kind]), unsafe_allow_html=True)


def section(shown: Shown) -> None:
    """Rank every cell against a hypothesis, a regex or a marked span; the chosen cell's atlas entry."""
    tr, name, signal = shown.trace, shown.name, shown.signal
    find = query(len(tr.text), shown.pos)
    if find["mode"] == "span":
        if find["end"] <= find["start"]:
            st.warning("The span's end must come after its start.")
        else:
            span_table, matches = cache.span_search(name, tr.text, find["start"], find["end"], signal)
            ranked_table(name, span_table, ["layer", "cell", "score", "sign", "inside", "around"])
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
            ranked_table(name, ranked, ["layer", "cell", "score", "sign", "statistic"])
            values = tr.signal(signal, shown.layer, [shown.cell])[:, 0]
            title = (
                f"Layer {shown.layer + 1}, cell {shown.cell} ({SIGNALS[signal]}) against "
                f"{find['feature'].replace('_', ' ')}"
            )
            st.plotly_chart(against(values, hypothesis, title, find["feature"]), key="find_chart")
    cell_atlas = cache.atlas(name)
    atlas_entry(
        name,
        cell_atlas,
        atlas_file.cell_entry(cell_atlas, shown.layer, shown.cell) if cell_atlas else None,
        shown.layer,
        shown.cell,
    )
