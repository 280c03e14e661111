"""The "Intervene" panel: clamp or scale cells and watch the predictions change, explain a
value or a guess by the characters before it, and rank cells by ablation beside the finder's
ranking for the page's hypothesis (`Shown.hypothesis`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import lstm_viz
from lstm_viz.causal.attribute import METHODS
from lstm_viz.core import cells as cell_list
from lstm_viz.core.edits import check
from lstm_viz.views import render
from lstm_viz.views.glyphs import label

from ..backend import cache, jobs
from ..components import payload
from ..session import state
from ..session.labels import MATCH_HELP
from ..session.shown import Shown
from ..widgets import glossary

CELL_SOURCES = {"current": "the chosen cell", "top": "the finder's top cells", "list": "cells I type"}
KINDS = {"clamp": "Clamp c to", "scale": "Scale c by"}
PRESETS = {"low": "its lowest c on this text", "high": "its highest c on this text", "zero": "0", "value": "a value"}
SPANS = {"whole": "the whole text", "after": "the selected position on", "span": "a span"}
EXPLAIN = {"contributions": "what wrote the chosen cell's value", "attribution": "what drove the next-character guess"}
CONTINUATION, TEMPERATURE = 200, 0.8  # characters generated after the text, with and without
DELTA_NATS = 2.0  # a change of log p this large gets the full colour
EXPLAIN_BEFORE = 400  # characters before the selected position the explanation shows
ABLATION_CHARS = 2_000  # the ablation ranking reads the first this many characters
CLOSE = 0.5  # a cell held this near (in tanh(c)) where it is as the text ends, on its side, changes ~nothing


def cell_choice(layer: int, cell: int, layers: int, hidden: int, top: pd.DataFrame | None) -> list[tuple[int, int]]:
    """Draw the cell source picker; the (layer, cell) pairs chosen. ValueError for typed nonsense."""
    state.choose(st.session_state, "iv_cells", CELL_SOURCES)
    source = st.radio("Cells", list(CELL_SOURCES), format_func=CELL_SOURCES.get, horizontal=True, key="iv_cells")
    if source == "current":
        return [(layer, cell)]
    if source == "top":
        k = st.number_input("How many of the finder's top cells", 1, 20, key="iv_top")
        if top is None:
            raise ValueError("the finder has no ranking for this text and hypothesis")
        return [(int(r.layer), int(r.cell)) for r in top.head(int(k)).itertuples()]
    return cell_list.parse(st.text_input("Cells (e.g. 429, 1:31)", key="iv_list"), layer, layers, hidden)


def edit_choice(length: int, pos: int) -> dict:
    """Draw clamp/scale, the value and the span; the choice as plain values."""
    session = st.session_state
    left, mid, right = st.columns(3)
    state.choose(st.session_state, "iv_kind", KINDS)
    kind = left.radio("Edit", list(KINDS), format_func=KINDS.get, key="iv_kind")
    if kind == "clamp":
        state.choose(st.session_state, "iv_preset", PRESETS)
        preset = mid.radio("Value", list(PRESETS), format_func=PRESETS.get, key="iv_preset")
        number = mid.number_input("Value of c", key="iv_value", step=0.5) if preset == "value" else None
    else:
        preset, number = None, mid.number_input("Factor (0 zeroes the cell)", key="iv_factor", step=0.5)
    state.choose(st.session_state, "iv_span", SPANS)
    span = right.radio("Over", list(SPANS), format_func=SPANS.get, key="iv_span")
    start, stop = 0, None
    if span == "after":
        start = pos
    elif span == "span":
        session["iv_start"] = min(session["iv_start"], max(0, length - 1))
        session["iv_stop"] = min(max(session["iv_stop"], 1), length)
        start = int(right.number_input("From", 0, max(0, length - 1), key="iv_start"))
        stop = int(right.number_input("To (exclusive)", 1, length, key="iv_stop"))
    return {"kind": kind, "preset": preset, "number": number, "start": start, "stop": stop}


def interventions(cells: list[tuple[int, int]], edit: dict, trace: lstm_viz.Trace) -> tuple:
    """The Clamp or Scale edits for the choice; presets read each cell's raw c on the trace."""
    if edit["kind"] == "scale":
        return tuple(lstm_viz.Scale(layer, cell, edit["number"], edit["start"], edit["stop"]) for layer, cell in cells)
    out, states = [], {}
    for layer, cell in cells:
        if edit["preset"] in ("low", "high"):
            if layer not in states:
                states[layer] = trace.raw_cells(layer)  # (T, H)
            c = states[layer][:, cell]
            value = float(c.min() if edit["preset"] == "low" else c.max())
        else:
            value = 0.0 if edit["preset"] == "zero" else edit["number"]
        out.append(lstm_viz.Clamp(layer, cell, value, edit["start"], edit["stop"]))
    return tuple(out)


