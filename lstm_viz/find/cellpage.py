"""Every cell's page, as data: the shipped explanation file and the plain functions a page calls.

`python -m lstm_viz explain` writes `explain.json` beside a model's weights (`build_for_corpus`,
`write`): per cell its label, held-out score and runner-up (`lstm_viz.explain`), activation
histogram, top, quantile and bottom snippets, typical h, its low and high raw c, the most
correlated cells, a 2-D cell map position, and for the best-explained cells a causal check. A
page reads it with `load` and `entry`, and computes the rest from the weights: `writes`,
`drivers`, `steer`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..causal.intervene import effect
from ..core.edits import Clamp
from ..core.kernel import GATES_OF
from ..core.vocab import normalise
from ..io import checkpoint
from ..train.data import held_out, sha256
from . import explainer as E
from . import hypotheses as Hy

FORMAT = "lstm-viz-explain/1"
FILE = "explain.json"
RELATED = 10  # most correlated cells kept per cell
CAUSAL_CELLS = 50  # best-explained cells given the causal check
PASSAGE = 10_000  # characters of held-out text the causal check and the low / high values use
LOW_HIGH = (1, 99)  # percentiles of raw c taken as a cell's low and high value
DEFINITIONS = {
    "score": "the cell's match with its label (lstm_viz.find.match) on held-out text: tanh(c) ~ w . hypotheses + b "
    "fitted by least squares on the first half of the text; score = Pearson r of the simulation with tanh(c) "
    "on the second half",
    "label": "the hypothesis (or pair, joined by +) that fits best on the first half; a pair only when its "
    f"multiple correlation there beats the best single one by {E.PAIR_GAIN}",
    "runner_up": "the next best single hypothesis on the first half, scored the same way",
    "fit": "|r| (or the pair's multiple R) on the first half",
    "sign": "+1: the cell rises with the (first) hypothesis; -1: it falls",
    "about": "the characters whose prediction the label is about (closer, counted character...); '' = all",
    "histogram": f"characters in each of {E.BINS} equal bins of tanh(c) from -1 to 1, per mille",
    "snippet": "[start in the scored text, index of the activating character in the snippet, tanh(c) there, "
    "text, tanh(c) of every character x 100]",
    "quantiles": f"snippets at the quantiles {list(E.QUANTILES)} of tanh(c) over {E.SAMPLES} positions "
    "sampled from the text (the nearest sample)",
    "h_rms": "root mean square of h_t over the text: the cell's typical output",
    "c_low/c_high": f"percentiles {LOW_HIGH[0]} and {LOW_HIGH[1]} of the memory the causal check clamps (an "
    "LSTM's raw cell state c_t, a GRU's or RNN's h_t) on the causal passage",
    "related": f"the {RELATED} cells of largest |Pearson r| with this one over the whole text: [layer, cell, r]",
    "map": "the cell's loadings on the first two principal components of the correlation matrix of the cells "
    "that vary (null for a constant one)",
    "causal": "mean log p of the next character where it is one the label is about ('' = every position) on "
    "the causal passage: plain, with the cell clamped to c_low and to c_high over the whole passage, "
    "and the changes (nats)",
}


def related_and_map(cross, y, yy, n) -> tuple[np.ndarray, np.ndarray]:
    """(related (C, RELATED, 2) indices and r, map (C, 2)) from the sums over all characters."""
    mean = y / n
    cov = cross / n - np.outer(mean, mean)
    sd = np.sqrt(np.maximum(np.diagonal(cov), 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(np.outer(sd, sd) > 1e-12, cov / np.outer(sd, sd), 0.0)
    np.fill_diagonal(r, 0.0)
    k = min(RELATED, len(r) - 1)
    top = np.argsort(-np.abs(r), axis=1, kind="stable")[:, :k]
    np.fill_diagonal(r, np.where(sd > 0, 1.0, 0.0))
    # The map places the cells that vary: cells all but constant move together in their tiny
    # wobbles and would take the first component for themselves, leaving the rest on one line.
    # (Whether a cell varies is read from its sums of squares, in float64 like the record's sd: the
    # diagonal of `cross`, summed from float32 products, is too coarse for the all but constant.)
    varies = np.flatnonzero(yy / n - mean**2 > E.CELL_VARIES)
    pcs = np.full((len(r), 2), np.nan)
    if len(varies):
        vals, vecs = np.linalg.eigh(r[np.ix_(varies, varies)])  # ascending
        pcs[varies, : min(2, len(varies))] = vecs[:, ::-1][:, :2] * np.sqrt(np.maximum(vals[::-1][:2], 0))
    return np.stack([top, np.take_along_axis(r, top, axis=1)], axis=2), pcs


def low_high(model, passage: str) -> np.ndarray:
    """(L, H, 2) percentiles LOW_HIGH of each cell's raw memory over `passage` (`Trace.raw_memory`:
    an LSTM's c_t, a GRU's or RNN's h_t), the values a clamp holds it at."""
    tr = model.trace(passage)
    return np.stack([np.percentile(tr.raw_memory(layer), LOW_HIGH, axis=0).T for layer in range(model.config.layers)])


