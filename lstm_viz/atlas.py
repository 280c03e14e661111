"""Cell atlas: every cell of a model described on held-out text, saved beside the weights.

For each (layer, cell): mean, variance, saturation and a histogram of tanh(c), the hypothesis
it matches best and how well that hypothesis simulates it, and snippets where it is highest,
lowest and at its quartiles. Built once per model (python -m
lstm_viz atlas) and read by the app with `load_atlas`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from . import checkpoint
from . import features as F
from .data import read_corpus, sha256, split_bounds
from .finder import Activations, score_all, trace_activations

FORMAT = "lstm-viz-atlas/1"
FILE = "atlas.json"
SATURATED = 0.9  # |tanh c| above this counts as saturated
BINS = 20  # histogram bins over [-1, 1]
QUANTILES = (0.25, 0.5, 0.75)  # snippets at these quantiles of each cell's values, besides top and bottom
DEFINITIONS = {
    "mean": "mean of tanh(c) over the text",
    "variance": "variance of tanh(c) over the text",
    "saturation": f"fraction of characters where |tanh(c)| > {SATURATED}",
    "score": "folded ROC AUC max(auc, 1 - auc) for binary features, |Pearson r| for counts",
    "sign": "+1: the cell is higher inside the feature (or rises with the count); -1: the opposite",
    "strength": "2 * score - 1 for binary features, |Pearson r| for counts: 0 = unrelated, 1 = perfect; "
    "best is the feature of highest strength",
    "snippet": "[text, index of the activating character in text, tanh(c) there, "
    "tanh(c) at every character of text x 100 as integers]",
    "explanation": "the best hypothesis as a simulation: activation ~ slope * feature + intercept, fitted by "
    "least squares on the first half of the text; score = Pearson r of the simulated with the "
    "real activation on the second half (explain, simulate, correlate: 1 = perfect, <= 0 = no use)",
    "histogram": f"per mille of characters in each of {BINS} equal bins of tanh(c) from -1 to 1",
    "quantiles": f"one snippet at each of the quantiles {list(QUANTILES)} of the cell's values "
    "(the character whose value is nearest, picked at random among near ties)",
}


def held_out(path, max_chars: int = 200_000, split: str = "test", warmup: int = 1_000) -> tuple[str, int, int]:
    """(text, start, warm): up to `max_chars` of a corpus split from its first paragraph break
    (so no quote or comment is entered halfway), preceded by the `warm` characters before it,
    which only bring the model's state up to speed; `start` is where the slice is in the corpus."""
    if max_chars < 100:
        raise ValueError(f"max_chars must be at least 100, not {max_chars}")
    text = read_corpus(path)
    lo, hi = split_bounds(len(text))[split]
    para = text.find("\n\n", lo, min(hi, lo + 10_000))
    start = para + 2 if para >= 0 else lo
    first = max(0, start - warmup)
    return text[first : min(hi, start + max_chars)], start, start - first


