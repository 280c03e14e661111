"""Every cell explained: the generated family of hypotheses scored for all cells at once.

What the score is: the cell's match with its label (`lstm_viz.find.match`) on held-out text. The
scored text is cut in two halves. A hypothesis z becomes a simulation of a cell's tanh(c) y,
y ~ w z + b, fitted by least squares on the first half; the score is the Pearson correlation of
the simulation with y on the second half (1 = perfect, <= 0 = no use), as in automated
neuron-explanation work. For one hypothesis this is `match(r_1, r_2)` =
sign(cov_1(z, y)) * corr_2(z, y). For a pair (z_a, z_b) combined linearly, w = S_1^-1 c_1 (S the
2 x 2 covariance of the pair, c their covariances with y, on the first half), and the score is
w.c_2 / sqrt(w' S_2 w var_2(y)) on the second. All of it follows from per-half sums (n, sum z,
sum z z', sum y, sum y^2, sum y z'), which are accumulated chunk by chunk as float64 matrix products
for every cell and hypothesis at once, so a million characters fit in memory and shards add up.

What the label is. The hypothesis that fits best on the first half (largest |r_1|) labels the
cell; the runner-up is the next best single one. The best pair, searched among the PAIR_POOL
best singles each combined with every hypothesis, labels the cell instead when its multiple
correlation on the first half beats the best single one by PAIR_GAIN. Choosing on the first
half and scoring on the second keeps the choice among hundreds of hypotheses from flattering
the score.

Segments, blocks and shards. The scored text is cut into segments of about `segment`
characters, each traced from a zero state after the `warmup` (or one more) characters before it,
which are not scored. Consecutive segments form blocks of `batch`, and the segments of a block
run side by side through the fused kernel (`model.trace_batch`, several times faster on CPU than
one after another). A segment's activations depend only on its block, never on which process
traces it: `torchrun --nproc_per_node N -m lstm_viz explain` gives each process every N-th
block and all-reduces the sums (gloo on CPU, nccl on GPU), so the merged statistics are those
of a one-process run, up to the order of float64 additions.

The explanation record. `python -m lstm_viz explain` writes `explain.json` beside a model's
weights (`build_for_corpus`, `write`): per cell its label, held-out score and runner-up,
activation histogram, top, quantile and bottom snippets, typical h, its low and high raw c, the
most correlated cells, a 2-D cell map position, and for the best-explained cells a causal check
(`DEFINITIONS` says what each field holds). `lstm_viz.find.cellpage` reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..causal.intervene import effect
from ..core.edits import Clamp
from ..core.vocab import normalise
from ..io import checkpoint
from ..train.data import held_out, sha256
from . import hypotheses
from .match import match

SEGMENT = 5_000  # characters traced from a fresh state (after WARMUP characters before them)
WARMUP = 1_000
BATCH = 8  # segments traced side by side: a block, the unit of sharding
CHUNK = 8_192  # characters per matrix product
PAIR_POOL = 8  # best singles of each cell tried in pairs with every hypothesis
PAIR_GAIN = 0.05  # a pair must beat the best single by this much on the first half to label a cell
COLLINEAR = 1e-6  # pairs whose correlation squared exceeds 1 - COLLINEAR are skipped
VARIES = 1e-9  # a hypothesis (standardised over the whole text) with less variance on a half is constant there
CELL_VARIES = 1e-6  # a cell whose tanh(c) varies less on a half (sd 0.001) is constant: it gets no label
CONSTANT = "(constant: no label)"  # the label of such a cell
BINS = 20  # histogram bins of tanh(c) over [-1, 1]
SNIPPETS = 3  # top and bottom snippets per cell
WIDTH, BEFORE = 40, 30  # snippet width and characters before the activating one
SAMPLES = 512  # positions sampled for the quantile snippets
QUANTILES = (0.25, 0.5, 0.75)
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
    f"multiple correlation there beats the best single one by {PAIR_GAIN}",
    "runner_up": "the next best single hypothesis on the first half, scored the same way",
    "fit": "|r| (or the pair's multiple R) on the first half",
    "sign": "+1: the cell rises with the (first) hypothesis; -1: it falls",
    "about": "the characters whose prediction the label is about (closer, counted character...); '' = all",
    "histogram": f"characters in each of {BINS} equal bins of tanh(c) from -1 to 1, per mille",
    "snippet": "[start in the scored text, index of the activating character in the snippet, tanh(c) there, "
    "text, tanh(c) of every character x 100]",
    "quantiles": f"snippets at the quantiles {list(QUANTILES)} of tanh(c) over {SAMPLES} positions "
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


def segments(T: int, warm: int, segment: int = SEGMENT) -> list[tuple[int, int]]:
    """[start, stop) of the segments of the scored characters [warm, T): about `segment` long, the
    first ones one longer than the rest where the length does not divide evenly."""
    n = max(1, round((T - warm) / segment))
    q, r = divmod(T - warm, n)
    edges = warm + np.arange(n + 1) * q + np.minimum(np.arange(n + 1), r)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


@contextmanager
def process_group():
    """Inside: the torchrun process group, started here unless it already runs, and ended on
    leaving on every path (an exception included), so that no gloo or nccl thread outlives it
    into the interpreter's exit. Outside torchrun it does nothing."""
    owner = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.distributed.is_initialized()
    if owner:
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))  # where nccl's collectives run
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        yield
    finally:
        if owner:
            torch.distributed.destroy_process_group()