def causal_check(model, passage: str, warm: int, cells: pd.DataFrame, limits: np.ndarray) -> list[dict]:
    """For each row of `cells` (layer, cell, about): mean log p of the characters it is about
    after position `warm` of the passage, plain and with the cell clamped to its low and high."""
    base = model.trace(passage)
    nxt = np.array(list(passage[1:]) + [""], dtype=object)
    scored = np.arange(len(passage)) >= warm
    out = []
    for row in cells.itertuples():
        targets = scored & (np.isin(nxt, list(row.about)) if row.about else np.ones(len(passage), bool))
        targets &= np.isfinite(base.loss_per_char)
        plain = float(-base.loss_per_char[targets].mean()) if targets.any() else float("nan")
        result = {
            "layer": int(row.layer),
            "cell": int(row.cell),
            "about": row.about,
            "targets": int(targets.sum()),
            "plain": round(plain, 4),
        }
        for name, value in zip(("low", "high"), limits[row.layer, row.cell]):
            eff = effect(model, passage, [Clamp(int(row.layer), int(row.cell), float(value))], base=base)
            after = float(-eff.after.loss_per_char[targets].mean()) if targets.any() else float("nan")
            result[name] = round(after, 4)
            result[f"change_{name}"] = round(after - plain, 4)
        out.append(result)
    return out


def snippets(text: str, values, positions, starts, windows, count: int, gap: int) -> list:
    """Up to `count` snippets of one cell from candidates (best first), at least `gap` apart; the
    padding of merged candidates (value +-inf) is skipped."""
    out, picked = [], []
    for v, p, s, w in zip(values, positions, starts, windows):
        if np.isfinite(v) and all(abs(p - q) >= gap for q in picked):
            picked.append(p)
            out.append([int(s), int(p - s), round(float(v), 3), text[s : s + len(w)], [int(x) for x in w]])
            if len(out) == count:
                break
    return out


