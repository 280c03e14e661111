"""A model over its training, from the snapshots `train --snapshots` saves (any kind).

- `cell_matches`: the match (`lstm_viz.find.match`) of every cell with a hypothesis on held-out
  text, fitted on the first half of the text and measured on the second, as the explanation table
  scores a cell.
- `emergence`: for each hypothesis, the cell that follows it best at the last snapshot, and that
  same cell (a cell keeps its index through training) at every snapshot: when it learnt its label.
- `first_above`: the first snapshot where each such cell's match reaches a threshold.
- `ngram_dynamics`: the paper's training dynamics. Karpathy, Johnson & Fei-Fei (2015, arXiv
  1506.02078, section 4.3) follow an LSTM through the start of its training and compare it with
  n-gram baselines of several orders: one panel of the figure plots the symmetric KL divergence
  between their next-character distributions, the other the difference of their mean losses.
  (The stored copies of the paper this project could search hold its abstract and introduction
  only; the two panels are as a reader of the paper describes them. The paper's baselines are its
  n-NN models, neural networks that see the last n characters; ours are the model's own n-gram,
  Kneser-Ney of orders 1 to 20.) Per snapshot and order n, over the known next characters of the
  held-out text, with p the model's distribution and q the order-n one:
  `kl`, the mean of KL(p || q) + KL(q || p) (the paper's first panel);
  `gain`, the n-gram's mean loss minus the model's, nats per character, positive where the model
  predicts better (the paper's second panel), with `model_loss` and `ngram_loss`;
  `overlap`, ours: the share of the characters either gets wrong (its likeliest next character
  is not the one that comes) that both get wrong, with each one's error rate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.features import compute, get
from ..core.trace import trace_chunks
from ..core.vocab import normalise
from ..find import hypotheses
from ..find.match import match
from ..io import checkpoint

THRESHOLD = 0.5  # a cell "has learnt" its label once its held-out match reaches this
ORDERS = (1, 2, 3, 4, 5, 10, 20)  # n-gram orders compared with the model in `ngram_dynamics`
PROSE = ("quotes", "line_position", "in_word", "sentence_end", "bracket_depth")  # registered features prose has
EPS = 1e-12  # probabilities are floored here in the KL divergence


def snapshot_rows(source) -> list[dict]:
    """The snapshots of a model (name or folder), refused in one line if it has none."""
    found = checkpoint.snapshots(source)
    if not found:
        raise ValueError(f"{source}: has no snapshots (train it with --snapshots N to save them)")
    return found


@dataclass
class Traced:
    """One snapshot's run over a held-out text."""

    row: dict  # the snapshot, as `lstm_viz.io.checkpoint.snapshots` lists it
    memory: np.ndarray  # (L, T, H) float32: an LSTM's tanh(c), a GRU's or RNN's h
    log_probs: np.ndarray  # (T, V) float32: log p(next character) after each character
    chars: tuple  # the model's alphabet


@dataclass
class Run:
    """Every snapshot of a model traced over one held-out text: what each measure here reads."""

    text: str  # normalised
    warm: int  # the first `warm` characters only bring the state up to speed: never scored
    snapshots: list  # [Traced], in training order


def trace_snapshots(source, text: str, warm: int = 0) -> Run:
    """Trace `text` at every snapshot of `source` (a model name or folder), once for all measures."""
    text = normalise(text)
    if not 0 <= warm < len(text) - 2:
        raise ValueError(f"warm-up of {warm} characters leaves nothing of a {len(text)}-character text to score")
    out = []
    for row in snapshot_rows(source):
        model = checkpoint.load(row["path"])
        pieces = [piece for _, piece in trace_chunks(model, text)]
        memory = np.concatenate([p.memory for p in pieces], axis=1)
        log_probs = np.concatenate([p.log_probs for p in pieces], axis=0)
        out.append(Traced(row, memory, log_probs, tuple(model.vocab.chars)))
    return Run(text, warm, out)


