"""Ranking cells against hypotheses, and LSTMVis-style pattern search from a marked span.

Cells are ranked by their match with the hypothesis on the text (`lstm_viz.find.match`: |Pearson r|
of the cell with the hypothesis, a binary one taken as 0 and 1), sign = +1 when the cell rises
with it. Beside it, for the details: a binary hypothesis's ROC AUC (the Mann-Whitney U of each
cell's values inside versus outside, from exact average ranks, ties counting one half) and the
means inside and outside; a count hypothesis's Spearman rho. Every cell of every layer is ranked at
once, a block of cells at a time, so memory beyond the activations themselves stays small.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core import features, kernel
from ..core.checks import check_choice
from ..core.vocab import normalise
from .match import match

BLOCK_ELEMENTS = 1 << 18  # characters x cells ranked together: 2 MB float64 temporaries stay in cache


@dataclass
class Activations:
    """One signal of every layer over a text, aligned with it character by character."""

    text: str
    values: np.ndarray  # (L, T, H) float32
    signal: str = "cell"

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.values.shape


def check_signal(signal: str, kind: str | None = None) -> str:
    """`signal` if a model of `kind` gives it (any kind's if None: cell, hidden or a gate); a
    ValueError of one line otherwise."""
    return check_choice("signal", signal, kernel.ALL_SIGNALS) if kind is None else kernel.check_signal(signal, kind)


def all_layers(trace, signal: str) -> np.ndarray:
    """(L, T, H) values of `signal` in one Trace, through `Trace.signal`."""
    return np.stack([trace.signal(signal, layer) for layer in range(trace.shape[0])])


def activations(source, signal: str = "cell") -> Activations:
    """Activations from a Trace, an Activations, or consecutive pieces of one text: a list of
    Traces or the (start, Trace) pairs of `trace_chunks` (only `signal` is kept of each piece).
    `signal` is one the traces' kind gives (`Trace.signals`)."""
    check_signal(signal, getattr(source, "kind", None))
    if isinstance(source, Activations):
        if source.signal != signal:
            raise ValueError(f"these activations hold {source.signal!r}, not {signal!r}")
        return source
    if hasattr(source, "cell"):
        return Activations(source.text, all_layers(source, signal), signal)
    texts, parts = [], []
    for piece in source:
        piece = piece[1] if isinstance(piece, tuple) else piece
        texts.append(piece.text)
        parts.append(all_layers(piece, signal))
    if not parts:
        raise ValueError("no traces given")
    return Activations("".join(texts), np.concatenate(parts, axis=1), signal)


def trace_activations(model, text: str, signal: str = "cell", chunk: int = 10_000) -> Activations:
    """Trace a long text piece by piece, keeping only `signal`: memory is one (L, T, H) array
    plus one piece's trace."""
    check_signal(signal, model.kind)
    text = normalise(text)
    values = np.empty((model.config.layers, len(text), model.config.hidden), dtype=np.float32)  # (L, T, H)
    for start, piece in model.trace_chunks(text, chunk):
        values[:, start : start + len(piece.text)] = all_layers(piece, signal)
    return Activations(text, values, signal)


INDEX_BITS = 29  # a float32 widened to float64 leaves the low 29 bits of the mantissa zero


def sort_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, values) (B, T): argsort of each row of x (B, T) taken at float32 precision, and
    an int64 per sorted position that is equal exactly where the float32 values are.

    Each value is widened to float64 with its index in the spare low mantissa bits, which keeps
    the order of distinct values, so one plain (SIMD) sort gives both the order and the values,
    faster than np.argsort and a separate sort.
    """
    B, T = x.shape
    if T >= 1 << INDEX_BITS:
        raise ValueError(f"cannot rank {T:,} characters at once (at most {(1 << INDEX_BITS) - 1:,})")
    wide = (x.astype(np.float32) + np.float32(0)).astype(np.float64)  # + 0 turns -0.0 into 0.0
    keys = np.sort((wide.view(np.int64) | np.arange(T)).view(np.float64), axis=1).view(np.int64)
    return keys & ((1 << INDEX_BITS) - 1), keys >> INDEX_BITS


def average_ranks(x: np.ndarray) -> np.ndarray:
    """(B, T) float64 ranks 1..T of each row of x (B, T), ties sharing their average rank."""
    B, T = x.shape
    order, values = sort_rows(x)
    new = np.ones((B, T), dtype=bool)
    new[:, 1:] = values[:, 1:] != values[:, :-1]  # first of a run of equal values in its row
    starts = np.flatnonzero(new)  # (G,) runs, in row-major order
    sizes = np.diff(starts, append=B * T)
    ranked = np.repeat(starts % T + (sizes + 1) / 2, sizes)  # (B*T,) rank of each sorted value
    ranks = np.empty(B * T, dtype=np.float64)
    ranks[(order + np.arange(0, B * T, T)[:, None]).ravel()] = ranked
    return ranks.reshape(B, T)


def centred_norms(x: np.ndarray) -> np.ndarray:
    """(B,) norms of the rows of x (B, T) after subtracting their means, in float64."""
    total = x.sum(axis=1, dtype=np.float64)
    squares = np.einsum("bt,bt->b", x, x, dtype=np.float64)
    return np.sqrt(np.maximum(squares - total**2 / x.shape[1], 0))


def standardise(x: np.ndarray) -> np.ndarray:
    """Rows of x (B, T) centred and scaled to unit norm (constant rows become zero), in float64."""
    x = x - x.mean(axis=1, keepdims=True, dtype=np.float64)
    norm = np.sqrt(np.einsum("bt,bt->b", x, x))[:, None]
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def correlate(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(B, F) Pearson r of the rows of x (B, T) with standardised hypotheses z (F, T).

    z sums to zero, so x needs no centring: r = x . z / |x - mean x| (0 for a constant row).
    """
    norms = centred_norms(x)[:, None]
    dots = x.astype(np.float64) @ z.T if x.dtype != np.float64 else x @ z.T
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 1e-12 * np.sqrt(x.shape[1]))