@E.in_process_group
def build(
    model,
    text: str,
    warm: int = 0,
    segment: int = E.SEGMENT,
    warmup: int = E.WARMUP,
    progress: bool = True,
    batch: int = E.BATCH,
    causal_cells: int = CAUSAL_CELLS,
) -> dict | None:
    """The explanation record of every cell of `model` on `text` (the first `warm` characters only
    warm the state). Under torchrun the processes share the statistics pass and the causal check,
    and process 0 returns the record (the others None)."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    text = normalise(text)
    L, H = model.config.layers, model.config.hidden
    rows = np.arange(L * H)
    family = Hy.generate(text[warm:], model.vocab.chars)
    values = Hy.Values.of(family, text)
    sums, page = E.collect(model, text, values, rows, warm, segment, warmup, pages=True, progress=progress, batch=batch)
    table = E.score_table(E.Moments.of(sums), values.family, rows, H)
    stats_s, stats_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    n_all = float(sums.n.sum())
    y_all = sums.y.sum(0).cpu().numpy()
    yy_all = sums.yy.sum(0).cpu().numpy()
    half = warm + (len(text) - warm) // 2
    first = max(warm, half - warmup)
    passage_warm = half - first
    passage = text[first : half + PASSAGE]
    limits = low_high(model, passage[passage_warm:])
    best = table.dropna(subset=["score"]).head(causal_cells)
    rank, size = E.world()
    found = causal_check(model, passage, passage_warm, best.iloc[rank::size], limits)
    if size > 1:
        shares = [None] * size
        torch.distributed.all_gather_object(shares, found)
        found = [c for share in shares for c in share]
    if rank != 0:
        return None
    causal = {(c["layer"], c["cell"]): c for c in found}
    related, layout = related_and_map(page.cross.cpu().numpy(), y_all, yy_all, n_all)
    samples = page.sample_values.cpu().numpy()  # (C, P)
    levels = np.quantile(samples, E.QUANTILES, axis=1)  # (Q, C)
    nearest = np.abs(samples[None] - levels[:, :, None]).argmin(axis=2)  # (Q, C)
    sample_starts = page.sample_starts.cpu().numpy()
    sample_windows = page.sample_windows.cpu().numpy()
    hist = page.hist.cpu().numpy()
    h_rms = np.sqrt(page.hh.cpu().numpy() / n_all)
    mean, var = y_all / n_all, np.maximum(yy_all / n_all - (y_all / n_all) ** 2, 0)
    by_row = table.set_index(table.layer * H + table.cell)
    cells = []
    for r in rows:
        layer, cell = int(r // H), int(r % H)
        row = by_row.loc[r]
        entry = {
            "layer": layer,
            "cell": cell,
            "label": row.label,
            "key": row.key,
            "score": rounded(row.score),
            "runner_up": row.runner_up,
            "runner_up_key": row.runner_up_key,
            "runner_up_score": rounded(row.runner_up_score),
            "about": row.about,
            "sign": int(row.sign),
            "fit": rounded(row.fit),
            "pair": bool(row.pair),
            "mean": rounded(mean[r]),
            "sd": rounded(np.sqrt(var[r])),
            "h_rms": rounded(h_rms[r]),
            "c_low": rounded(limits[layer, cell, 0]),
            "c_high": rounded(limits[layer, cell, 1]),
            "histogram": np.rint(hist[r] * 1000 / max(n_all, 1)).astype(int).tolist(),
            "top": snippets(text, *(a[r] for a in page.peaks["top"]), E.SNIPPETS, page.width),
            "bottom": snippets(text, *(a[r] for a in page.peaks["bottom"]), E.SNIPPETS, page.width),
            "quantiles": [
                [
                    int(sample_starts[j] - warm),
                    int(page.samples[j] - sample_starts[j]),
                    round(float(samples[r, j]), 3),
                    text[sample_starts[j] : sample_starts[j] + page.width],
                    sample_windows[r, j].tolist(),
                ]
                for j in nearest[:, r]
            ],
            "related": [[int(j // H), int(j % H), rounded(v)] for j, v in related[r]],
            "map": [rounded(v) for v in layout[r]] if np.isfinite(layout[r]).all() else None,
            "causal": causal.get((layer, cell)),
        }
        for kind in ("top", "bottom"):
            for s in entry[kind]:
                s[0] -= warm
        cells.append(entry)
    return {
        "format": FORMAT,
        "layers": L,
        "cells_per_layer": H,
        "chars": len(text) - warm,
        "segment": segment,
        "batch": batch,
        "warmup": warmup,
        "definitions": DEFINITIONS,
        "quantiles": list(E.QUANTILES),
        "family": [[h.key, h.label, h.about] for h in values.family],
        "causal_passage": {"start": half - warm, "chars": len(passage) - passage_warm},
        "coverage": coverage(table),
        "seconds": {
            "statistics": round(stats_s, 1),
            "statistics_cpu": round(stats_cpu, 1),
            "total": round(time.perf_counter() - t0, 1),
        },
        "cells": cells,
    }


def rounded(v, digits: int = 4):
    v = float(v)
    return round(v, digits) if np.isfinite(v) else None


def coverage(table: pd.DataFrame) -> list[dict]:
    """Per layer: cells, constant cells (no score), the share of all cells with score >= 0.5, 0.7
    and 0.9 (constant ones count as below), and the median score of the cells that vary."""
    out = []
    for layer, part in table.groupby("layer"):
        s = part.score.fillna(-1)
        out.append(
            {
                "layer": int(layer),
                "cells": len(part),
                "constant": int(part.score.isna().sum()),
                **{f">={t}": round(float((s >= t).mean()), 4) for t in (0.5, 0.7, 0.9)},
                "median": round(float(part.score.median()), 4),
            }
        )
    return out


def build_for_corpus(
    name_or_path,
    corpus,
    max_chars: int | None = None,
    split: str = "test",
    segment: int = E.SEGMENT,
    progress: bool = True,
    batch: int = E.BATCH,
    causal_cells: int = CAUSAL_CELLS,
) -> tuple[Path, dict | None]:
    """(model folder, record) on up to `max_chars` (all if None) of a held-out split of `corpus`;
    under torchrun the record is None but in process 0."""
    folder = checkpoint.resolve(name_or_path)
    model = checkpoint.load(folder)
    if torch.cuda.is_available():
        model = model.to(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
    text, start, warm = held_out(corpus, max_chars or 10**12, split)
    record = build(model, text, warm, segment, progress=progress, batch=batch, causal_cells=causal_cells)
    if record is None:
        return folder, None
    record.update(provenance(folder, model, corpus, split, start, len(text) - warm, warm))
    record["processes"] = int(os.environ.get("WORLD_SIZE", "1"))
    return folder, record


def weights_sha256(folder) -> str:
    return hashlib.sha256((Path(folder) / checkpoint.WEIGHTS).read_bytes()).hexdigest()


def provenance(folder, model, corpus, split: str, start: int, chars: int, warm: int) -> dict:
    """{"model", "corpus"}: the weights and the held-out characters [start, start + chars) of a
    corpus split (after `warm` characters of warm-up) that the record was built from."""
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


def write(folder, record: dict) -> Path:
    """Save `record` as compact JSON into a model folder (atomically); returns the file."""
    path = Path(folder) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load(model_folder) -> dict | None:
    """The explanation record of a model folder (or shipped model name); None if it has none.

    The dict gains "stale": True when the weights changed since it was built. A file that is
    not an explanation record raises ValueError.
    """
    folder = checkpoint.resolve(model_folder)
    path = folder / FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file")
    recorded = record.get("model", {}).get("weights_sha256")
    weights = folder / checkpoint.WEIGHTS
    record["stale"] = bool(recorded) and weights.is_file() and recorded != weights_sha256(folder)
    return record


def table(record: dict) -> pd.DataFrame:
    """The record as `lstm_viz.explain`'s DataFrame (best score first), with the causal changes."""
    rows = [
        {
            k: c[k]
            for k in (
                "layer",
                "cell",
                "label",
                "score",
                "runner_up",
                "runner_up_score",
                "key",
                "runner_up_key",
                "about",
                "sign",
                "fit",
                "pair",
            )
        }
        | {"change_low": (c["causal"] or {}).get("change_low"), "change_high": (c["causal"] or {}).get("change_high")}
        for c in record["cells"]
    ]
    frame = pd.DataFrame(rows).astype(
        {"score": float, "runner_up_score": float, "change_low": float, "change_high": float}
    )
    return frame.sort_values("score", ascending=False, kind="stable", na_position="last").reset_index(drop=True)