def describe(iv) -> str:
    what = f"clamp c to {iv.value:+.3f}" if isinstance(iv, lstm_viz.Clamp) else f"scale c by {iv.factor:g}"
    where = (
        "the whole text"
        if iv.start == 0 and iv.stop is None
        else f"positions {iv.start} to {'the end' if iv.stop is None else iv.stop - 1}"
    )
    cells = ", ".join(map(str, iv.cells))
    return f"layer {iv.layer + 1}, cell{'s' if len(iv.cells) > 1 else ''} {cells}: {what} over {where}"


def coloured(text: str, values: np.ndarray, scale: float, at: int) -> str:
    """Escaped HTML of text, wrapped, each character on the colour of values / scale (red low, blue
    high); the character at `at` outlined."""
    with np.errstate(invalid="ignore"):
        colours = np.nan_to_num(np.clip(values / scale, -1, 1) * 100).round() / 100
    return render.snippet(text, colours.tolist(), outlined=at, wrap=True)


def top_table(top: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame({"next": [label(ch) for ch, _ in top], "p": [round(p, 4) for _, p in top]})


def why_unchanged(edits: tuple, trace: lstm_viz.Trace) -> str:
    """One line on why an edit leaves the continuation as it was: what the edited cells hold where
    the text ends, against what the edit holds them at."""
    T = len(trace.text)
    if all(isinstance(iv, lstm_viz.Scale) and iv.factor == 1 for iv in edits):
        return "The continuation is the same with and without this edit: a scale by 1 leaves every cell as it is."
    ended = [iv for iv in edits if iv.stop is not None and iv.stop < T]
    if ended:
        return (
            f"The continuation is the same with and without this edit: it ends at position {ended[0].stop - 1}, "
            "before the text does, and by its end the model has the cells back as they were."
        )
    squash = np.tanh if trace.kind == "lstm" else float  # the value the cell passes on: tanh(c), or h
    moves = []  # (size of the move, layer, cell, value where the text ends, value the edit gives it)
    for iv in edits:
        for cell in iv.cells:
            now = float(trace.raw_memory(iv.layer)[-1, cell])
            held = iv.value if isinstance(iv, lstm_viz.Clamp) else now * iv.factor
            moves.append((abs(squash(held) - squash(now)), iv.layer, cell, squash(now), squash(held)))
    gap, layer, cell, now, held = max(moves)
    where = f"layer {layer + 1} cell {cell}"
    values = f"{now:+.2f} where the text ends; the edit holds it at {held:+.2f}"
    return "The continuation is the same with and without this edit: " + (
        f"{where} is already {'high' if held > 0 else 'low'} ({values}), so the model reads on as before. "
        "Hold the finder's top cells at their highest c to see it write differently."
        if gap < CLOSE and np.sign(now) == np.sign(held)
        else f"{where} moves ({values}), but not enough to change a character it samples with this seed: "
        "try more cells or another seed."
    )


def effect_view(effect: lstm_viz.Effect, pos: int, plain: str, changed: str) -> None:
    """The text coloured by the change of log p(actual next char), the guesses at the selected
    position before and after, and the continuations with and without the edit."""
    delta = effect.delta
    st.markdown(
        f"Mean change of log p(next character): **{np.nanmean(delta):+.3f} nats** "
        f"(largest drop {np.nanmin(delta):+.2f} at position {int(np.nanargmin(delta))}); "
        f"largest KL between the guesses {np.max(effect.kl):.3f} nats. Negative: the edit made the model "
        "less sure of the characters that really came.",
        help=glossary.tip("log p", "nats and bits", "KL"),
    )
    st.caption(
        f"Each character on the change of log p of the character after it: red where the edit made it less "
        f"likely, blue more likely (full colour at {DELTA_NATS:g} nats). The selected position is outlined."
    )
    st.markdown(coloured(effect.after.text, delta, DELTA_NATS, pos), unsafe_allow_html=True)
    before, after = effect.top_k(pos)
    left, right = st.columns(2)
    left.markdown(f"**Guesses after position {pos}, as trained**")
    left.dataframe(top_table(before), hide_index=True, key="iv_before")
    right.markdown("**... with the edit**")
    right.dataframe(top_table(after), hide_index=True, key="iv_after")
    left.markdown("**Continuation, as trained**")
    left.code(plain, language=None, wrap_lines=True)
    right.markdown("**Continuation with the edit (same seed)**")
    right.code(changed, language=None, wrap_lines=True)


def explain_view(trace: lstm_viz.Trace, layer: int, cell: int, pos: int, attribute) -> None:
    """Earlier characters coloured by their share of the chosen cell's c at the selected position,
    or by their attribution of the guess after it (attribute(method) -> (pos + 1,))."""
    state.choose(st.session_state, "explain", EXPLAIN)
    how = st.radio(
        "Explain the selected position by", list(EXPLAIN), format_func=EXPLAIN.get, horizontal=True, key="explain"
    )
    if how == "contributions":
        try:
            values = trace.contributions(layer, cell, pos)
        except ValueError as e:  # a GRU or an RNN has no c_t to split: one line says so
            st.info(f"{str(e)[0].upper()}{str(e)[1:]}.")
            return
        st.caption(
            f"Layer {layer + 1}, cell {cell}: c = {values.sum():+.3f} at position {pos}, split into what each "
            "earlier character wrote into the cell (the input gate times the candidate) and the forget gates "
            "have kept of it since; blue adds, red takes away.",
            help=glossary.tip("contributions", "input gate i", "candidate g", "forget gate f"),
        )
    else:
        if pos + 1 >= len(trace.text):
            st.info("The last character has no next character to explain: select an earlier one.")
            return
        state.choose(st.session_state, "explain_method", METHODS)
        method = st.radio(
            "Method", METHODS, horizontal=True, key="explain_method", format_func=lambda m: m.replace("_", " ")
        )
        try:
            values = attribute(method)
        except jobs.Busy as e:
            st.warning(str(e))
            return
        st.caption(
            f"Each character's {method.replace('_', ' ')} for log p({label(trace.text[pos + 1])!r} "
            f"after position {pos}): how much it made the model expect the character that came; blue made it "
            "likelier, red less likely.",
            help=glossary.tip("log p"),
        )
    start = max(0, pos + 1 - EXPLAIN_BEFORE)
    shown = values[start:]
    scale = float(np.max(np.abs(shown))) or 1.0
    st.markdown(coloured(trace.text[start : pos + 1], shown, scale, pos - start), unsafe_allow_html=True)
    top = np.argsort(-np.abs(values))[:5]
    st.caption("Largest: " + ", ".join(f"{label(trace.text[s])!r} at {s} ({values[s]:+.3f})" for s in top))


def _ask_for_ablation(key: str) -> None:
    st.session_state["ablation_for"] = key


def ablation_view(correlation: pd.DataFrame | None, hypothesis: str, key: str, ablation) -> None:
    """The finder's correlation ranking beside the ablation ranking of the model and text `key`
    names (ablation() -> table), run only once the button was pressed for that model and text."""
    left, right = st.columns(2)
    left.markdown(f"**Match with {hypothesis.replace('_', ' ')}** (the finder, on your text)")
    if correlation is None:
        left.info("No ranking: the hypothesis is constant on this text.")
    else:
        left.dataframe(
            correlation[["layer", "cell", "match"]].assign(layer=correlation["layer"] + 1).head(20),
            hide_index=True,
            key="iv_correlation",
            column_config={"match": st.column_config.NumberColumn("match", help=MATCH_HELP["live"], format="%.2f")},
        )
    right.markdown(
        "**Cause: ablating each cell**: how much worse the model guesses closing quotes and brackets with the "
        "cell set to zero (log p)",
        help=glossary.tip("log p", "nats and bits"),
    )
    if st.session_state["ablation_for"] != key:
        right.button("Rank every cell by ablation", key="iv_ablate", on_click=_ask_for_ablation, args=(key,))
        right.caption(
            f"Zeroes each cell in turn over the first {ABLATION_CHARS:,} characters (all cells of all layers "
            "at once, in reduced precision) and ranks them by the drop in mean log p of the characters "
            "that close a quote or a bracket. Takes from seconds to a few minutes."
        )
        return
    try:
        table = ablation()
    except (ValueError, jobs.Busy) as e:
        right.warning(str(e))
        return
    right.dataframe(
        table.assign(layer=table["layer"] + 1)[["rank", "layer", "cell", "delta"]].head(20),
        hide_index=True,
        key="iv_ablation",
    )
    right.caption(
        "delta: change of mean log p (nats) of the closing characters when the cell is zeroed; most harmful "
        "first (the more negative, the more the model needs the cell to close them)."
    )


def section(shown: Shown) -> None:
    """The whole tab: change cells, explain the selected position, correlation beside cause."""
    name, trace, layer, cell, pos = shown.name, shown.trace, shown.layer, shown.cell, shown.pos
    L, T, H = trace.shape
    try:
        top = cache.ranking(name, trace.text, shown.hypothesis, None, "cell")[0]
    except ValueError:  # the hypothesis never changes on this text
        top = None
    lstm = trace.kind == "lstm"
    st.markdown(
        "**Change cells and watch the model** "
        + (
            "(the edit holds or scales the raw cell state c; the text above shows tanh(c))"
            if lstm
            else "(the edit holds or scales the cell's one state h, which the text above shows)"
        ),
        help=glossary.tip("clamp", "scale", "raw c" if lstm else "one state h"),
    )
    try:
        cells = cell_choice(layer, cell, L, H, top)
        edits = interventions(cells, edit_choice(T, pos), trace)
        check(edits, L, H, T)
    except ValueError as e:
        st.error(f"Cannot make this edit: {e}.")
    else:
        st.caption(
            "; ".join(describe(iv) for iv in edits[:5]) + (f"; and {len(edits) - 5} more" if len(edits) > 5 else "")
        )
        seed = int(st.number_input("Seed of the continuations", 0, 2**31 - 1, key="iv_seed"))
        plain, changed = cache.continuations(name, trace.text, edits, seed, CONTINUATION, TEMPERATURE)
        if plain == changed:
            st.info(why_unchanged(edits, trace))
        effect_view(cache.effect(name, trace.text, edits), pos, plain, changed)
    st.divider()
    st.markdown(f"**Explain position {pos}** (click a character in the text above to select it)")
    explain_view(trace, layer, cell, pos, lambda method: cache.attribution(name, trace.text, pos, method))
    st.divider()
    ablated = trace.text[:ABLATION_CHARS]
    ablation_view(top, shown.hypothesis, payload.text_key(name, ablated), lambda: cache.ablation(name, ablated))