def in_process_group(fn):
    """`fn` run inside `process_group()`: the entry points that may run under torchrun."""

    @wraps(fn)
    def run(*args, **kwargs):
        with process_group():
            return fn(*args, **kwargs)

    return run


def world() -> tuple[int, int]:
    """(rank, processes) of the running process group; (0, 1) outside one."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def windows(parts: list[tuple[int, int]], warmup: int = WARMUP) -> list[tuple[int, int]]:
    """[first, stop) read for each segment [start, stop) of `parts`: the segment after `warmup`
    characters, or one more where segments are one shorter, so that every window is equally long
    (but where the text begins)."""
    longest = max(b - a for a, b in parts)
    return [(max(0, b - longest - warmup), b) for a, b in parts]


def trace_block(model, text: str, block: list, spans: list) -> list[tuple[np.ndarray, np.ndarray]]:
    """(memory, hidden), each (L, stop - start, H) float32, of each segment [start, stop) of `block`
    (`Trace.memory`: an LSTM's tanh(c), a GRU's or RNN's h),
    traced from a zero state over its window [first, stop) of `spans`; windows of one length run
    side by side (`model.trace_batch`)."""
    groups: dict[int, list[int]] = {}
    for i, (first, stop) in enumerate(spans):
        groups.setdefault(stop - first, []).append(i)
    out: list = [None] * len(block)
    for members in groups.values():
        traces = model.trace_batch([text[spans[i][0] : spans[i][1]] for i in members])
        for i, tr in zip(members, traces):
            skip = block[i][0] - spans[i][0]
            out[i] = (tr.memory[:, skip:], tr.hidden[:, skip:])
    return out


def flat(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(C, n) rows of values (L, n, H) flattened as layer * H + cell."""
    L, n, H = values.shape
    return np.ascontiguousarray(values.transpose(0, 2, 1).reshape(L * H, n)[rows])


@dataclass
class Sums:
    """Per-half sufficient statistics of C cells and F hypotheses (index 0: first half)."""

    n: torch.Tensor  # (2,)
    y: torch.Tensor  # (2, C) sum of tanh(c)
    yy: torch.Tensor  # (2, C)
    z: torch.Tensor  # (2, F)
    zz: torch.Tensor  # (2, F, F)
    yz: torch.Tensor  # (2, C, F)

    @classmethod
    def zeros(cls, C: int, F: int, device="cpu") -> Sums:
        z = partial_zeros(device)
        return cls(z(2), z(2, C), z(2, C), z(2, F), z(2, F, F), z(2, C, F))

    def add(self, half: int, y: torch.Tensor, z: torch.Tensor) -> None:
        """Add characters with cell values y (C, n) and standardised hypotheses z (F, n), float64."""
        self.n[half] += y.shape[1]
        self.y[half] += y.sum(1)
        self.yy[half] += (y * y).sum(1)
        self.z[half] += z.sum(1)
        self.zz[half] += z @ z.T
        self.yz[half] += y @ z.T

    def tensors(self) -> list:
        return [self.n, self.y, self.yy, self.z, self.zz, self.yz]


def partial_zeros(device):
    return lambda *shape: torch.zeros(shape, dtype=torch.float64, device=device)


@dataclass
class Moments:
    """Half covariances from `Sums`, float64 numpy: the inputs of every fit and score."""

    var_y: np.ndarray  # (2, C)
    cov_zz: np.ndarray  # (2, F, F)
    cov_yz: np.ndarray  # (2, C, F)

    @classmethod
    def of(cls, s: Sums) -> Moments:
        n, y, yy, z, zz, yz = (t.cpu().numpy() for t in s.tensors())
        n = np.maximum(n, 1)
        my, mz = y / n[:, None], z / n[:, None]
        var_y = np.maximum(yy / n[:, None] - my**2, 0)
        cov_zz = zz / n[:, None, None] - mz[:, :, None] * mz[:, None, :]
        cov_yz = yz / n[:, None, None] - my[:, :, None] * mz[:, None, :]
        return cls(var_y, cov_zz, cov_yz)

    def correlations(self, half: int) -> np.ndarray:
        """(C, F) Pearson r of every cell with every hypothesis on one half (NaN if either is constant)."""
        var_z = np.diagonal(self.cov_zz[half])
        ok = (var_z[None, :] > VARIES) & (self.var_y[half][:, None] > CELL_VARIES)
        den = np.sqrt(np.where(ok, self.var_y[half][:, None] * var_z[None, :], 1.0))
        return np.where(ok, self.cov_yz[half] / den, np.nan)


def single_scores(m: Moments) -> tuple[np.ndarray, np.ndarray]:
    """(fit, score), each (C, F): r on the first half, and the held-out score of the simulation
    fitted there, sign(r_1) * r_2."""
    fit = m.correlations(0)
    return fit, match(fit, m.correlations(1))


def best_pairs(m: Moments, fit: np.ndarray, pool: int = PAIR_POOL) -> dict:
    """For each cell the pair (a, b) of largest multiple correlation R_1 on the first half, with a
    among the cell's `pool` best singles and b any hypothesis; its weights, R_1 and held-out score.

    Returns a, b (C,) int, fit (C,) R_1 (NaN where no pair can be fitted), score (C,).
    """
    C, F = fit.shape
    strength = np.nan_to_num(np.abs(fit), nan=-1.0)
    pool = min(pool, F)
    a = np.argsort(-strength, axis=1)[:, :pool]  # (C, K)
    var_z = [np.diagonal(m.cov_zz[h]) for h in (0, 1)]
    cells = np.arange(C)[:, None]
    va = var_z[0][a][:, :, None]  # (C, K, 1)
    vb = var_z[0][None, None, :]  # (1, 1, F)
    g = m.cov_zz[0][a]  # (C, K, F)
    ca = m.cov_yz[0][cells, a][:, :, None]  # (C, K, 1)
    cb = m.cov_yz[0][:, None, :]  # (C, 1, F)
    det = va * vb - g**2
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (det > COLLINEAR * va * vb) & (va > VARIES) & (vb > VARIES)
        wa = np.where(ok, (vb * ca - g * cb) / det, np.nan)
        wb = np.where(ok, (va * cb - g * ca) / det, np.nan)
        r2 = (wa * ca + wb * cb) / m.var_y[0][:, None, None]  # explained share of the first half's variance
    r2[m.var_y[0] <= CELL_VARIES] = np.nan
    r2 = np.where(np.isfinite(r2), r2, -1.0)
    best = r2.reshape(C, -1).argmax(axis=1)
    k, b = np.divmod(best, F)
    a_best = a[np.arange(C), k]
    pick = (np.arange(C), k, b)
    wa, wb, R1 = wa[pick], wb[pick], np.sqrt(np.maximum(r2[pick], 0))
    R1 = np.where(r2[pick] >= 0, R1, np.nan)
    num = wa * m.cov_yz[1][np.arange(C), a_best] + wb * m.cov_yz[1][np.arange(C), b]
    var_sim = wa**2 * var_z[1][a_best] + 2 * wa * wb * m.cov_zz[1][a_best, b] + wb**2 * var_z[1][b]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where((var_sim > VARIES) & (m.var_y[1] > CELL_VARIES), num / np.sqrt(var_sim * m.var_y[1]), np.nan)
    return {"a": a_best, "b": b, "wa": wa, "wb": wb, "fit": R1, "score": score}


def score_table(m: Moments, family: list, rows: np.ndarray, H: int) -> pd.DataFrame:
    """The explanation of every cell (rows: layer * H + cell), best score first."""
    fit, score = single_scores(m)
    strength = np.nan_to_num(np.abs(fit), nan=-1.0)
    order = np.argsort(-strength, axis=1)[:, :2]  # (C, 2)
    C = len(rows)
    idx = np.arange(C)
    first, second = order[:, 0], order[:, min(1, order.shape[1] - 1)]
    pairs = best_pairs(m, fit)
    use_pair = np.nan_to_num(pairs["fit"], nan=-1) >= strength[idx, first] + PAIR_GAIN
    single_ok = strength[idx, first] >= 0
    label, key, about, sign = [], [], [], []
    for c in range(C):
        h = family[first[c]]
        if not single_ok[c]:
            label.append(CONSTANT)
            key.append("")
            about.append("")
            sign.append(0)
        elif use_pair[c]:
            g = family[pairs["b"][c]]
            h = family[pairs["a"][c]]
            label.append(f"{h.label} + {g.label}")
            key.append(f"{h.key} + {g.key}")
            about.append("".join(dict.fromkeys(h.about + g.about)) if h.about and g.about else "")
            sign.append(int(np.sign(pairs["wa"][c]) or 1))
        else:
            label.append(h.label)
            key.append(h.key)
            about.append(h.about)
            sign.append(int(np.sign(fit[c, first[c]]) or 1))
    runner = np.where(use_pair, first, np.where((order.shape[1] > 1) & (strength[idx, second] >= 0), second, -1))
    table = pd.DataFrame(
        {
            "layer": rows // H,
            "cell": rows % H,
            "label": label,
            "score": np.where(use_pair, pairs["score"], np.where(single_ok, score[idx, first], np.nan)),
            "runner_up": [family[runner[c]].label if runner[c] >= 0 else "" for c in range(C)],
            "runner_up_score": np.where(runner >= 0, score[idx, np.maximum(runner, 0)], np.nan),
            "key": key,
            "runner_up_key": [family[runner[c]].key if runner[c] >= 0 else "" for c in range(C)],
            "about": about,
            "sign": sign,
            "fit": np.where(use_pair, pairs["fit"], np.abs(fit[idx, first])),
            "pair": use_pair,
        }
    )
    return table.sort_values("score", ascending=False, kind="stable", na_position="last").reset_index(drop=True)


def cell_rows(model, cells) -> np.ndarray:
    """(C,) flat indices layer * H + cell of `cells` ([(layer, cell), ...]; every cell if None)."""
    L, H = model.config.layers, model.config.hidden
    if cells is None:
        return np.arange(L * H)
    out = []
    for pair in cells:
        layer, cell = (int(v) for v in pair)
        if not (0 <= layer < L and 0 <= cell < H):
            raise ValueError(f"no cell {cell} in layer {layer}: the model has {L} layers of {H} cells (from 0)")
        out.append(layer * H + cell)
    if not out:
        raise ValueError("cells is empty: give [(layer, cell), ...] or None for every cell")
    return np.array(sorted(set(out)), dtype=np.int64)


@dataclass
class Pages:
    """What the cell pages need besides the scores, gathered in the same pass (C cells)."""

    width: int
    samples: np.ndarray  # (P,) positions in the text sampled for quantile snippets
    hist: torch.Tensor  # (C, BINS) counts
    h: torch.Tensor  # (C,) sum of h
    hh: torch.Tensor  # (C,) sum of h^2
    cross: torch.Tensor  # (C, C) sum of y y' over all characters
    sample_values: torch.Tensor  # (C, P) tanh(c) at the sampled positions
    sample_windows: torch.Tensor  # (C, P, width) int32 x100 around them
    sample_starts: torch.Tensor  # (P,) where each window starts in the text
    peaks: dict = field(default_factory=dict)  # "top"/"bottom" -> (values (C, M), positions, starts, windows)

    @classmethod
    def zeros(cls, C: int, width: int, samples: np.ndarray, device="cpu") -> Pages:
        z = partial_zeros(device)
        P = len(samples)
        return cls(
            width,
            samples,
            z(C, BINS),
            z(C),
            z(C),
            z(C, C),
            z(C, P),
            torch.zeros(C, P, width, dtype=torch.int32, device=device),
            torch.zeros(P, dtype=torch.int64, device=device),
        )

    def tensors(self) -> list:
        return [self.hist, self.h, self.hh, self.cross, self.sample_values, self.sample_windows, self.sample_starts]

    def add_chunk(self, y: torch.Tensor, h: torch.Tensor) -> None:
        """y, h (C, n) float32: tanh(c) and h of a chunk. Each chunk's products are float32 (the
        related cells and the map need no more), summed over chunks in float64."""
        C = y.shape[0]
        bins = ((y + 1) * (BINS / 2)).long().clamp_(0, BINS - 1) + torch.arange(C, device=y.device)[:, None] * BINS
        self.hist += torch.bincount(bins.ravel(), minlength=C * BINS).reshape(C, BINS).double()
        self.h += h.sum(1, dtype=torch.float64)
        self.hh += (h * h).sum(1, dtype=torch.float64)
        self.cross += (y @ y.T).double()

    def add_segment(self, y: np.ndarray, start: int) -> None:
        """y (C, n): a whole segment's tanh(c), starting at text position `start`."""
        C, n = y.shape
        w = self.width
        inside = (self.samples >= start) & (self.samples < start + n)
        local = self.samples[inside] - start
        at = np.clip(local - BEFORE, 0, n - w)
        dev = self.sample_values.device
        idx = np.flatnonzero(inside)
        self.sample_values[:, idx] = torch.as_tensor(y[:, local], dtype=torch.float64, device=dev)
        self.sample_starts[idx] = torch.as_tensor(at + start, device=dev)
        windows = np.rint(y[:, at[:, None] + np.arange(w)] * 100).astype(np.int32)  # (C, p, w)
        self.sample_windows[:, idx] = torch.as_tensor(windows, device=dev)
        for kind, lowest in (("top", False), ("bottom", True)):
            found = run_peaks(y, w, lowest, 3 * SNIPPETS)  # (C, M) local positions
            values = np.take_along_axis(y, found, axis=1)
            starts = np.clip(found - BEFORE, 0, n - w)
            wins = np.rint(y[np.arange(C)[:, None, None], starts[:, :, None] + np.arange(w)] * 100).astype(np.int32)
            self.keep(kind, values, found + start, starts + start, wins, lowest)

    def keep(self, kind, values, positions, starts, windows, lowest) -> None:
        """Merge candidates (C, m) into the best 3 * SNIPPETS of each cell so far."""
        if kind in self.peaks:
            old = self.peaks[kind]
            values, positions, starts, windows = (
                np.concatenate([a, b], axis=1) for a, b in zip(old, (values, positions, starts, windows))
            )
        order = np.lexsort((positions, values if lowest else -values), axis=-1)[:, : 3 * SNIPPETS]  # (C, M)

        def take(a):
            return np.take_along_axis(a, order if a.ndim == 2 else order[:, :, None], axis=1)

        self.peaks[kind] = tuple(take(a) for a in (values, positions, starts, windows))


def run_peaks(y: np.ndarray, size: int, lowest: bool, keep: int) -> np.ndarray:
    """(C, min(keep, runs)) positions of the `keep` most extreme run peaks of y (C, n): each run of
    `size` characters offers its maximum (minimum if `lowest`); the last run may be shorter."""
    C, n = y.shape
    k = -(-n // size)
    pad = np.full((C, k * size - n), np.inf if lowest else -np.inf, dtype=y.dtype)
    runs = np.concatenate([y, pad], axis=1).reshape(C, k, size)
    offsets = (runs.argmin if lowest else runs.argmax)(axis=2)  # (C, k)
    positions = offsets + np.arange(k) * size
    peaks = np.take_along_axis(y, positions, axis=1)
    order = np.argsort(peaks if lowest else -peaks, axis=1, kind="stable")[:, :keep]
    return np.take_along_axis(positions, order, axis=1)


def all_reduce(tensors) -> None:
    for t in tensors:
        torch.distributed.all_reduce(t)


def gather_peaks(pages: Pages, C: int) -> None:
    """Every process ends with the best candidates of all processes (all_gather, then keep).
    Each process sends exactly 3 * SNIPPETS candidates per cell, padded with ones that sort last
    (value -inf for top, +inf for bottom, position -1), which `snippets` never shows."""
    device = pages.hist.device  # nccl gathers GPU tensors
    K = 3 * SNIPPETS
    for kind, lowest in (("top", False), ("bottom", True)):
        empty = (
            np.zeros((C, 0)),
            np.zeros((C, 0), np.int64),
            np.zeros((C, 0), np.int64),
            np.zeros((C, 0, pages.width), np.int32),
        )
        values, positions, starts, wins = pages.peaks.pop(kind, empty)
        pad = K - values.shape[1]
        values = np.pad(values.astype(np.float64), ((0, 0), (0, pad)), constant_values=np.inf if lowest else -np.inf)
        positions, starts = (
            np.pad(a.astype(np.int64), ((0, 0), (0, pad)), constant_values=-1) for a in (positions, starts)
        )
        wins = np.pad(wins.astype(np.int32), ((0, 0), (0, pad), (0, 0)))
        gathered = []
        for a in (values, positions, starts, wins):
            t = torch.as_tensor(a, device=device)
            out = [torch.empty_like(t) for _ in range(torch.distributed.get_world_size())]
            torch.distributed.all_gather(out, t)
            gathered.append([o.cpu().numpy() for o in out])
        for parts in zip(*gathered):
            pages.keep(kind, *parts, lowest)


def collect(
    model,
    text: str,
    values: hypotheses.Table,
    rows: np.ndarray,
    warm: int = 0,
    segment: int = SEGMENT,
    warmup: int = WARMUP,
    pages: bool = False,
    progress: bool = False,
    seed: int = 0,
    batch: int = BATCH,
):
    """One pass over `text` (the first `warm` characters only warm the state): the `Sums` of the
    cells `rows` against `values`, and with `pages` the `Pages` data, merged over processes."""
    rank, size = world()
    device = model.head.weight.device
    T = len(text)
    parts = segments(T, warm, segment)
    half = warm + (T - warm) // 2
    sums = Sums.zeros(len(rows), len(values), device)
    page = None
    if pages:
        width = min(WIDTH, min(b - a for a, b in parts))
        rng = np.random.default_rng(seed)
        samples = np.sort(rng.choice(np.arange(warm, T), min(SAMPLES, T - warm), replace=False))
        page = Pages.zeros(len(rows), width, samples, device)
    spans = windows(parts, warmup)
    blocks = [range(i, min(i + batch, len(parts))) for i in range(0, len(parts), batch)]
    mine = blocks[rank::size]
    bar = None
    if progress and rank == 0:
        from tqdm import tqdm

        bar = tqdm(
            total=sum(parts[i][1] - parts[i][0] for block in mine for i in block),
            unit="char",
            unit_scale=True,
            desc=f"explain ({size} process{'es' if size > 1 else ''})",
        )
    for block in mine:
        segs = [parts[i] for i in block]
        for (start, stop), (cell, hidden) in zip(segs, trace_block(model, text, segs, [spans[i] for i in block])):
            y_all = flat(cell, rows)  # (C, n)
            h_all = flat(hidden, rows) if pages else None
            for a in range(start, stop, CHUNK):
                for lo, hi in ((a, min(stop, a + CHUNK, max(a, half))), (max(a, half), min(stop, a + CHUNK))):
                    if hi <= lo:
                        continue
                    y = torch.from_numpy(y_all[:, lo - start : hi - start]).to(device)  # (C, n) float32
                    z = torch.from_numpy(values.block(lo, hi)).to(device, torch.float64)
                    sums.add(int(lo >= half), y.double(), z)
                    if page is not None:
                        page.add_chunk(y, torch.from_numpy(h_all[:, lo - start : hi - start]).to(device))
                if bar is not None:
                    bar.update(min(stop, a + CHUNK) - a)
            if page is not None:
                page.add_segment(y_all, start)
    if bar is not None:
        bar.close()
    if size > 1:
        all_reduce(sums.tensors())
        if page is not None:
            all_reduce(page.tensors())
            gather_peaks(page, len(rows))
    return sums, page


@in_process_group
def explain(
    model,
    text: str,
    cells=None,
    family=None,
    warm: int = 0,
    segment: int = SEGMENT,
    warmup: int = WARMUP,
    progress: bool = False,
    batch: int = BATCH,
) -> pd.DataFrame:
    """One row per cell, best explained first: layer (from 0), cell, label, score (held-out
    correlation of the fitted hypothesis with tanh(c)), runner_up, runner_up_score, and key,
    runner_up_key, about, sign, fit (r or R on the first half), pair (the label is a pair).

    cells: [(layer, cell), ...] (every cell if None). family: a list of `Hypothesis` (generated
    from the text and the model's alphabet if None). The first `warm` characters are read but not
    scored. Under torchrun the text is sharded over processes (see the module docstring).
    """
    text = normalise(text)
    if len(text) - warm < 4:
        raise ValueError(f"the text has {len(text) - warm} scored characters: at least 4 are needed (two per half)")
    rows = cell_rows(model, cells)
    family = hypotheses.generate(text[warm:], model.vocab.chars) if family is None else list(family)
    values = hypotheses.Table.of(family, text)
    if not len(values):
        raise ValueError("every hypothesis is constant on this text: nothing to explain the cells with")
    sums, _ = collect(model, text, values, rows, warm, segment, warmup, progress=progress, batch=batch)
    return score_table(Moments.of(sums), values.family, rows, model.config.hidden)


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
    varies = np.flatnonzero(yy / n - mean**2 > CELL_VARIES)
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


@in_process_group
def build(
    model,
    text: str,
    warm: int = 0,
    segment: int = SEGMENT,
    warmup: int = WARMUP,
    progress: bool = True,
    batch: int = BATCH,
    causal_cells: int = CAUSAL_CELLS,
) -> dict | None:
    """The explanation record of every cell of `model` on `text` (the first `warm` characters only
    warm the state). Under torchrun the processes share the statistics pass and the causal check,
    and process 0 returns the record (the others None)."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    text = normalise(text)
    L, H = model.config.layers, model.config.hidden
    rows = np.arange(L * H)
    family = hypotheses.generate(text[warm:], model.vocab.chars)
    values = hypotheses.Table.of(family, text)
    sums, page = collect(model, text, values, rows, warm, segment, warmup, pages=True, progress=progress, batch=batch)
    table = score_table(Moments.of(sums), values.family, rows, H)
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
    rank, size = world()
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
    levels = np.quantile(samples, QUANTILES, axis=1)  # (Q, C)
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
            "top": snippets(text, *(a[r] for a in page.peaks["top"]), SNIPPETS, page.width),
            "bottom": snippets(text, *(a[r] for a in page.peaks["bottom"]), SNIPPETS, page.width),
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
        "quantiles": list(QUANTILES),
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
    segment: int = SEGMENT,
    progress: bool = True,
    batch: int = BATCH,
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