def entry(record: dict, layer: int, cell: int) -> dict:
    """One cell's entry; a ValueError of one line for a cell the model does not have."""
    L, H = record["layers"], record["cells_per_layer"]
    if not (0 <= layer < L and 0 <= cell < H):
        raise ValueError(f"no cell {cell} in layer {layer}: the model has {L} layers of {H} cells (from 0)")
    return record["cells"][layer * H + cell]


def search(record: dict, words: str) -> pd.DataFrame:
    """Cells whose label holds every word of `words` (case-insensitive), best score first."""
    found = table(record)
    for word in words.lower().split():
        found = found[found.label.str.lower().str.contains(word, regex=False)]
    return found.reset_index(drop=True)


def h_rms(record: dict) -> np.ndarray:
    """(L, H) typical |h| of every cell (0 where unknown)."""
    return np.array([c["h_rms"] or 0.0 for c in record["cells"]]).reshape(record["layers"], record["cells_per_layer"])


@torch.no_grad()
def writes(model, record: dict, layer: int, cell: int, k: int = 8) -> dict:
    """What the cell writes at its typical h (its RMS; the signs flip when h is negative).

    Last layer: the characters whose next-character logits it raises and lowers most (its column
    of the output weights times typical h): {"raises": [(char, logit)], "lowers": [...]}. Earlier
    layers: the next layer's cells it feeds most, |weight| x typical h summed over the kind's
    gates (`weight_blocks`): {"feeds": [(cell, amount, {gate: weight x h})]}.
    """
    typical = h_rms(record)[layer, cell]
    L, H = model.config.layers, model.config.hidden
    if layer == L - 1:
        push = model.head.weight[:, cell].cpu().numpy() * typical  # (V,)
        order = np.argsort(push)
        name = model.vocab.symbol
        return {
            "raises": [(name(int(i)), float(push[i])) for i in order[::-1][:k]],
            "lowers": [(name(int(i)), float(push[i])) for i in order[:k]],
        }
    blocks = weight_blocks(model.kind)
    w = model.layer_weights(layer + 1)[0][:, cell].cpu().numpy().reshape(len(blocks), H) * typical  # (gate, next cell)
    amount = np.abs(w).sum(axis=0)
    return {
        "feeds": [(int(j), float(amount[j]), dict(zip(blocks, map(float, w[:, j])))) for j in np.argsort(-amount)[:k]]
    }


