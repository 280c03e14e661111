"""Character n-gram baselines: interpolated modified Kneser-Ney (Chen & Goodman 1998), orders 1 to 20.

Every n-gram is a 64-bit hash built left to right, key_n = mix(key_{n-1} ^ (char + 1) * K) with
the splitmix64 finaliser as `mix`, so one pass per order hashes every n-gram of a text at once
and np.unique / np.searchsorted do the counting and the lookups. An order-n table holds each
kept n-gram's hash, its last character and its discounted share alpha = (u - D(u)) / U(context);
a model predicts

    P_n(w | h) = alpha_n(h w) + gamma_{n-1}(h) * P_{n-1}(w | h'),    P_0(w) = 1 / V,

where u is the raw count at the highest order and the continuation count (distinct left
neighbours) below it, and D(1), D(2), D(3+) are Chen & Goodman's discounts per order. The
back-off weight gamma(h) = 1 - (sum of the kept alphas of h's children) is derived from the
stored alphas when a model is built or loaded, in float64 (mix is a bijection, so a child's
hash and last character give its context's hash), so every distribution sums to one to float64
rounding. Pruning drops n-grams seen fewer than `min_count` times from order `prune_from` up;
their mass stays in gamma. The context of every kept n-gram is kept too (one that occurs only at
the start of the training text has no continuation count: it keeps alpha 0 and serves as a context).

Raw counts of orders 1 to TRUE_ORDERS are stored as well, so that the true order-n model of the
training text (raw counts and their own discounts at order n, the same lower orders) can be had
for each such n (`true_order_probs`): the error breakdown's n-gram oracle.
Files are .npz of plain arrays plus a JSON header, read with allow_pickle=False.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.vocab import Vocab, normalise
from ..train.evaluate import bits

ORDER = 20  # the paper's largest n
TRUE_ORDERS = 9  # raw counts are kept for orders 1 .. 9: the error oracle's true order-n models
FILE = "ngram.npz"
FORMAT = "lstm-viz-ngram/2"
SEED = np.uint64(0x243F6A8885A308D3)  # the hash of the empty context
K = np.uint64(0x9E3779B97F4A7C15)
M1, M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
M1_INV, M2_INV = np.uint64(0x96DE1B173F119089), np.uint64(0x319642B2D24D8EC3)  # inverses mod 2**64
S30, S27, S31 = np.uint64(30), np.uint64(27), np.uint64(31)
S60, S54, S62 = np.uint64(60), np.uint64(54), np.uint64(62)
WORD = re.compile(r"[^\W\d_]+")  # a word: a run of letters
RARE = 5  # words seen at most this often in training are rare (the error breakdown's oracle)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 (wrapping arithmetic), a bijection that scatters bits."""
    x = x ^ (x >> S30)
    x = x * M1
    x = x ^ (x >> S27)
    x = x * M2
    return x ^ (x >> S31)


def unmix(x: np.ndarray) -> np.ndarray:
    """The inverse of `mix`."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> S31) ^ (x >> S62)
        x = x * M2_INV
        x = x ^ (x >> S27) ^ (x >> S54)
        x = x * M1_INV
        return x ^ (x >> S30) ^ (x >> S60)


def extend(keys: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Hashes of n-grams from the hashes of their first n - 1 characters and their last one."""
    return mix(keys ^ ((ids.astype(np.uint64) + np.uint64(1)) * K))


def gram_keys(ids: np.ndarray, n: int, previous: np.ndarray) -> np.ndarray:
    """(T,) hashes of the n-grams ending at each position (garbage before position n - 1),
    from `previous`, the (T,) hashes of the (n - 1)-grams (or None for n = 1)."""
    with np.errstate(over="ignore"):
        if n == 1:
            return extend(np.full(len(ids), SEED), ids)
        keys = np.zeros(len(ids), dtype=np.uint64)
        keys[n - 1 :] = extend(previous[n - 2 : len(ids) - 1], ids[n - 1 :])
        return keys