def correlations(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(C,) Pearson r of each column of y (T, C) with z (T,); NaN where either is constant."""
    y = y - y.mean(axis=0)
    z = z - z.mean()
    den = np.sqrt((y * y).sum(axis=0) * (z * z).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12, (z @ y) / den, np.nan)


def cell_matches(values: np.ndarray, label: np.ndarray) -> np.ndarray:
    """(C,) held-out match of every cell with a label: values (T, C) the cells' memory, label (T,),
    the line fitted on the first half of the text and measured on the second (`lstm_viz.find.match`)."""
    half = len(label) // 2
    z = np.asarray(label, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    return match(correlations(y[:half], z[:half]), correlations(y[half:], z[half:]))


def labels_of(text: str, names) -> dict[str, np.ndarray]:
    """(T,) values of each registered feature in `names` that varies on the text on both halves."""
    half = len(text) // 2
    out = {}
    for name in names:
        v = np.asarray(compute(name, text), dtype=np.float64)
        if np.ptp(v[:half]) > 0 and np.ptp(v[half:]) > 0:
            out[name] = v
    return out


def emergence(run: Run, features=PROSE) -> pd.DataFrame:
    """For each registered feature in `features` that varies on the run's text, the cell (layer,
    cell) that matches it best at the last snapshot, and its held-out match at every snapshot.

    Columns: feature, layer, cell, snapshot, chars_seen, val (validation loss in nats, NaN if not
    recorded), match (of that cell), best (the best match of any cell at that snapshot).
    """
    for name in features:
        get(name)  # an unknown name: refused in one line
    labels = labels_of(run.text[run.warm :], features)
    if not labels:
        raise ValueError(f"none of {', '.join(features)} varies on this text: nothing to follow")
    per_snapshot = []
    for snap in run.snapshots:
        L, T, H = snap.memory.shape
        flat = snap.memory[:, run.warm :].transpose(1, 0, 2).reshape(T - run.warm, L * H)  # (T', L * H)
        per_snapshot.append({name: cell_matches(flat, z) for name, z in labels.items()})
    rows = []
    for name in labels:
        best = int(np.argmax(np.nan_to_num(per_snapshot[-1][name], nan=-np.inf)))
        for snap, scores in zip(run.snapshots, per_snapshot):
            rows.append(
                {
                    "feature": name,
                    "layer": best // H,
                    "cell": best % H,
                    **where(snap.row),
                    "match": float(scores[name][best]),
                    "best": float(np.nanmax(scores[name])) if np.isfinite(scores[name]).any() else np.nan,
                }
            )
    return pd.DataFrame(rows)


def where(row: dict) -> dict:
    """A snapshot's place in training: index, characters seen and validation loss (nats, NaN if none)."""
    return {
        "snapshot": row["index"],
        "chars_seen": row["chars_seen"],
        "val": (row["loss"].get("val") or {}).get("nats", np.nan),
    }


