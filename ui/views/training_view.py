"""A model over its training, from its snapshots and the dynamics.json beside it
(`lstm_viz.paper.dynamics`): a cell's match with its label at every snapshot (the cell page), the
lecture's cells emerging and the paper's training dynamics against n-gram models (the Analyses page)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from ..backend import training
from ..session.labels import plain

BUILD = "python -m lstm_viz dynamics --model {} --corpus CORPUS"
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def axis_chars(fig: go.Figure, row: int | None = None, col: int | None = None) -> None:
    """Characters seen on a log axis (snapshot 0, the untrained weights, drawn at 1,000)."""
    fig.update_xaxes(type="log", title_text="characters seen in training", row=row, col=col)


def seen(chars: int) -> int:
    return max(chars, 1_000)


def cell_curve(name: str, layer: int, cell: int) -> None:
    """The cell page's emergence curve: the cell's match with its label at every snapshot; nothing
    for a model without snapshots."""
    found = training.snapshots(name)
    if not found:
        return
    record = training.record(name)
    st.markdown("**Over training**: this cell's match with its label at each snapshot of the model's training")
    if record is None or record.get("cells") is None:
        st.info(f"Measure it with `{BUILD.format(plain(name))}` (it writes dynamics.json beside the model).")
        return
    cells = record["cells"]
    at = next((j for j, pair in enumerate(zip(cells["layer"], cells["cell"])) if pair == (layer, cell)), None)
    if at is None:
        st.info("This cell has no label to follow.")
        return
    snaps = record["snapshots"]
    values = [row[at] for row in cells["match"]]
    fig = go.Figure(
        go.Scatter(
            x=[seen(s["chars_seen"]) for s in snaps],
            y=values,
            mode="lines+markers",
            name="match",
            customdata=[s["snapshot"] for s in snaps],
            hovertemplate="snapshot %{customdata}<br>%{x:,} characters seen<br>match %{y:.2f}<extra></extra>",
        )
    )
    threshold = record["threshold"]
    fig.add_hline(y=threshold, line_dash="dot", annotation_text=f"{threshold:g}", line_color="#888")
    axis_chars(fig)
    fig.update_yaxes(title_text="match on held-out text", range=[-0.2, 1.05])
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), showlegend=False)
    st.plotly_chart(fig, key="cell_over_training")
    st.caption(emerged_words(values, snaps, threshold, record["chars"]))


def emerged_words(values: list, snaps: list[dict], threshold: float, chars: int) -> str:
    """One line: from which snapshot the match stays at or above the threshold, or that it never does."""
    above = [v is not None and v >= threshold for v in values]
    first = next((i for i in range(len(above)) if all(above[i:])), None)
    where = f"on {chars:,} held-out characters, the label's line fitted on the first half and measured on the second"
    if first is None:
        return f"Its match never stays at {threshold:g} or above ({where})."
    s = snaps[first]
    return (
        f"Its match reaches {threshold:g} at snapshot {s['snapshot']} ({s['chars_seen']:,} characters seen) and stays "
        f"there ({where})."
    )


def dynamics_section(name: str) -> None:
    """The Analyses page's section on training: the lecture's cells emerging and the n-gram dynamics."""
    if not training.snapshots(name):
        return
    st.subheader("Over training")
    record = training.record(name)
    if record is None:
        st.info(f"Measure it with `{BUILD.format(plain(name))}` (it writes dynamics.json beside the model).")
        return
    st.markdown(
        f"On {record['chars']:,} characters of the held-out {record['corpus']['split']} split, at each of the "
        f"{len(record['snapshots'])} snapshots saved while **{plain(name)}** trained."
    )
    st.plotly_chart(emergence_figure(record), key="emergence")
    rows = [
        {
            "label": r["feature"],
            "cell": f"{r['layer'] + 1}:{r['cell']}",
            "match untrained": r["first"],
            "match trained": r["last"],
            f"from snapshot (match >= {record['threshold']:g})": "never" if r["snapshot"] is None else r["snapshot"],
            "characters seen": None if r["chars_seen"] is None else f"{r['chars_seen']:,}",
        }
        for r in record["first_above"]
    ]
    st.dataframe(rows, hide_index=True)
    if record["dynamics"] is None:
        st.info("No n-gram beside this model: no comparison with n-gram models.")
        return
    st.markdown(
        "**The paper's training dynamics** (Karpathy, Johnson & Fei-Fei 2015, section 4.3): early in training the "
        "LSTM predicts like a low-order n-gram model, then parts from it as it learns longer structure. Its two "
        "panels, as we read them: the symmetric KL divergence between the model's next-character distribution and "
        "each order's (lower is closer), and how much better the model predicts than that order (the n-gram's mean "
        "loss minus the model's, in nats per character: above 0 once the model is ahead). The third panel is a "
        "measure of ours: of the characters either gets wrong, the share both get wrong."
    )
    st.plotly_chart(dynamics_figure(record), key="ngram_dynamics")


def emergence_figure(record: dict) -> go.Figure:
    """Each lecture cell's match at every snapshot (the best cell of the last snapshot, followed back)."""
    fig = go.Figure()
    for k, r in enumerate(record["first_above"]):
        rows = [e for e in record["emergence"] if e["feature"] == r["feature"]]
        fig.add_trace(
            go.Scatter(
                x=[seen(e["chars_seen"]) for e in rows],
                y=[e["match"] for e in rows],
                mode="lines+markers",
                name=f"{r['feature']} (cell {r['layer'] + 1}:{r['cell']})",
                line=dict(color=COLOURS[k % len(COLOURS)]),
            )
        )
    fig.add_hline(y=record["threshold"], line_dash="dot", line_color="#888")
    axis_chars(fig)
    fig.update_yaxes(title_text="match on held-out text", range=[-0.2, 1.05])
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), title="When each lecture cell learnt its label")
    return fig


PANELS = (  # (column of dynamics.json, panel title, y-axis title)
    ("kl", "symmetric KL divergence (the paper's)", "nats per character"),
    ("gain", "the n-gram's loss minus the model's (the paper's)", "nats per character"),
    ("overlap", "errors in common (ours)", "share of the errors"),
)


def dynamics_figure(record: dict) -> go.Figure:
    """The model against each n-gram order at every snapshot, one panel per measure of PANELS."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=len(PANELS), subplot_titles=[title for _, title, _ in PANELS])
    for k, n in enumerate(record["orders"]):
        rows = [r for r in record["dynamics"] if r["order"] == n]
        x = [seen(r["chars_seen"]) for r in rows]
        colour = COLOURS[k % len(COLOURS)]
        for col, (measure, _, unit) in enumerate(PANELS, start=1):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[r[measure] for r in rows],
                    mode="lines+markers",
                    name=f"{n}-gram",
                    legendgroup=str(n),
                    showlegend=col == 1,
                    line=dict(color=colour),
                    hovertemplate=f"{n}-gram<br>%{{x:,}} characters seen<br>%{{y:.3f}} {unit}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    for col, (measure, _, unit) in enumerate(PANELS, start=1):
        axis_chars(fig, 1, col)
        fig.update_yaxes(title_text=unit, row=1, col=col)
        if measure == "gain":  # above 0: the model predicts better than that order
            fig.add_hline(y=0, line_dash="dot", line_color="#888", row=1, col=col)
    fig.update_annotations(font_size=12)  # the panels' titles
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10))
    return fig