def discounts(u: np.ndarray) -> np.ndarray:
    """(4,) Chen & Goodman's D(0)=0, D(1), D(2), D(3+) from the counts u of one order; where
    some count of counts is zero, the defaults 0.5, 1.0, 1.5 stand in."""
    n = np.array([(u == r).sum() for r in (1, 2, 3, 4)], dtype=np.float64)
    if (n == 0).any():
        return np.array([0.0, 0.5, 1.0, 1.5])
    y = n[0] / (n[0] + 2 * n[1])
    d = np.array([1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]])
    return np.concatenate([[0.0], np.clip(d, 0.05, [0.95, 1.95, 2.95])])


def shares(u: np.ndarray, d: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Discounted shares (u - D(u)) / total (0 where u = 0), total being the context's sum of u."""
    return np.where(u > 0, (u - d[np.minimum(u, 3)]) / np.maximum(total, 1), 0.0)


def lookup(table: np.ndarray, values: np.ndarray, query: np.ndarray, default: float) -> np.ndarray:
    """values[i] where table[i] == query (table sorted), else `default`."""
    if not len(table):
        return np.full(len(query), default, dtype=np.float64)
    at = np.minimum(np.searchsorted(table, query), len(table) - 1)
    return np.where(table[at] == query, values[at], default)


def parents(keys: np.ndarray, last: np.ndarray, context_keys: np.ndarray) -> np.ndarray:
    """(k_n,) index in `context_keys` (sorted) of each n-gram's context; ValueError if one is missing."""
    with np.errstate(over="ignore"):
        ctx = unmix(keys) ^ ((last.astype(np.uint64) + np.uint64(1)) * K)
    order = np.argsort(ctx)  # sorted queries search the table 2-3x faster than random ones
    at = np.empty(len(ctx), dtype=np.int64)
    at[order] = np.minimum(np.searchsorted(context_keys, ctx[order]), len(context_keys) - 1)
    if len(keys) and not (context_keys[at] == ctx).all():
        raise ValueError("an n-gram's context is missing from the table below it")
    return at


def backoff(parent: np.ndarray, alpha: np.ndarray, contexts: int) -> np.ndarray:
    """(contexts,) float64 back-off weights: 1 - the sum of each context's children's alphas."""
    return 1 - np.bincount(parent, weights=alpha.astype(np.float64), minlength=contexts)


@dataclass
class NGram:
    """A trained character n-gram model over a model's alphabet (id 0 is the unknown slot).
    gamma, true_alpha and true_gamma are derived from the stored arrays."""

    vocab: Vocab
    keys: list  # [n] sorted (k_n,) uint64 hashes of the kept n-grams; [0] holds the empty context
    alpha: list  # [n] (k_n,) float32 discounted share of each n-gram
    last: list  # [n] (k_n,) last character id of each n-gram
    counts: list  # [n] (k_n,) uint32 raw count of each n-gram, orders 0 (the text's length) .. TRUE_ORDERS
    info: dict = field(default_factory=dict)  # discounts, pruning, corpus, losses, the training text's tail
    gamma: list = field(init=False, repr=False)  # [n] (k_n,) float64 back-off weight of each n-gram as a context
    true_alpha: dict = field(init=False, repr=False)  # n -> (k_n,) float32 alpha of the true order-n model
    true_gamma: dict = field(init=False, repr=False)  # n -> (k_{n-1},) float64 its back-off weights

    def __post_init__(self):
        up = [None] + [parents(self.keys[n], self.last[n], self.keys[n - 1]) for n in range(1, self.order + 1)]
        self.gamma = [backoff(up[n + 1], self.alpha[n + 1], len(self.keys[n])) for n in range(self.order)]
        self.gamma.append(np.ones(len(self.keys[self.order])))
        self.true_alpha, self.true_gamma = {}, {}
        tail = np.array(self.info["tail"], dtype=np.int64)
        tail_key = None
        for n in range(1, len(self.counts)):  # the order-n model's top: raw counts, its own discounts
            following = self.counts[n - 1].astype(np.float64)  # times each context is followed by a character
            if n > 1:
                tail_key = gram_keys(tail, n - 1, tail_key)  # the training text's last n - 1 characters
                at = np.flatnonzero(self.keys[n - 1] == tail_key[-1])
                following[at] -= 1
            d = np.concatenate([[0.0], self.info["raw_discounts"][n - 1]])
            c = self.counts[n].astype(np.int64)
            self.true_alpha[n] = shares(c, d, following[up[n]]).astype(np.float32)
            self.true_gamma[n] = backoff(up[n], self.true_alpha[n], len(self.keys[n - 1]))

    @property
    def order(self) -> int:
        return len(self.keys) - 1

    def walk(self, ids: np.ndarray, up_to: int):
        """For n = 1 .. up_to: (n, t, contexts, grams), the positions t whose next character
        ids[t + 1] has a full context of n - 1 characters, the hashes of those contexts and of
        the n-grams ending at t + 1."""
        previous = current = None
        for n in range(1, up_to + 1):
            current = gram_keys(ids, n, current)
            t = np.arange(max(n - 2, 0), len(ids) - 1)
            yield n, t, (np.full(len(t), SEED) if n == 1 else previous[t]), current[t + 1]
            previous = current

    def order_probs(self, ids: np.ndarray) -> np.ndarray:
        """(order + 1, T - 1) probability of each next character ids[t + 1] under P_0 .. P_order
        (row n uses contexts of up to n - 1 characters; shorter where the text starts)."""
        p = np.full(max(len(ids) - 1, 0), 1.0 / len(self.vocab))
        rows = [p]
        for n, t, contexts, grams in self.walk(ids, self.order):
            p = p.copy()
            p[t] = (
                lookup(self.keys[n], self.alpha[n], grams, 0.0)
                + lookup(self.keys[n - 1], self.gamma[n - 1], contexts, 1.0) * p[t]
            )
            rows.append(p)
        return np.stack(rows)

    def distributions(self, ids: np.ndarray, orders) -> dict[int, np.ndarray]:
        """For each n in `orders`: (T - 1, V) float32 distribution of the character after each
        position t under P_n, the model cut at contexts of n - 1 characters (row n of `order_probs`
        for every character at once; shorter contexts where the text starts)."""
        orders = sorted({int(n) for n in orders})
        if not orders or not 1 <= orders[0] <= orders[-1] <= self.order:
            raise ValueError(f"orders go from 1 to {self.order}, not {orders}")
        V = len(self.vocab)
        p = np.full((max(len(ids) - 1, 0), V), 1.0 / V)
        out = {}
        every = np.arange(V)
        with np.errstate(over="ignore"):
            for n, t, contexts, _ in self.walk(ids, orders[-1]):
                grams = extend(np.repeat(contexts, V), np.tile(every, len(t)))  # (len(t) * V,)
                alpha = lookup(self.keys[n], self.alpha[n], grams, 0.0).reshape(len(t), V)
                gamma = lookup(self.keys[n - 1], self.gamma[n - 1], contexts, 1.0)  # (len(t),)
                p[t] = alpha + gamma[:, None] * p[t]
                if n in orders:
                    out[n] = p.astype(np.float32)
        return out

    def true_order_probs(self, ids: np.ndarray, up_to: int) -> np.ndarray:
        """(up_to, T - 1) probability of each next character ids[t + 1] under the true order-n
        model of the training text, n = 1 .. up_to (at most TRUE_ORDERS): raw counts and their
        discounts at order n, this model's lower orders below (as `train(text, order=n)` gives)."""
        if not 1 <= up_to < len(self.counts):
            raise ValueError(f"true order-n models are kept for n = 1 to {len(self.counts) - 1}, not {up_to}")
        p = np.full(max(len(ids) - 1, 0), 1.0 / len(self.vocab))
        rows = []
        for n, t, contexts, grams in self.walk(ids, up_to):
            true = p.copy()
            true[t] = (
                lookup(self.keys[n], self.true_alpha[n], grams, 0.0)
                + lookup(self.keys[n - 1], self.true_gamma[n], contexts, 1.0) * p[t]
            )
            rows.append(true)
            p = p.copy()
            p[t] = (
                lookup(self.keys[n], self.alpha[n], grams, 0.0)
                + lookup(self.keys[n - 1], self.gamma[n - 1], contexts, 1.0) * p[t]
            )
        return np.stack(rows)

    def next_char_probs(self, text: str) -> np.ndarray:
        """(T,) probability of character t + 1 given text[:t + 1]; NaN for the last position."""
        ids = self.vocab.encode(normalise(text))
        out = np.full(len(ids), np.nan)
        out[:-1] = self.order_probs(ids)[-1]
        return out

    def loss_per_char(self, text: str) -> np.ndarray:
        """(T,) nats of predicting character t + 1, aligned with `Trace.loss_per_char`: NaN where
        that character is unknown or absent. A text shorter than the order is a ValueError."""
        text = normalise(text)
        self.check_length(text)
        ids = self.vocab.encode(text)
        loss = (-np.log(self.next_char_probs(text))).astype(np.float32)
        loss[:-1][ids[1:] == 0] = np.nan
        return loss

    def check_length(self, text: str) -> None:
        if len(text) < self.order:
            raise ValueError(
                f"the text has {len(text)} characters, fewer than the n-gram's order "
                f"({self.order}); give it at least {self.order}"
            )

    def distribution(self, context: str) -> np.ndarray:
        """(V,) probability of every id (0 = unknown) following `context`."""
        ids = self.vocab.encode(normalise(context))
        contexts, current = [SEED], None  # hashes of the last 0, 1, 2 ... characters
        for n in range(1, min(self.order - 1, len(ids)) + 1):
            current = gram_keys(ids, n, current)
            contexts.append(current[-1])
        V = len(self.vocab)
        p = np.full(V, 1.0 / V)
        with np.errstate(over="ignore"):
            for n, ctx in enumerate(contexts, start=1):
                gamma = lookup(self.keys[n - 1], self.gamma[n - 1], np.array([ctx]), 1.0)
                p = lookup(self.keys[n], self.alpha[n], extend(np.full(V, ctx), np.arange(V)), 0.0) + gamma * p
        return p

    def loss(self, text: str) -> float:
        """Mean nats per known next character of a text."""
        return float(np.nanmean(self.loss_per_char(text)))

    def entries(self) -> int:
        return int(sum(len(k) for k in self.keys))

    def save(self, path) -> Path:
        """Write the model as .npz of plain arrays (atomically); returns the path."""
        path = Path(path)
        arrays = {
            "header": np.frombuffer(
                json.dumps({"format": FORMAT, "alphabet": self.vocab.chars, "info": self.info}).encode(), dtype=np.uint8
            )
        }
        for n in range(self.order + 1):
            arrays[f"keys{n}"], arrays[f"alpha{n}"], arrays[f"last{n}"] = self.keys[n], self.alpha[n], self.last[n]
        for n, counts in enumerate(self.counts):
            arrays[f"counts{n}"] = counts
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
        return path


def train(text: str, vocab: Vocab, order: int = ORDER, min_count: int = 1, prune_from: int = 3) -> NGram:
    """An interpolated modified Kneser-Ney model of `text`, with n-grams seen fewer than
    `min_count` times dropped from order `prune_from` up (their probability mass backs off)."""
    return train_pruned(text, vocab, order, [min_count], prune_from)[min_count]


def train_pruned(text: str, vocab: Vocab, order: int = ORDER, min_counts=(1,), prune_from: int = 3) -> dict:
    """min_count -> NGram for several pruning thresholds, counting the text only once."""
    if order < 1:
        raise ValueError(f"order must be at least 1, not {order}")
    ids = vocab.encode(normalise(text))
    if len(ids) < order + 1:
        raise ValueError(f"the training text has {len(ids)} characters; an order-{order} model needs more")
    T = len(ids)
    counted = min(order, TRUE_ORDERS)
    char = np.min_scalar_type(len(vocab) - 1)
    tables = {
        m: ([np.array([SEED])], [np.zeros(1, np.float32)], [np.zeros(1, char)], [np.array([T], np.uint32)])
        for m in min_counts
    }
    used_discounts, raw_discounts = [], []
    previous = None
    current = gram_keys(ids, 1, None)
    for n in range(1, order + 1):
        following = gram_keys(ids, n + 1, current) if n < order else None
        grams = current[n - 1 :]  # (T - n + 1,) n-grams ending at n - 1 .. T - 1
        uniq, first, counts = np.unique(grams, return_index=True, return_counts=True)
        if n < order:  # continuation counts: distinct (n + 1)-grams ending in each n-gram
            _, ends = np.unique(following[n:], return_index=True)
            suffixes, cont = np.unique(current[n:][ends], return_counts=True)
            u = np.zeros(len(uniq), dtype=np.int64)
            u[np.searchsorted(uniq, suffixes)] = cont
        else:
            u = counts
        contexts = np.full(len(uniq), SEED) if n == 1 else previous[first + n - 2]
        ctx, inv = np.unique(contexts, return_inverse=True)
        d = discounts(u)
        share = shares(u, d, np.bincount(inv, weights=u, minlength=len(ctx))[inv])
        last = ids[first + n - 1].astype(char)
        for m, (keys, alpha, lasts, raw) in tables.items():
            keep = (counts >= m) | (n < prune_from)  # a kept n-gram's context is kept: it was seen as often
            keys.append(uniq[keep])
            alpha.append(share[keep].astype(np.float32))
            lasts.append(last[keep])
            if n <= counted:
                raw.append(counts[keep].astype(np.uint32))
        used_discounts.append(d[1:].round(4).tolist())
        if n <= counted:
            raw_discounts.append(discounts(counts)[1:].tolist())
        previous, current = current, following
    frequent = sorted(w for w, c in Counter(WORD.findall(normalise(text))).items() if c > RARE)
    return {
        m: NGram(
            vocab,
            *parts,
            info={
                "smoothing": "interpolated modified Kneser-Ney (Chen & Goodman 1998)",
                "order": order,
                "min_count": m,
                "prune_from": prune_from,
                "discounts": used_discounts,
                "raw_discounts": raw_discounts,
                "train_chars": T,
                "tail": ids[-counted:].tolist(),
                "frequent_words": frequent,
            },
        )
        for m, parts in tables.items()
    }


def load_file(path) -> NGram:
    """Read an n-gram .npz (never unpickling anything); ValueError if it is not one."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
            if header.get("format") != FORMAT:
                raise ValueError(f"format {header.get('format')!r}, expected {FORMAT!r}")
            info = header["info"]
            parts = [[z[f"{name}{n}"] for n in range(info["order"] + 1)] for name in ("keys", "alpha", "last")]
            counts = [z[f"counts{n}"] for n in range(min(info["order"], TRUE_ORDERS) + 1)]
            return NGram(Vocab(header["alphabet"]), *parts, counts, info=info)
    except (OSError, KeyError, ValueError, IndexError, UnicodeDecodeError) as e:
        raise ValueError(
            f"{path}: not a readable n-gram file ({e}); rebuild it with python -m lstm_viz "
            f"analyse --model NAME --corpus CORPUS --out DIR --train-ngram"
        ) from None


def load_ngram(name_or_path) -> NGram:
    """The n-gram shipped beside a model (pretrained/NAME/ngram.npz), or one at a path. A model
    trained on the same corpus split with the same alphabet as another may share that one's: its
    card's ngram names the other model ({"model": NAME}), whose own ngram.npz is read."""
    from ..io import checkpoint

    path = Path(name_or_path)
    if path.is_file():
        return load_file(path)
    folder = checkpoint.resolve(name_or_path)
    card = checkpoint.read_card(folder)
    shared = (card.get("ngram") or {}).get("model")
    if not (folder / FILE).is_file() and isinstance(shared, str) and shared != folder.name:
        owner = checkpoint.resolve(shared)
        if not (owner / FILE).is_file():
            raise ValueError(f"{folder}: shares the n-gram of {shared}, which has no {FILE}")
        ngram = load_file(owner / FILE)
        if ngram.vocab.chars != list(card["alphabet"]):
            raise ValueError(f"{folder}: the n-gram of {shared} is over another alphabet; build one for this model")
        return ngram
    if not (folder / FILE).is_file():
        raise ValueError(
            f"{folder}: has no {FILE}; build one with python -m lstm_viz analyse --model NAME "
            f"--corpus CORPUS --out DIR --train-ngram"
        )
    return load_file(folder / FILE)


def build_for_model(
    name_or_path,
    corpus,
    max_bytes: int = 20_000_000,
    min_counts=(1, 2, 3, 4, 5, 6, 8, 10),
    order: int = ORDER,
    train_chars: int | None = None,
) -> dict:
    """Train n-grams on the training split of the corpus a model was trained on (its first
    `train_chars` characters if given: a sample, for a split too big to count), one per pruning
    threshold in `min_counts`, and save the least pruned one that fits in `max_bytes` beside the
    model (ngram.npz), with its test loss and every threshold's test loss on the model's card."""
    import time

    from ..io import checkpoint
    from ..train.data import read_corpus, sha256, split_bounds

    folder = checkpoint.resolve(name_or_path)
    card = checkpoint.read_card(folder)
    expected = card.get("corpus", {}).get("sha256")
    if expected and expected != sha256(corpus):
        raise ValueError(f"{corpus} is not the corpus {folder.name} was trained on (sha256 differs)")
    vocab = Vocab(list(card["alphabet"]))
    text = read_corpus(corpus)
    bounds = split_bounds(len(text))
    test = text[slice(*bounds["test"])]
    train = text[slice(*bounds["train"])][:train_chars]
    start = time.perf_counter()
    variants = train_pruned(train, vocab, order, min_counts)
    seconds = time.perf_counter() - start
    trials, chosen = [], None
    for m, model in sorted(variants.items()):
        path = model.save(folder / f"{FILE}.{m}.tmp.npz")
        size = path.stat().st_size
        nats = model.loss(test)
        trials.append({"min_count": m, "entries": model.entries(), "bytes": size, "test_nats": round(nats, 5)})
        if chosen is None and size <= max_bytes:
            chosen = (m, model, nats, size)
            os.replace(path, folder / FILE)
        else:
            path.unlink()
    if chosen is None:
        raise ValueError(f"no pruning threshold in {list(min_counts)} fits the n-gram in {max_bytes:,} bytes")
    m, model, nats, size = chosen
    summary = {
        "file": FILE,
        "smoothing": model.info["smoothing"],
        "order": order,
        "min_count": m,
        "prune_from": model.info["prune_from"],
        "entries": model.entries(),
        "train_chars": len(train),
        "bytes": size,
        "test": {"nats": round(nats, 5), "bits": round(bits(nats), 5)},
        "train_seconds": round(seconds, 1),
        "pruning_trials": trials,
    }
    card["ngram"] = summary
    (folder / "card.json.tmp").write_text(json.dumps(card, indent=1, ensure_ascii=True))
    os.replace(folder / "card.json.tmp", folder / "card.json")
    return summary