@dataclass
class Table:
    """The hypotheses' table on one text, prepared once for ranking many blocks of cells."""

    binary: list  # names
    count: list
    masks: np.ndarray  # (Fb, T) float64, 1 inside
    n_in: np.ndarray  # (Fb,)
    binary_z: np.ndarray  # (Fb, T) standardised masks
    pearson: np.ndarray  # (Fc, T) standardised counts
    spearman: np.ndarray  # (Fc, T) standardised ranks of the counts

    @classmethod
    def prepare(cls, feats: dict, kinds: dict) -> Table:
        binary = [n for n in feats if kinds[n] == features.BINARY]
        count = [n for n in feats if kinds[n] == features.COUNT]
        T = len(next(iter(feats.values())))
        masks = np.array([feats[n] for n in binary], dtype=np.float64).reshape(-1, T)
        counts = np.array([feats[n] for n in count], dtype=np.float64).reshape(-1, T)
        return cls(
            binary,
            count,
            masks,
            masks.sum(axis=1),
            standardise(masks),
            standardise(counts),
            standardise(average_ranks(counts)) if len(count) else counts,
        )

    def score_block(self, x: np.ndarray) -> dict:
        """Statistics of the cells x (B, T) float32: name -> {statistic: (B,)}."""
        T = x.shape[1]
        ranks = average_ranks(x)  # (B, T), shared by every hypothesis
        out = {}
        if self.binary:
            n1, n0 = self.n_in, T - self.n_in
            with np.errstate(invalid="ignore", divide="ignore"):
                auc = (ranks @ self.masks.T - n1 * (n1 + 1) / 2) / (n1 * n0)  # (B, Fb)
                sum_in = x.astype(np.float64) @ self.masks.T
                mean_in, mean_out = sum_in / n1, (x.sum(axis=1, dtype=np.float64)[:, None] - sum_in) / n0
            r = correlate(x, self.binary_z)  # (B, Fb)
            for j, name in enumerate(self.binary):
                out[name] = {"pearson": r[:, j], "auc": auc[:, j], "mean_in": mean_in[:, j], "mean_out": mean_out[:, j]}
        if self.count:
            r = correlate(x, self.pearson)  # (B, Fc)
            rho = correlate(ranks, self.spearman)
            for j, name in enumerate(self.count):
                out[name] = {"pearson": r[:, j], "spearman": rho[:, j]}
        return out


def hypothesis_kind(values: np.ndarray) -> str:
    """binary for bool arrays and arrays of only 0 and 1; count otherwise."""
    return features.BINARY if values.dtype == bool or np.isin(values, (0, 1)).all() else features.COUNT


