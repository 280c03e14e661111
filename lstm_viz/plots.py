"""Matplotlib figures of the analyses, saved as PNG and compact SVG (for reports and the docs)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)
import pandas as pd  # noqa: E402

from .analysis import SATURATION_GATES  # noqa: E402
from .colour import BASELINE, LSTM  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})


def save(fig, folder, name: str) -> list[Path]:
    """Write `fig` as NAME.png and NAME.svg into `folder`; returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    fig.savefig(paths[0], dpi=110, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return paths


def gate_saturation(tables: list[pd.DataFrame]):
    """Figure 3 of the paper: per layer (rows) and gate (columns), each cell at (fraction of
    characters left-saturated, fraction right-saturated)."""
    fig, axes = plt.subplots(len(tables), 3, figsize=(8, 2.6 * len(tables)), squeeze=False, sharex=True, sharey=True)
    for layer, table in enumerate(tables):
        for j, gate in enumerate(SATURATION_GATES):
            ax = axes[layer, j]
            rows = table[table["gate"] == gate]
            ax.plot([0, 1], [1, 0], color="#ccc", lw=0.8)
            ax.scatter(rows["left"], rows["right"], s=6, alpha=0.5, color=LSTM, linewidths=0, rasterized=True)
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"layer {layer + 1}, {gate} gate")
            if layer == len(tables) - 1:
                ax.set_xlabel("fraction left-saturated (< 0.1)")
            if j == 0:
                ax.set_ylabel("fraction right-saturated (> 0.9)")
    fig.tight_layout()
    return fig


def error_breakdown(table: pd.DataFrame):
    """The LSTM's errors attributed to each oracle in turn, as shares of all errors."""
    fig, ax = plt.subplots(figsize=(6, 2.8))
    shares = table["share"][::-1] * 100
    ax.barh(table["oracle"][::-1], shares, color=LSTM)
    for y, v in enumerate(shares):
        ax.text(v + 0.5, y, f"{v:.1f}%", va="center")
    ax.set_xlabel(f"share of the LSTM's {table.attrs.get('errors', 0):,} errors (%)")
    ax.set_xlim(0, max(shares.max() * 1.2, 1))
    fig.tight_layout()
    return fig


def closing_distance(bins: pd.DataFrame):
    """Mean probability of the correct closer against the distance to its opener, per kind."""
    kinds = list(dict.fromkeys(bins["kind"]))
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        rows = bins[bins["kind"] == kind]
        labels = [f"{lo}-{hi - 1}" if hi < 10**9 else f"{lo}+" for lo, hi in zip(rows["low"], rows["high"])]
        x = range(len(rows))
        ax.plot(x, rows["lstm"], "o-", color=LSTM, label="LSTM")
        if rows["ngram"].notna().any():
            ax.plot(x, rows["ngram"], "s--", color=BASELINE, label="20-gram")
        ax.set_xticks(list(x), labels, rotation=45)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"distance to the opening {'{' if kind == 'brace' else 'quote'} (characters)")
        ax.set_ylabel(f"mean p(closing {'}' if kind == 'brace' else 'quote'})")
        for i, n in zip(x, rows["pairs"]):
            ax.annotate(f"{n}", (i, 0.02), ha="center", fontsize=7, color="#666")
        ax.legend(loc="upper right", frameon=False)
    fig.tight_layout()
    return fig


def character_advantage(table: pd.DataFrame):
    """Where the LSTM's memory pays: nats saved over the n-gram in total, per next character."""
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh(table["label"][::-1], table["saved"][::-1], color=LSTM)
    ax.set_xlabel("nats saved by the LSTM over the n-gram, summed over the text")
    fig.tight_layout()
    return fig