def weight_blocks(kind: str) -> tuple[str, ...]:
    """The blocks of rows of a layer's weights, in order: an LSTM's and a GRU's gates; an RNN's one
    block, its state itself ("state")."""
    return GATES_OF[kind] or ("state",)


@torch.no_grad()
def drivers(model, record: dict, layer: int, cell: int, k: int = 8) -> list[tuple]:
    """The inputs that drive the cell's gates most: |weight| x typical activation, summed over the
    kind's gates (`weight_blocks`), best first: (source, index, amount, {gate: weight x activation}). source is
    "layer L" (the same layer's h at t - 1, or the layer below's h at t) or "character" (layer 0's
    input: the character's embedding through the input weights)."""
    H = model.config.hidden
    typical = h_rms(record)
    blocks = weight_blocks(model.kind)
    gates = np.arange(len(blocks)) * H + cell
    w_ih, w_hh = (w.cpu().numpy() for w in model.layer_weights(layer)[:2])
    found = [(f"layer {layer}", j, w_hh[gates, j] * typical[layer, j]) for j in range(H)]
    if layer > 0:
        found += [(f"layer {layer - 1}", j, w_ih[gates, j] * typical[layer - 1, j]) for j in range(H)]
    else:
        push = model.embedding.weight.cpu().numpy() @ w_ih[gates].T  # (V, G)
        found += [("character", model.vocab.symbol(v), push[v]) for v in range(1, len(push))]
    found.sort(key=lambda f: -np.abs(f[2]).sum())
    return [(s, j, float(np.abs(g).sum()), dict(zip(blocks, map(float, g)))) for s, j, g in found[:k]]


def steer(
    model,
    prime: str,
    layer: int,
    cell: int,
    low: float,
    high: float,
    n: int = 200,
    temperature: float = 0.8,
    seed: int = 0,
) -> dict:
    """{"plain", "low", "high"}: `n` characters after `prime` with the cell's memory (an LSTM's raw
    c, a GRU's or RNN's h) held at `low` and at `high` over the prime and the whole generation, and
    with no edit, all from one seed."""
    prime = normalise(prime) or "\n"
    return {
        "plain": model.sample(prime, n, temperature, seed),
        **{
            name: model.sample(prime, n, temperature, seed, interventions=[Clamp(layer, cell, value)])
            for name, value in (("low", low), ("high", high))
        },
    }