def moments(values: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, variance, saturation) (L, H) of values (L, T, H), a chunk of characters at a time."""
    L, T, H = values.shape
    total, squares, saturated = np.zeros((L, H)), np.zeros((L, H)), np.zeros((L, H))
    for t in range(0, T, chunk):
        part = values[:, t : t + chunk]
        total += part.sum(axis=1, dtype=np.float64)
        squares += np.einsum("lth,lth->lh", part, part, dtype=np.float64)
        saturated += (np.abs(part) > SATURATED).sum(axis=1)
    mean = total / T
    return mean, np.maximum(squares / T - mean**2, 0), saturated / T


def run_peaks(values: np.ndarray, size: int, lowest: bool) -> tuple[np.ndarray, np.ndarray]:
    """(positions, values) (L, n, H) of the maximum (minimum if `lowest`) of each run of `size`
    characters of values (L, T, H); the last run may be shorter."""
    L, T, H = values.shape
    n = T // size
    pick = np.argmin if lowest else np.argmax
    runs = values[:, : n * size].reshape(L, n, size, H)
    offsets = pick(runs, axis=2)  # (L, n, H)
    positions = offsets + (np.arange(n) * size)[None, :, None]
    if n * size < T:
        positions = np.concatenate([positions, pick(values[:, n * size :], axis=1)[:, None] + n * size], axis=1)
    return positions, np.take_along_axis(values, positions, axis=1)


def extremes(values: np.ndarray, k: int, gap: int, lowest: bool = False) -> np.ndarray:
    """(L, H, k) positions of the k highest (or lowest) values of each cell of values (L, T, H),
    at least `gap` characters apart; -1 where the text is too short for k of them.

    Each run of `gap` characters offers its extreme; the best 3k runs are then picked greedily.
    """
    L, T, H = values.shape
    positions, peaks = run_peaks(values, gap, lowest)  # (L, n, H)
    order = np.argsort(peaks if lowest else -peaks, axis=1, kind="stable")[:, : 3 * k]  # (L, m, H)
    ranked = np.take_along_axis(positions, order, axis=1)
    out = np.full((L, H, k), -1, dtype=np.int64)
    for layer in range(L):
        for cell in range(H):
            picked = []
            for pos in ranked[layer, :, cell]:
                if all(abs(pos - p) >= gap for p in picked):
                    picked.append(pos)
                    if len(picked) == k:
                        break
            out[layer, cell, : len(picked)] = picked
    return out


def histograms(values: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """(L, H, BINS) per mille of characters of values (L, T, H) in each bin of [-1, 1]."""
    L, T, H = values.shape
    counts = np.zeros((L, H * BINS), dtype=np.int64)
    for t in range(0, T, chunk):
        part = values[:, t : t + chunk]  # (L, t, H)
        bins = np.clip(((part + 1) * (BINS / 2)).astype(np.int64), 0, BINS - 1)
        for layer in range(L):
            counts[layer] += np.bincount((np.arange(H) * BINS + bins[layer]).ravel(), minlength=H * BINS)
    return np.rint(counts.reshape(L, H, BINS) * 1000 / max(T, 1)).astype(np.int64)


def quantile_positions(values: np.ndarray, quantiles=QUANTILES, block: int = 64, seed: int = 0) -> np.ndarray:
    """(L, H, Q) positions where each cell's value is nearest each quantile of its values
    (ties within 0.005 broken at random, so the snippets come from all over the text)."""
    L, T, H = values.shape
    jitter = np.random.default_rng(seed).uniform(0, 0.005, (T, 1)).astype(np.float32)
    out = np.zeros((L, H, len(quantiles)), dtype=np.int64)
    for layer in range(L):
        for j in range(0, H, block):
            part = values[layer, :, j : j + block]  # (T, k)
            levels = np.quantile(part, quantiles, axis=0)  # (Q, k)
            for q, level in enumerate(levels):
                out[layer, j : j + block, q] = np.argmin(np.abs(part - level) + jitter, axis=0)
    return out


def explanations(values: np.ndarray, feats: dict, best: dict) -> dict:
    """Simulate each cell from its best hypothesis: name -> (L, H) slope, intercept and score.

    best: feature name -> (L, H) bool of the cells it explains best. The linear map is fitted on
    the first half of the characters; score is Pearson r of simulation and activation on the second.
    """
    L, T, H = values.shape
    half = T // 2
    out = {k: np.full((L, H), np.nan) for k in ("slope", "intercept", "score")}
    for name, cells in best.items():
        x = np.asarray(feats[name], dtype=np.float64)
        x1, x2 = x[:half], x[half:]
        for layer in range(L):
            idx = np.flatnonzero(cells[layer])
            if not len(idx) or x1.var() == 0:
                continue
            y = values[layer][:, idx].astype(np.float64)  # (T, k)
            y1, y2 = y[:half], y[half:]
            slope = ((x1 - x1.mean()) @ (y1 - y1.mean(axis=0))) / (half * x1.var())  # (k,)
            intercept = y1.mean(axis=0) - slope * x1.mean()
            simulated = x2[:, None] * slope + intercept  # (T - half, k)
            a, b = simulated - simulated.mean(axis=0), y2 - y2.mean(axis=0)
            norm = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
            with np.errstate(invalid="ignore", divide="ignore"):
                score = np.where(norm > 0, (a * b).sum(axis=0) / norm, np.nan)
            out["slope"][layer, idx], out["intercept"][layer, idx], out["score"][layer, idx] = slope, intercept, score
    return out


def snippet(text: str, pos: int, width: int, before: int) -> tuple[str, int]:
    """(context, index of pos in it): `width` characters around pos, `before` of them before it."""
    start = max(0, min(pos - before, len(text) - width))
    return text[start : start + width], pos - start


def build(acts: Activations, snippets: int = 3, width: int = 40, before: int = 30) -> dict:
    """The atlas of activations (L, T, H): per-cell statistics, best hypothesis and snippets.

    Every registered feature except `regex` is tried; features constant on this text are left out.
    """
    L, T, H = acts.shape
    feats = F.compute_all(acts.text)
    scores = {name: s for name, s in score_all(acts, feats).items() if not np.isnan(s.score).all()}
    names = list(scores)
    strength = np.stack([scores[n].strength for n in names]) if names else np.full((1, L, H), np.nan)  # (F, L, H)
    best = np.argmax(np.nan_to_num(strength, nan=-1), axis=0)  # (L, H)
    simulation = explanations(acts.values, feats, {n: best == i for i, n in enumerate(names)})
    mean, variance, saturation = moments(acts.values)
    histogram = histograms(acts.values)
    top = extremes(acts.values, snippets, width)
    bottom = extremes(acts.values, snippets, width, lowest=True)
    middle = quantile_positions(acts.values)

    def shots(positions, layer, cell):
        out = []
        for p in positions[positions >= 0]:
            context, at = snippet(acts.text, int(p), width, before)
            around = acts.values[layer, p - at : p - at + len(context), cell]  # (width,)
            out.append(
                [context, at, round(float(acts.values[layer, p, cell]), 3), np.rint(around * 100).astype(int).tolist()]
            )
        return out

    cells = []
    for layer in range(L):
        for cell in range(H):
            entry = {
                "layer": layer,
                "cell": cell,
                "mean": round(float(mean[layer, cell]), 4),
                "variance": round(float(variance[layer, cell]), 4),
                "saturation": round(float(saturation[layer, cell]), 4),
                "best": None,
                "histogram": histogram[layer, cell].tolist(),
                "top": shots(top[layer, cell], layer, cell),
                "bottom": shots(bottom[layer, cell], layer, cell),
                "quantiles": shots(middle[layer, cell], layer, cell),
                "explanation": None,
            }
            if names and np.isfinite(simulation["score"][layer, cell]):
                entry["explanation"] = {
                    "feature": names[best[layer, cell]],
                    **{k: round(float(v[layer, cell]), 4) for k, v in simulation.items()},
                }
            if names:
                s = scores[names[best[layer, cell]]]
                entry["best"] = {
                    "feature": names[best[layer, cell]],
                    "statistic": s.statistic,
                    "score": round(float(s.score[layer, cell]), 4),
                    "sign": int(s.sign[layer, cell]),
                    "strength": round(float(s.strength[layer, cell]), 4),
                }
            cells.append(entry)
    summary = {}
    for name, s in scores.items():
        table = s.table(5)
        summary[name] = {
            "kind": s.kind,
            "statistic": s.statistic,
            "description": F.FEATURES[name].description,
            "top": [[int(r.layer), int(r.cell), round(float(r.score), 4), int(r.sign)] for r in table.itertuples()],
        }
    return {
        "format": FORMAT,
        "signal": acts.signal,
        "layers": L,
        "cells_per_layer": H,
        "chars": T,
        "definitions": DEFINITIONS,
        "quantiles": list(QUANTILES),
        "features": summary,
        "cells": cells,
    }


def weights_sha256(folder) -> str:
    return hashlib.sha256((Path(folder) / checkpoint.WEIGHTS).read_bytes()).hexdigest()


def build_for_corpus(name_or_path, corpus, max_chars: int = 200_000, split: str = "test") -> tuple[Path, dict]:
    """(model folder, atlas) of a model on up to `max_chars` of a held-out split of `corpus`."""
    folder = checkpoint.resolve(name_or_path)
    model = checkpoint.load(folder)
    text, start, warm = held_out(corpus, max_chars, split)
    acts = trace_activations(model, text)
    atlas = build(Activations(acts.text[warm:], acts.values[:, warm:], acts.signal))
    atlas.update(provenance(folder, model, corpus, split, start, len(text) - warm, warm))
    return folder, atlas


def provenance(folder, model, corpus, split: str, start: int, chars: int, warm: int) -> dict:
    """{"model", "corpus"}: the weights and the held-out characters [start, start + chars) of a
    corpus split (after `warm` characters of warm-up) that a file built from them records."""
    digest = sha256(corpus)
    return {
        "model": {"name": Path(folder).name, "weights_sha256": weights_sha256(folder)},
        "corpus": {
            "name": Path(corpus).name,
            "sha256": digest,
            "split": split,
            "start": start,
            "end": start + chars,
            "warmup": warm,
            "trained_on": model.card.get("corpus", {}).get("sha256") == digest,
        },
    }


def save_record(folder, file: str, record: dict) -> Path:
    """Save `record` as compact JSON under `file` in a model folder (atomically); returns the file."""
    path = Path(folder) / file
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_record(model_folder, file: str, fmt: str) -> dict | None:
    """The record `file` of a model folder (or shipped model name); None if it has none.

    The dict gains "stale": True when the weights changed since it was built. A file that is
    not a `fmt` record raises ValueError.
    """
    folder = checkpoint.resolve(model_folder)
    path = folder / file
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(record, dict) or record.get("format") != fmt:
        raise ValueError(f"{path}: not a {fmt} file")
    recorded = record.get("model", {}).get("weights_sha256")
    weights = folder / checkpoint.WEIGHTS
    record["stale"] = bool(recorded) and weights.is_file() and recorded != weights_sha256(folder)
    return record


def write(folder, atlas: dict) -> Path:
    """Save `atlas` into a model folder; returns the file."""
    return save_record(folder, FILE, atlas)


def load_atlas(model_folder) -> dict | None:
    """The atlas of a model folder (or shipped model name); None if it has none (see load_record)."""
    return load_record(model_folder, FILE, FORMAT)


def cell_entry(atlas: dict, layer: int, cell: int) -> dict:
    """The atlas entry of one cell."""
    return atlas["cells"][layer * atlas["cells_per_layer"] + cell]
