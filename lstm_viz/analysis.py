"""The paper's analyses (Karpathy, Johnson & Fei-Fei 2015, sections 4.2 to 4.4) on any trace.

- `gate_saturation`: how often each gate of each cell is left- (< 0.1) or right-saturated (> 0.9).
- `loss_difference`: LSTM loss minus n-gram loss per character (negative where the LSTM wins).
- `error_breakdown`: the LSTM's errors (p(correct next char) < 0.5) attributed to oracles in turn.
- `closing_distance`: probability of each closing brace or quote against the distance to its opener.

Each trace-level function has an `*_from` twin on plain arrays (text and the LSTM's per-character
loss), which the CLI feeds from a long text traced in pieces.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .glyphs import label
from .ngram import RARE, TRUE_ORDERS, WORD, gram_keys
from .vocab import codepoints

LEFT, RIGHT = 0.1, 0.9  # a gate below LEFT is left-saturated, above RIGHT right-saturated
SATURATION_GATES = ("input", "forget", "output")
ERROR_BELOW = 0.5  # an error: the correct next character got less than this probability
NGRAM_ORACLE_ORDER = TRUE_ORDERS  # the n-gram oracle takes the best of the true order-n models, n = 1 .. 9
MEMORY = 5  # dynamic memory oracle: the last MEMORY characters and the next were seen earlier in the text
BOOST_ODDS = 2.0  # boost oracle: multiplying the correct character's odds by this reaches ERROR_BELOW
ORACLES = ("n-gram", "dynamic memory", "rare words", "word start", "punctuation", "boost")
ORACLE_DEFINITIONS = {
    "n-gram": f"an n-gram model of order 1 to {NGRAM_ORACLE_ORDER} (of the training split) gives the correct "
    f"character p >= {ERROR_BELOW}",
    "dynamic memory": f"the last {MEMORY} characters followed by the correct one occurred earlier in this text",
    "rare words": f"the character is in a word seen at most {RARE} times in the training split",
    "word start": "the character starts a word (it follows a space or newline)",
    "punctuation": "the character is punctuation",
    "boost": f"multiplying the correct character's odds by {BOOST_ODDS:g} would lift it to p >= {ERROR_BELOW}",
    "unexplained": "none of the above",
}
PAIRS = {"brace": ("{", "}"), "quote": ('"', '"')}


def gate_saturation(trace, layer: int) -> pd.DataFrame:
    """Rows (gate, cell, left, right): the fraction of characters where each of `layer`'s input,
    forget and output gates is below 0.1 (left) or above 0.9 (right)."""
    if not 0 <= layer < trace.shape[0]:
        raise ValueError(f"layer {layer} does not exist; the model has layers 0 to {trace.shape[0] - 1}")
    if not trace.shape[1]:
        raise ValueError("the text is empty")
    gates = trace.gates(SATURATION_GATES, layer)  # name -> (T, H)
    H = trace.shape[2]
    return pd.DataFrame(
        {
            "gate": np.repeat(SATURATION_GATES, H),
            "cell": np.tile(np.arange(H), len(SATURATION_GATES)),
            "left": np.concatenate([(gates[g] < LEFT).mean(axis=0) for g in SATURATION_GATES]),
            "right": np.concatenate([(gates[g] > RIGHT).mean(axis=0) for g in SATURATION_GATES]),
        }
    )


def loss_difference(trace, ngram) -> np.ndarray:
    """(T,) LSTM loss minus n-gram loss in nats (negative where the LSTM's memory pays); NaN
    where the next character is unknown or absent."""
    return trace.loss_per_char - ngram.loss_per_char(trace.text)


def error_breakdown(trace, ngram) -> pd.DataFrame:
    """The LSTM's errors on the trace's text, attributed to the paper's oracles in order."""
    return error_breakdown_from(trace.text, trace.loss_per_char, ngram)


def of_text(trace, ngram) -> dict:
    """Every analysis of one traced text, as the Analyses page shows it live: mean losses, the
    per-character loss difference, gate saturation per layer, the error breakdown and the closing
    distance ("closing_problem" says why there is none)."""
    lstm_loss, ngram_loss = trace.loss_per_char, ngram.loss_per_char(trace.text)
    breakdown = error_breakdown(trace, ngram)
    result = {
        "problem": None,
        "lstm": float(np.nanmean(lstm_loss)),
        "ngram": float(np.nanmean(ngram_loss)),
        "difference": lstm_loss - ngram_loss,
        "saturation": [gate_saturation(trace, layer) for layer in range(trace.shape[0])],
        "breakdown": breakdown,
        "errors": breakdown.attrs["errors"],
        "scored": breakdown.attrs["characters"],
        "closing": None,
        "closing_problem": None,
    }
    try:
        result["closing"] = closing_distance(trace, ngram)
    except ValueError as e:
        result["closing_problem"] = str(e)
    return result


def oracle_masks(text: str, ngram) -> dict[str, np.ndarray]:
    """oracle -> (T,) bool: which next characters (t + 1) each oracle explains; the LSTM-free ones."""
    ngram.check_length(text)
    ids = ngram.vocab.encode(text)
    T = len(text)
    cp = codepoints(text)
    rows = ngram.true_order_probs(ids, min(NGRAM_ORACLE_ORDER, ngram.order))  # (n, T - 1)
    masks = {"n-gram": np.append(rows.max(axis=0) >= ERROR_BELOW, False)}
    masks["dynamic memory"] = np.append(seen_before(ids, MEMORY + 1)[1:], False)
    frequent = set(ngram.info.get("frequent_words", []))
    rare = np.zeros(T, dtype=bool)
    for m in WORD.finditer(text):
        if m.group() not in frequent:
            rare[m.start() : m.end()] = True
    chars = np.array(list(text)) if T else np.zeros(0, dtype="<U1")
    space = np.isin(cp, codepoints(" \n\t"))
    letter = np.char.isalpha(chars)
    punct = ~np.char.isalnum(chars) & ~np.char.isspace(chars)
    masks["rare words"] = np.append(rare[1:], False)
    masks["word start"] = np.append(space[:-1] & letter[1:], False)
    masks["punctuation"] = np.append(punct[1:], False)
    return masks


def seen_before(ids: np.ndarray, n: int) -> np.ndarray:
    """(T,) bool: the n-gram ending at each position occurred, ending earlier, in the same text."""
    keys = None
    for k in range(1, n + 1):
        keys = gram_keys(ids, k, keys)
    out = np.zeros(len(ids), dtype=bool)
    if len(ids) < n:
        return out
    grams = keys[n - 1 :]
    _, first, inv = np.unique(grams, return_index=True, return_inverse=True)
    out[n - 1 :] = first[inv] < np.arange(len(grams))
    return out


def error_breakdown_from(text: str, lstm_loss: np.ndarray, ngram) -> pd.DataFrame:
    """Rows (oracle, errors, share, definition): each oracle in turn takes the errors it explains
    and that no earlier oracle took; `unexplained` holds the rest. share is of all errors."""
    p = np.exp(-np.asarray(lstm_loss, dtype=np.float64))  # NaN where the next char is unknown
    errors = np.nan_to_num(p, nan=1.0) < ERROR_BELOW
    masks = oracle_masks(text, ngram)
    masks["boost"] = BOOST_ODDS * p / (1 - p + 1e-12) >= ERROR_BELOW / (1 - ERROR_BELOW)
    left = errors.copy()
    rows = []
    for name in ORACLES:
        taken = left & masks[name]
        rows.append((name, int(taken.sum())))
        left &= ~taken
    rows.append(("unexplained", int(left.sum())))
    total = max(int(errors.sum()), 1)
    table = pd.DataFrame(rows, columns=["oracle", "errors"])
    table["share"] = table["errors"] / total
    table["definition"] = table["oracle"].map(ORACLE_DEFINITIONS)
    table.attrs.update(errors=int(errors.sum()), characters=int(np.isfinite(p).sum()))
    return table


def pairs(text: str, kind: str) -> np.ndarray:
    """(n, 2) positions of matched openers and closers: braces by nesting; double quotes in turn
    within a paragraph (a blank line ends a quote left open, as in features.quotes)."""
    opener, closer = PAIRS[kind]
    if kind == "quote":
        out, open_at = [], None
        for m in re.finditer(r'"|\n\n', text):
            if m.group() != opener:
                open_at = None
            elif open_at is None:
                open_at = m.start()
            else:
                out.append((open_at, m.start()))
                open_at = None
        return np.array(out, dtype=np.int64).reshape(-1, 2)
    stack, out = [], []
    for i, c in enumerate(text):
        if c == opener:
            stack.append(i)
        elif c == closer and stack:
            out.append((stack.pop(), i))
    return np.array(sorted(out), dtype=np.int64).reshape(-1, 2)


def closing_distance(trace, ngram=None) -> pd.DataFrame:
    """Every matched closing brace `}` and closing double quote of the trace's text: rows (kind,
    open, close, distance, lstm, ngram), the probability each model gave the closer there."""
    return closing_distance_from(trace.text, trace.loss_per_char, ngram)


def closing_distance_from(text: str, lstm_loss: np.ndarray, ngram=None) -> pd.DataFrame:
    """`closing_distance` on plain arrays; ValueError when the text has no braces or quotes to close."""
    ngram_loss = ngram.loss_per_char(text) if ngram is not None else np.full(len(text), np.nan)
    frames = []
    for kind in PAIRS:
        found = pairs(text, kind)
        if not len(found):
            continue
        before = found[:, 1] - 1  # the position that predicts the closer
        frames.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "open": found[:, 0],
                    "close": found[:, 1],
                    "distance": found[:, 1] - found[:, 0],
                    "lstm": np.exp(-np.asarray(lstm_loss, dtype=np.float64)[before]),
                    "ngram": np.exp(-np.asarray(ngram_loss, dtype=np.float64)[before]),
                }
            )
        )
    if not frames:
        raise ValueError("the text has no matched { } braces or pairs of double quotes to measure")
    return pd.concat(frames, ignore_index=True)


