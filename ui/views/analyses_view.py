"""The Analyses page: the paper's analyses for the chosen model, on its held-out test split
(precomputed, from docs/analyses/NAME/) and live on the current text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import lstm_viz
from lstm_viz.views import figures
from lstm_viz.views.glyphs import label
from lstm_viz.views.render import span

from ..backend import cache, jobs
from ..session import examples, state
from ..widgets import glossary

REPORTS = Path(__file__).resolve().parents[2] / "docs" / "analyses"
DIFF_SCALE = 3.0  # nats of model-minus-n-gram loss shown at full colour
WHO = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}  # each kind of model, as the figures name it


def who(name: str) -> str:
    """The model's kind as the page names it: LSTM, GRU or RNN."""
    kind = cache.kind(name)
    return WHO.get(kind, kind)


def current(models: list[str]) -> tuple[str, str]:
    """(model name, text) the main page shows (its plain keys current_model and shown_text, see
    ui/session/state.DEFAULTS); the default model and its example when this page is opened first (a
    ?model= link is honoured)."""
    session = st.session_state
    name = session.get("current_model") or st.query_params.get("model")
    name = name if name in models else state.default_model(models)
    text = session.get("shown_text")
    if not text:
        text = examples.EXAMPLES[examples.default_example(name)].text
    return name, lstm_viz.normalise(text)


def report(name: str) -> dict | None:
    """The committed held-out report of a shipped model, or None."""
    path = REPORTS / name / "report.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def held_out(name: str) -> None:
    """The precomputed figures of the model's held-out test split."""
    data, model = report(name), who(name)
    if data is None:
        st.info(
            f"No precomputed report for {name!r}: make one with `python -m lstm_viz analyse --model {name} "
            f"--corpus CORPUS --out docs/analyses/{name}`."
        )
        return
    loss, paper = data["loss"], data["loss"].get("paper") or {}
    st.markdown(
        f"{data['chars']:,} characters of the {data['corpus']['split']} split of "
        f"`{data['corpus']['name']}`: {model} **{loss['lstm']:.3f}** nats/char, 20-gram **{loss['ngram']:.3f}**"
        + (f" (the paper's: LSTM {paper['lstm']}, 20-gram {paper['ngram']})" if paper else "")
        + ". Lower is better: the model is less surprised by each next character.",
        help=glossary.tip("nats and bits", "n-gram", "held-out text"),
    )
    folder = REPORTS / name
    tabs = st.tabs(["Gate saturation", "Error breakdown", "Closing distance", f"Where the {model} wins"])
    for tab, figure in zip(tabs, ("gate_saturation", "error_breakdown", "closing_distance", "character_advantage")):
        with tab:
            png = folder / f"{figure}.png"
            if png.is_file():
                st.image(str(png))
            else:
                st.caption("Not in this report (the split has no braces or quotes to close).")
    text = folder / "report.md"
    if text.is_file():
        with st.expander("The full report: every number behind these figures"):
            st.markdown(report_body(text.read_text(encoding="utf-8")))


IMAGE = re.compile(r"^!\[[^\]]*\]\([^)]*\)[ \t]*\n?", re.M)  # a markdown image on its own line


def report_body(markdown: str) -> str:
    """A report's markdown as it reads on this page: its figures left out (the tabs above show them)
    and its headings one level down, under the page's own."""
    return re.sub(r"^(#+) ", r"##\1 ", IMAGE.sub("", markdown), flags=re.M)


def difference_html(text: str, diff: np.ndarray, model: str = "LSTM") -> str:
    """The text (escaped) with each character on the colour of the model's advantage in predicting
    it: blue where the model's (an LSTM's, say) loss was lower than the n-gram's, red where higher."""
    spans = []
    for t, ch in enumerate(text):
        d = diff[t - 1] if t else np.nan  # character t is predicted at position t - 1
        value = float(np.clip(-d / DIFF_SCALE, -1, 1)) if np.isfinite(d) else 0.0
        tip = f"{model} - n-gram: {d:+.2f} nats" if np.isfinite(d) else "not scored"
        spans.append(span(ch if ch in " \n" else label(ch), value, tip))
    return (
        '<div style="font-family:monospace;white-space:pre-wrap;line-height:1.5;max-height:420px;'
        f'overflow-y:auto;border:1px solid #ddd;padding:6px">{"".join(spans)}</div>'
    )


def chart(spec: dict) -> go.Figure:
    """A plotly figure of one of the library's chart specs (`lstm_viz.views.figures`), as drawn."""
    return go.Figure(spec, _validate=False)


def live(name: str, text: str) -> None:
    """The analyses of the current text, computed now (cached per model and text)."""
    try:
        result = cache.analyses(name, text)
    except jobs.Busy as e:
        st.warning(str(e))
        return
    if result["problem"]:
        st.info(result["problem"])
        return
    model = who(name)
    c1, c2, c3 = st.columns(3)
    c1.metric(f"{model} loss", f"{result['lstm']:.3f} nats/char", help=glossary.tip("nats and bits"))
    c2.metric("20-gram loss", f"{result['ngram']:.3f} nats/char", help=glossary.tip("n-gram", "nats and bits"))
    c3.metric("Characters", f"{len(text):,}")
    st.markdown(
        f"**Where the {model}'s memory pays**: each character on the colour of {model} loss minus 20-gram loss "
        f"in predicting it (blue: the {model} did better, red: worse; full colour at {DIFF_SCALE:g} nats).",
        help=glossary.tip("nats and bits", "n-gram"),
    )
    st.markdown(difference_html(text, result["difference"], model), unsafe_allow_html=True)
    st.markdown(
        "**Gate saturation** (the paper's figure 3): each dot is a cell; how often its gate is nearly shut, "
        "below 0.1 (across), and nearly open, above 0.9 (up). A dot near the top left is a gate almost always "
        "open; along the diagonal, one that is always either shut or open.",
        help=glossary.tip("gate"),
    )
    if result["saturation_problem"]:
        st.info(f"{result['saturation_problem'][0].upper()}{result['saturation_problem'][1:]}")
    else:
        st.plotly_chart(chart(figures.gate_saturation_spec(result["saturation"], model)), key="live_saturation")
    st.markdown(
        f"**Error breakdown**: {result['errors']:,} errors (characters the model gave less than an even "
        f"chance, p < 0.5) among {result['scored']:,} characters. Each simple explanation of an error (an "
        "oracle, defined in the table) in turn takes the errors it explains; what none explains is left.",
        help=glossary.tip("p (probability)"),
    )
    st.plotly_chart(chart(figures.error_breakdown_spec(result["breakdown"], model)), key="live_breakdown")
    st.dataframe(result["breakdown"], hide_index=True, width="stretch")
    st.markdown(
        "**Closing braces and quotes**: each closing } or quote in the text, at how far it is from its opener "
        "(across) and the probability each model gave it (up): a model that remembers the opener keeps it high "
        "however far away it is."
    )
    if result["closing"] is None:
        st.info(result["closing_problem"])
    else:
        st.plotly_chart(chart(figures.closing_distance_spec(result["closing"], model)), key="live_closing")


def page() -> None:
    models = lstm_viz.available()
    st.title("Analyses")
    if not models:
        st.error("No models found: put a model folder (card.json + model.safetensors) in pretrained/.")
        return
    name, text = current(models)
    st.caption(
        f"The analyses of Karpathy, Johnson & Fei-Fei (2015), sections 4.2 to 4.4, for model **{name}**: "
        "on its held-out test split (precomputed) and on the text of the main page (live)."
    )
    st.subheader("Held-out test split")
    held_out(name)
    st.subheader("The current text")
    live(name, text)