@dataclass
class Scores:
    """How well every cell of every layer matches one hypothesis."""

    kind: str  # binary or count
    match: np.ndarray  # (L, H) `lstm_viz.find.match` on this text: |Pearson r|; all NaN for a constant hypothesis
    sign: np.ndarray  # (L, H) +1: the cell rises with the hypothesis (is higher inside); -1: the opposite
    raw: dict  # (L, H) arrays: pearson, auc, mean_in, mean_out (binary) or pearson, spearman (count)

    @classmethod
    def fold(cls, kind: str, raw: dict) -> Scores:
        r = raw["pearson"]
        return cls(kind, match(r, r), np.where(r >= 0, 1, -1), raw)

    def table(self, top: int | None = None) -> pd.DataFrame:
        """One row per cell, best first: layer, cell, match, sign and the raw statistics."""
        L, H = self.match.shape
        table = pd.DataFrame(
            {
                "layer": np.repeat(np.arange(L), H),
                "cell": np.tile(np.arange(H), L),
                "match": self.match.ravel(),
                "sign": self.sign.ravel(),
                **{k: v.ravel() for k, v in self.raw.items()},
            }
        )
        table = table.sort_values("match", ascending=False, kind="stable").reset_index(drop=True)
        return table if top is None else table.head(top)