def distance_bins(table: pd.DataFrame, edges=(1, 5, 10, 20, 40, 80, 160, 320, 640, 1280, 10**9)) -> pd.DataFrame:
    """Mean probability of the closer per kind and distance bin: rows (kind, bin, low, high, pairs,
    lstm, ngram), bins [low, high) that hold at least one pair."""
    edges = np.asarray(edges)
    b = np.clip(np.searchsorted(edges, table["distance"], side="right") - 1, 0, len(edges) - 2)
    grouped = table.assign(bin=b).groupby(["kind", "bin"])
    out = grouped.agg(pairs=("distance", "size"), lstm=("lstm", "mean"), ngram=("ngram", "mean")).reset_index()
    out["low"], out["high"] = edges[out["bin"]], edges[out["bin"] + 1]
    return out[["kind", "bin", "low", "high", "pairs", "lstm", "ngram"]]


def advantage_by_character(text: str, lstm_loss: np.ndarray, ngram_loss: np.ndarray, top: int = 12) -> pd.DataFrame:
    """The next characters on which the LSTM saves the most nats over the n-gram, in total:
    rows (char, label, count, lstm, ngram, saved), lstm and ngram being mean losses."""
    diff = np.asarray(ngram_loss, np.float64) - np.asarray(lstm_loss, np.float64)
    known = np.isfinite(diff[:-1])
    frame = pd.DataFrame(
        {
            "char": np.array(list(text[1:]))[known],
            "lstm": np.asarray(lstm_loss)[:-1][known],
            "ngram": np.asarray(ngram_loss)[:-1][known],
            "saved": diff[:-1][known],
        }
    )
    table = (
        frame.groupby("char")
        .agg(count=("saved", "size"), lstm=("lstm", "mean"), ngram=("ngram", "mean"), saved=("saved", "sum"))
        .reset_index()
    )
    table = table.sort_values("saved", ascending=False).head(top).reset_index(drop=True)
    table.insert(1, "label", [label(c) for c in table["char"]])
    return table
