"""The paper's Table 1 from a folder of training runs: the test loss of every kind, depth and size.

`python -m lstm_viz table --runs DIR [--out FILE.md]` reads each run folder directly under DIR
(a checkpoint folder, `lstm_viz.io.checkpoint`) whose card has a test loss, which training writes
once a run has finished, and prints the losses in the paper's layout (Karpathy, Johnson &
Fei-Fei 2015, Table 1): one row per number of layers, one column per kind and size, then one
row per run with its parameter count.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..core.model import KINDS, Config
from ..io.checkpoint import CARD, CheckpointError, read_card, shapes

ORDER = ("lstm", "rnn", "gru")  # the kinds' columns, left to right
COLUMNS = ["run", "kind", "layers", "hidden", "parameters", "test", "val"]


def parameters(config: dict) -> int:
    """How many numbers a model of this card's config holds (from the shapes alone)."""
    fields = ("vocab_size", "layers", "hidden", "embed", "kind")
    return sum(math.prod(s) for s in shapes(Config(**{k: config[k] for k in fields if k in config})).values())


def read_runs(folder) -> pd.DataFrame:
    """One row per finished run directly under `folder`: run (its folder name), kind, layers,
    hidden, parameters, test and val (nats/char), ordered by kind, layers and size. The folders
    that are runs but have no test loss yet, or an unreadable card, are named in attrs
    "unfinished" and "unreadable"."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder of runs")
    rows, unfinished, unreadable = [], [], []
    for run in sorted(p for p in folder.iterdir() if p.is_dir() and (p / CARD).is_file()):
        try:
            card = read_card(run)
        except CheckpointError:
            unreadable.append(run.name)
            continue
        loss, config = card.get("loss", {}), card.get("config", {})
        test = loss.get("test", {}).get("nats") if isinstance(loss.get("test"), dict) else None
        if test is None:
            unfinished.append(run.name)
            continue
        kind = card.get("kind", config.get("kind", "lstm"))
        rows.append(
            {
                "run": run.name,
                "kind": kind,
                "layers": int(config["layers"]),
                "hidden": int(config["hidden"]),
                "parameters": parameters({**config, "kind": kind}),
                "test": float(test),
                "val": float(loss["val"]["nats"]) if isinstance(loss.get("val"), dict) else math.nan,
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    rank = {k: i for i, k in enumerate(ORDER + tuple(k for k in KINDS if k not in ORDER))}
    table = table.sort_values(["kind", "layers", "hidden"], key=lambda c: c.map(rank) if c.name == "kind" else c)
    table = table.reset_index(drop=True)
    table.attrs.update(unfinished=unfinished, unreadable=unreadable)
    return table


def paper_layout(table: pd.DataFrame) -> pd.DataFrame:
    """Test losses with one row per number of layers and one column per (kind, hidden), as the
    paper lays out Table 1; NaN where no finished run has that kind, depth and size (the best run
    where several have)."""
    grid = table.pivot_table(index="layers", columns=["kind", "hidden"], values="test", aggfunc="min")
    kinds = [k for k in ORDER + KINDS if k in grid.columns.get_level_values(0)]
    return grid[[c for k in dict.fromkeys(kinds) for c in sorted(c for c in grid.columns if c[0] == k)]]


def markdown(table: pd.DataFrame) -> str:
    """The table in Markdown: the paper's layout, then one row per run, then the runs left out."""
    if table.empty:
        lines = ["No finished run (no card with a test loss) under this folder."]
    else:
        grid = paper_layout(table)
        head = [f"{kind.upper()} {hidden}" for kind, hidden in grid.columns]
        lines = [
            "Test loss, nats per character (rows: layers; columns: kind and cells per layer):",
            "",
            "| layers | " + " | ".join(head) + " |",
            "|---|" + "---|" * len(head),
            *(
                f"| {layers} | " + " | ".join("-" if math.isnan(v) else f"{v:.3f}" for v in row) + " |"
                for layers, row in zip(grid.index, grid.to_numpy())
            ),
            "",
            "| kind | layers | hidden | parameters | test nats/char | val nats/char | run |",
            "|---|---|---|---|---|---|---|",
            *(
                f"| {r.kind} | {r.layers} | {r.hidden} | {r.parameters:,} | {r.test:.4f} | "
                f"{'-' if math.isnan(r.val) else f'{r.val:.4f}'} | {r.run} |"
                for r in table.itertuples()
            ),
        ]
    for what in ("unfinished", "unreadable"):
        if table.attrs.get(what):
            lines += ["", f"{what.capitalize()}: {', '.join(table.attrs[what])}."]
    return "\n".join(lines) + "\n"
