"""The paper's Table 1 from a folder of training runs: the test loss of every kind, depth and size.

`python -m lstm_viz table --runs DIR [--out FILE.md] [--paper]` reads each run folder directly under
DIR (a checkpoint folder, `lstm_viz.io.checkpoint`) whose card has a test loss, which training
writes once a run has finished, and prints the losses in the paper's layout (Karpathy, Johnson &
Fei-Fei 2015, Table 1): one row per number of layers, one column per kind and size, then one
row per run with its parameter count; with `--paper`, the best finished run of each corpus beside
the paper's best model and 20-gram on that corpus (`PAPER`).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..core.model import KINDS, Config
from ..io.checkpoint import CARD, CheckpointError, read_card, shapes

ORDER = ("lstm", "rnn", "gru")  # the kinds' columns, left to right
COLUMNS = ["run", "corpus", "kind", "layers", "hidden", "parameters", "test", "val"]
# The paper's test losses (nats per character) that this project could confirm, by the corpus file
# a run's card names: its best recurrent model's and its 20-gram's (Karpathy, Johnson & Fei-Fei
# 2015, arXiv 1506.02078, section 4.3). Its Table 1's loss for each kind, depth and size is not
# among them (docs/paper.md, "Table 1").
PAPER = {"warpeace_input.txt": {"corpus": "War and Peace", "best": 1.077, "ngram": 1.195}}


def parameters(config: dict) -> int:
    """How many numbers a model of this card's config holds (from the shapes alone)."""
    fields = ("vocab_size", "layers", "hidden", "embed", "kind")
    return sum(math.prod(s) for s in shapes(Config(**{k: config[k] for k in fields if k in config})).values())


def read_runs(folder) -> pd.DataFrame:
    """One row per finished run directly under `folder`: run (its folder name), corpus (the file name
    its card names, None if none), kind, layers, hidden, parameters, test and val (nats/char), ordered
    by kind, layers and size. The folders
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
                "corpus": (card.get("corpus") or {}).get("name"),
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


def beside_paper(table: pd.DataFrame) -> pd.DataFrame:
    """For each corpus of `PAPER` that finished runs were trained on: the best of them (least test
    loss) beside the paper's best model and 20-gram. Columns: corpus, run, kind, layers, hidden,
    test, paper_best, paper_ngram."""
    rows = []
    for name, paper in PAPER.items():
        mine = table[table["corpus"] == name]
        if not mine.empty:
            best = mine.loc[mine["test"].idxmin()]
            rows.append(
                {
                    "corpus": paper["corpus"],
                    **{k: best[k] for k in ("run", "kind", "layers", "hidden", "test")},
                    "paper_best": paper["best"],
                    "paper_ngram": paper["ngram"],
                }
            )
    return pd.DataFrame(
        rows, columns=["corpus", "run", "kind", "layers", "hidden", "test", "paper_best", "paper_ngram"]
    )


def markdown(table: pd.DataFrame, paper: bool = False) -> str:
    """The table in Markdown: the paper's layout, then one row per run, then (with `paper`) the best
    run beside the paper's figures, then the runs left out."""
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
    if paper and not table.empty:
        best = beside_paper(table)
        lines += [
            "",
            "Beside the paper (Karpathy, Johnson & Fei-Fei 2015, arXiv 1506.02078, section 4.3), nats per character:",
        ]
        if best.empty:
            lines += ["", f"No finished run of a corpus the paper reports ({', '.join(PAPER)})."]
        else:
            lines += [
                "",
                "| corpus | our best finished run | test | paper's best model | paper's 20-gram |",
                "|---|---|---|---|---|",
                *(
                    f"| {r.corpus} | {r.kind} {r.layers} x {r.hidden} ({r.run}) | {r.test:.3f} | "
                    f"{r.paper_best:.3f} | {r.paper_ngram:.3f} |"
                    for r in best.itertuples()
                ),
                "",
                "The paper's best model is the best of all the kinds, depths and sizes of its Table 1.",
            ]
    for what in ("unfinished", "unreadable"):
        if table.attrs.get(what):
            lines += ["", f"{what.capitalize()}: {', '.join(table.attrs[what])}."]
    return "\n".join(lines) + "\n"