def score_all(acts: Activations, feats: dict, kinds: dict | None = None) -> dict[str, Scores]:
    """Scores of every cell for every hypothesis in `feats` (name -> (T,) array aligned with the text).

    `kinds` (binary or count) defaults to the registry's kind for registered names and to
    `hypothesis_kind` for others. Blocks of cells are ranked on all cores in parallel, and each
    block's ranks serve every hypothesis at once.
    """
    L, T, H = acts.shape
    if T == 0:
        raise ValueError("the text is empty: nothing to rank cells on")
    for name, v in feats.items():
        if np.shape(v) != (T,):
            raise ValueError(f"hypothesis {name!r} has shape {np.shape(v)}; the text has {T} characters")
    kinds = {
        n: (kinds or {}).get(n)
        or (features.FEATURES[n].kind if n in features.FEATURES else hypothesis_kind(np.asarray(v)))
        for n, v in feats.items()
    }
    for name, kind in kinds.items():
        if kind not in (features.BINARY, features.COUNT):
            raise ValueError(f"kind of {name!r} must be {features.BINARY} or {features.COUNT}, not {kind!r}")
    table = Table.prepare(feats, kinds)
    B = max(1, min(H, BLOCK_ELEMENTS // T))
    blocks = [(layer, j) for layer in range(L) for j in range(0, H, B)]

    def run(block):
        layer, j = block
        return table.score_block(np.ascontiguousarray(acts.values[layer, :, j : j + B].T))

    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:  # numpy sorts release the GIL
        results = list(pool.map(run, blocks))
    scores = {}
    for name, values in feats.items():
        constant = np.ptp(np.asarray(values, dtype=np.float64)) == 0
        raw = {
            key: np.full((L, H), np.nan)
            if constant
            else np.concatenate([part[name][key] for part in results]).reshape(L, H)
            for key in results[0][name]
        }
        scores[name] = Scores.fold(kinds[name], raw)
    return scores


def find_cells(
    source, hypothesis, signal: str = "cell", top: int | None = 20, regex: str | None = None, kind: str | None = None
) -> pd.DataFrame:
    """The `top` cells (all if None) best explained by `hypothesis`, best first.

    source: a Trace, Activations, or the pieces of one text (see `activations`). hypothesis: a
    registered name (`regex` with a pattern) or a (T,) array aligned with the text, named
    "custom", whose kind is inferred unless given. Columns: layer, cell, match, sign, pearson,
    then auc, mean_in, mean_out (binary) or spearman (count).
    """
    if top is not None and top < 1:
        raise ValueError(f"top must be at least 1, not {top}")
    acts = activations(source, signal)
    name, values = (
        (hypothesis, features.compute(hypothesis, acts.text, regex))
        if isinstance(hypothesis, str)
        else ("custom", np.asarray(hypothesis))
    )
    scores = score_all(acts, {name: values}, {name: kind} if kind else None)[name]
    if np.isnan(scores.match).all():
        raise ValueError(
            f"hypothesis {name!r} is constant on this text ({len(acts.text):,} characters): "
            "nothing to rank cells against"
        )
    return scores.table(top)


def best_matches(source, names, signal: str = "cell") -> dict[str, dict | None]:
    """For each registered hypothesis in `names`, the cell that follows it best on the text:
    {"layer", "cell", "match", "sign"} (the `lstm_viz.find.match`, as `find_cells` ranks by), or None
    where the hypothesis is constant on the text (say, a text without quotes).

    Only Pearson r is computed (no ranks), in float32 (within 1e-4 of `find_cells`' float64): a
    few milliseconds for 2,000 characters and 1,024 cells, so it can run on every text pasted.
    """
    acts = activations(source, signal)
    L, T, H = acts.shape
    feats = {name: np.asarray(features.compute(name, acts.text), dtype=np.float64) for name in names}
    varying = [name for name, v in feats.items() if T and np.ptp(v) > 0]
    out: dict[str, dict | None] = {name: None for name in names}
    if not varying:
        return out
    z = standardise(np.stack([feats[name] for name in varying])).astype(np.float32)  # (F, T), sums to 0
    r = np.empty((L, H, len(varying)))
    for layer in range(L):
        x = acts.values[layer]  # (T, H)
        norms = np.sqrt(np.einsum("th,th->h", centred := x - x.mean(axis=0), centred))  # (H,)
        dots = np.einsum("ft,th->hf", z, x)  # z sums to zero, so x needs no centring; no BLAS thread pool
        r[layer] = np.divide(dots, norms[:, None], out=np.zeros(dots.shape), where=norms[:, None] > 1e-6 * np.sqrt(T))
    strength = match(r, r)
    for j, name in enumerate(varying):
        best = int(np.argmax(np.nan_to_num(strength[:, :, j], nan=-1.0)))
        layer, cell = divmod(best, H)
        out[name] = {
            "layer": layer,
            "cell": cell,
            "match": float(strength[layer, cell, j]),
            "sign": 1 if r[layer, cell, j] >= 0 else -1,
        }
    return out


def span_cells(
    source, start: int, end: int, signal: str = "cell", window: int = 40, top: int | None = 10
) -> pd.DataFrame:
    """Cells that are on inside the marked span [start, end) and off around it, best first.

    contrast = mean inside the span - mean over up to `window` characters on each side of it;
    score = |contrast| and sign its sign (a sign of -1 marks a cell that is low inside).
    threshold, halfway between the two means, says when the cell counts as on (see
    `pattern_matches`). Columns: layer, cell, score, sign, inside, around, contrast, threshold.
    """
    acts = activations(source, signal)
    L, T, H = acts.shape
    if not 0 <= start < end <= T:
        raise ValueError(f"span [{start}, {end}) is not a non-empty part of the text (0 to {T})")
    if window < 1:
        raise ValueError(f"window must be at least 1, not {window}")
    lo, hi = max(0, start - window), min(T, end + window)
    if lo == start and hi == end:
        raise ValueError("the span covers the whole text: there is nothing around it to compare with")
    inside = acts.values[:, start:end].mean(axis=1, dtype=np.float64)  # (L, H)
    around = (
        acts.values[:, lo:start].sum(axis=1, dtype=np.float64) + acts.values[:, end:hi].sum(axis=1, dtype=np.float64)
    ) / (start - lo + hi - end)
    contrast = inside - around
    table = pd.DataFrame(
        {
            "layer": np.repeat(np.arange(L), H),
            "cell": np.tile(np.arange(H), L),
            "score": np.abs(contrast).ravel(),
            "sign": np.where(contrast >= 0, 1, -1).ravel(),
            "inside": inside.ravel(),
            "around": around.ravel(),
            "contrast": contrast.ravel(),
            "threshold": ((inside + around) / 2).ravel(),
        }
    )
    table = table.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    return table if top is None else table.head(top)


def pattern_matches(
    source, cells: pd.DataFrame, signal: str = "cell", agree: float = 1.0, min_length: int = 1
) -> pd.DataFrame:
    """Places where the chosen cells are on together, best first.

    cells: rows with layer, cell, sign and threshold (as from `span_cells`). A cell is on at t
    when sign * (value - threshold) > 0; a match is a maximal run of characters where at least a
    fraction `agree` of the cells is on, at least `min_length` long. Its score is the mean of
    sign * (value - threshold) over the run and the cells. Columns: start, end (exclusive),
    length, score, text.
    """
    if cells.empty:
        raise ValueError("no cells chosen")
    if not 0 < agree <= 1:
        raise ValueError(f"agree must be in (0, 1], not {agree}")
    acts = activations(source, signal)
    layer, cell = cells["layer"].to_numpy(), cells["cell"].to_numpy()
    margin = (acts.values[layer, :, cell].astype(np.float64) - cells["threshold"].to_numpy()[:, None]) * cells[
        "sign"
    ].to_numpy()[:, None]  # (K, T)
    on = (margin > 0).mean(axis=0) >= agree - 1e-9  # (T,)
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = ends - starts >= min_length
    starts, ends = starts[keep], ends[keep]
    sums = np.concatenate([[0], np.cumsum(margin.mean(axis=0))])
    table = pd.DataFrame(
        {
            "start": starts,
            "end": ends,
            "length": ends - starts,
            "score": (sums[ends] - sums[starts]) / np.maximum(ends - starts, 1),
            "text": [acts.text[a:b] for a, b in zip(starts, ends)],
        }
    )
    return table.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