def first_above(curves: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """For each feature of `emergence`'s table: its cell, the match at the first and last snapshots,
    and the first snapshot whose match reaches `threshold` and stays there from then on (None where
    it never does)."""
    rows = []
    for name, curve in curves.groupby("feature", sort=False):
        curve = curve.sort_values("snapshot")
        above = (curve["match"] >= threshold).to_numpy()
        stays = np.flatnonzero(above & np.flip(np.logical_and.accumulate(np.flip(above))))
        rows.append(
            {
                "feature": name,
                "layer": int(curve["layer"].iloc[0]),
                "cell": int(curve["cell"].iloc[0]),
                "first": float(curve["match"].iloc[0]),
                "last": float(curve["match"].iloc[-1]),
                "snapshot": int(curve["snapshot"].iloc[stays[0]]) if len(stays) else None,
                "chars_seen": int(curve["chars_seen"].iloc[stays[0]]) if len(stays) else None,
            }
        )
    return pd.DataFrame(rows).astype({"snapshot": "Int64", "chars_seen": "Int64"})  # NA where never


def label_curves(run: Run, cells: list[dict]) -> np.ndarray:
    """(S, C) held-out match of each cell with its own label at every snapshot: cells as in an
    explain.json ({"layer", "cell", "key"}; a key "a + b" is a pair, fitted as a line in both).
    NaN for a cell whose label is not in the family generated from this text (or a constant cell)."""
    scored = run.text[run.warm :]
    family = {h.key: h for h in hypotheses.generate(scored, run.snapshots[-1].chars)}
    values, cache = {}, {}
    for c in cells:
        keys = [k for k in c.get("key", "").split(" + ") if k]
        if keys and all(k in family for k in keys):
            for k in keys:
                cache.setdefault(k, np.asarray(family[k](scored), dtype=np.float64))
            values[(c["layer"], c["cell"])] = np.stack([cache[k] for k in keys], axis=1)  # (T', 1 or 2)
    out = np.full((len(run.snapshots), len(cells)), np.nan)
    for s, snap in enumerate(run.snapshots):
        for j, c in enumerate(cells):
            z = values.get((c["layer"], c["cell"]))
            if z is not None:
                out[s, j] = line_match(snap.memory[c["layer"], run.warm :, c["cell"]], z)
    return out


def line_match(y: np.ndarray, z: np.ndarray) -> float:
    """Held-out match of one cell y (T,) with a label of one or two hypotheses z (T, k): the line
    y ~ w . z + b fitted by least squares on the first half, correlated with y on the second (for one
    hypothesis exactly `cell_matches`). NaN if y or the fitted line is constant on a half."""
    half = len(y) // 2
    y = np.asarray(y, dtype=np.float64)
    if np.ptp(y[:half]) <= 1e-6:
        return float("nan")
    a = np.column_stack([z[:half], np.ones(half)])
    w, *_ = np.linalg.lstsq(a, y[:half], rcond=None)
    line = z[half:] @ w[:-1]
    return float(correlations(y[half:, None], line)[0])


def ngram_dynamics(run: Run, ngram, orders=ORDERS) -> pd.DataFrame:
    """The paper's training dynamics (see the module's docstring): at each snapshot and for each
    n-gram order, how far the model's predictions are from the n-gram's, how much better they
    predict, and how much their errors overlap, on the run's held-out text.

    Columns: snapshot, chars_seen, val, order, kl (mean symmetric KL divergence in nats), gain
    (ngram_loss minus model_loss), model_loss and ngram_loss (mean nats per character), overlap
    (characters both get wrong / characters either gets wrong), model_errors and ngram_errors
    (each one's error rate), characters (scored).
    """
    if run.snapshots[0].chars != tuple(ngram.vocab.chars):
        raise ValueError("the n-gram's alphabet is not the model's: build one for this model")
    orders = tuple(n for n in orders if 1 <= n <= ngram.order)
    ids = ngram.vocab.encode(run.text)
    nxt = ids[1:]  # (T - 1,) the character each position predicts
    positions = np.flatnonzero((np.arange(len(nxt)) >= run.warm) & (nxt != 0))  # known next characters
    truth = nxt[positions]
    rows_of = np.arange(len(positions))
    q_logs, q_wrong, q_loss = {}, {}, {}
    for n, q in ngram.distributions(ids, orders).items():
        q_logs[n] = np.log(np.maximum(q[positions].astype(np.float64), EPS))  # (N, V)
        q_wrong[n] = q[positions].argmax(axis=1) != truth
        q_loss[n] = float(-q_logs[n][rows_of, truth].mean())
    rows = []
    for snap in run.snapshots:
        p = np.exp(snap.log_probs[positions].astype(np.float64))  # (N, V)
        logp = np.log(np.maximum(p, EPS))
        wrong = p.argmax(axis=1) != truth
        loss = float(-logp[rows_of, truth].mean())
        for n in orders:
            either = wrong | q_wrong[n]
            rows.append(
                {
                    **where(snap.row),
                    "order": n,
                    "kl": float(((p - np.exp(q_logs[n])) * (logp - q_logs[n])).sum(axis=1).mean()),
                    "gain": q_loss[n] - loss,
                    "model_loss": loss,
                    "ngram_loss": q_loss[n],
                    "overlap": float((wrong & q_wrong[n]).sum() / max(int(either.sum()), 1)),
                    "model_errors": float(wrong.mean()),
                    "ngram_errors": float(q_wrong[n].mean()),
                    "characters": len(positions),
                }
            )
    return pd.DataFrame(rows)


FILE = "dynamics.json"  # beside the model: what the app shows of its training
FORMAT = "lstm-viz-dynamics/1"
CHARS = 10_000  # held-out characters the shipped file is measured on


def plain(v):
    """A table's value as JSON holds it: numpy numbers as Python ones, NaN as null."""
    if v is pd.NA:
        return None
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and not np.isfinite(v) else v


def records(table: pd.DataFrame) -> list[dict]:
    """A table's rows as JSON-ready dicts."""
    return [{k: plain(v) for k, v in row.items()} for row in table.to_dict("records")]


def build(source, corpus, max_chars: int = CHARS, split: str = "test", threshold: float = THRESHOLD) -> dict:
    """Everything this module measures on `max_chars` of a corpus split, as the record `write`
    saves: the emergence curves and first snapshots above `threshold`, the n-gram dynamics (when the
    model has an n-gram, `lstm_viz.load_ngram`) and every cell's match with its explain.json label
    at each snapshot (when the model has one)."""
    from ..train.data import held_out, sha256
    from .ngram import load_ngram

    text, start, warm = held_out(corpus, max_chars, split)
    run = trace_snapshots(source, text, warm)
    curves = emergence(run)
    record = {
        "format": FORMAT,
        "corpus": {"name": Path(corpus).name, "sha256": sha256(corpus), "split": split, "start": start},
        "chars": len(run.text) - warm,
        "warmup": warm,
        "threshold": threshold,
        "snapshots": [where(s.row) for s in run.snapshots],
        "emergence": records(curves),
        "first_above": records(first_above(curves, threshold)),
        "dynamics": None,
        "cells": None,
    }
    try:
        ngram = load_ngram(source)
    except ValueError:
        ngram = None
    if ngram is not None:
        record["orders"] = [n for n in ORDERS if n <= ngram.order]
        record["dynamics"] = records(ngram_dynamics(run, ngram))
    explained = checkpoint.resolve(source) / "explain.json"
    if explained.is_file():
        cells = json.loads(explained.read_text())["cells"]
        cells = sorted(cells, key=lambda c: (c["layer"], c["cell"]))
        curves = label_curves(run, cells)  # (S, C)
        record["cells"] = {
            "layer": [c["layer"] for c in cells],
            "cell": [c["cell"] for c in cells],
            "key": [c.get("key", "") for c in cells],
            "match": [[None if not np.isfinite(v) else round(float(v), 4) for v in row] for row in curves],
        }
    return record


def write(folder, record: dict) -> Path:
    """Save a `build` record as FILE in `folder`."""
    path = Path(folder) / FILE
    path.write_text(json.dumps(record, separators=(",", ":"), ensure_ascii=True))
    return path


def read(source) -> dict | None:
    """The dynamics.json beside a model (name or folder), None if it has none."""
    path = checkpoint.resolve(source) / FILE
    if not path.is_file():
        return None
    record = checkpoint.parse_json(path.read_bytes(), str(path))
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file; rebuild it with python -m lstm_viz dynamics")
    return record
