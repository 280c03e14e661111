"""The paper's analyses (Karpathy, Johnson & Fei-Fei 2015, sections 4.2 to 4.4) on any trace, of any
kind of model (the columns and keys named "lstm" hold the model's own numbers, LSTM, GRU or RNN).

- `gate_saturation`: how often each gate of each cell is left- (< 0.1) or right-saturated (> 0.9):
  an LSTM's input, forget and output gates, a GRU's reset and update gates; a vanilla RNN has none.
- `loss_difference`: the model's loss minus the n-gram's per character (negative where the model wins).
- `error_breakdown`: the model's errors (p(correct next char) < 0.5) attributed to oracles in turn.
- `closing_distance`: probability of each closing brace or quote against the distance to its opener.
- `quote_memory`: the long-memory test: mean probability of the closing quote by its distance from
  the opening one (the paper's closing-brace figure applied to quotes), to compare kinds.

Each trace-level function has an `*_from` twin on plain arrays (text and the model's per-character
loss), which the CLI feeds from a long text traced in pieces.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..core.kernel import NAMED
from ..core.vocab import codepoints
from ..views.glyphs import label
from .ngram import RARE, TRUE_ORDERS, WORD, gram_keys

LEFT, RIGHT = 0.1, 0.9  # a gate below LEFT is left-saturated, above RIGHT right-saturated
SATURATION_GATES = ("input", "forget", "output")  # an LSTM's sigmoid gates
SATURATION_GATES_OF = {"lstm": SATURATION_GATES, "gru": ("reset", "update"), "rnn": ()}  # each kind's sigmoid gates
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
QUOTE_EDGES = (1, 5, 10, 20, 40, 80, 160, 320, 640, 10**9)  # distance bins [low, high) of the long-memory test
NO_SATURATION = "{} has no gates: gate saturation has no meaning for it"  # the kind, named


def saturation_gates(kind: str) -> tuple[str, ...]:
    """The gates whose saturation `gate_saturation` measures for a kind (its sigmoid gates); a
    ValueError of one line for a vanilla RNN, which has none."""
    if not SATURATION_GATES_OF[kind]:
        raise ValueError(NO_SATURATION.format(NAMED[kind]))
    return SATURATION_GATES_OF[kind]


def gate_saturation(trace, layer: int) -> pd.DataFrame:
    """Rows (gate, cell, left, right): the fraction of characters where each of `layer`'s gates
    (an LSTM's input, forget and output; a GRU's reset and update) is below 0.1 (left) or above
    0.9 (right). A vanilla RNN has no gates: a ValueError that says so."""
    names = saturation_gates(trace.kind)
    if not 0 <= layer < trace.shape[0]:
        raise ValueError(f"layer {layer} does not exist; the model has layers 0 to {trace.shape[0] - 1}")
    if not trace.shape[1]:
        raise ValueError("the text is empty")
    gates = trace.gates(names, layer)  # name -> (T, H)
    H = trace.shape[2]
    return pd.DataFrame(
        {
            "gate": np.repeat(names, H),
            "cell": np.tile(np.arange(H), len(names)),
            "left": np.concatenate([(gates[g] < LEFT).mean(axis=0) for g in names]),
            "right": np.concatenate([(gates[g] > RIGHT).mean(axis=0) for g in names]),
        }
    )


def loss_difference(trace, ngram) -> np.ndarray:
    """(T,) the model's loss minus the n-gram's in nats (negative where the model's memory pays);
    NaN where the next character is unknown or absent."""
    return trace.loss_per_char - ngram.loss_per_char(trace.text)


def error_breakdown(trace, ngram) -> pd.DataFrame:
    """The model's errors on the trace's text, attributed to the paper's oracles in order."""
    return error_breakdown_from(trace.text, trace.loss_per_char, ngram)


def of_text(trace, ngram) -> dict:
    """Every analysis of one traced text, as the Analyses page shows it live: mean losses, the
    per-character loss difference, gate saturation per layer (none for a vanilla RNN:
    "saturation_problem" says why), the error breakdown and the closing distance
    ("closing_problem" says why there is none)."""
    lstm_loss, ngram_loss = trace.loss_per_char, ngram.loss_per_char(trace.text)
    breakdown = error_breakdown(trace, ngram)
    gated = bool(SATURATION_GATES_OF[trace.kind])
    result = {
        "problem": None,
        "lstm": float(np.nanmean(lstm_loss)),
        "ngram": float(np.nanmean(ngram_loss)),
        "difference": lstm_loss - ngram_loss,
        "saturation": [gate_saturation(trace, layer) for layer in range(trace.shape[0])] if gated else [],
        "saturation_problem": None if gated else NO_SATURATION.format(NAMED[trace.kind]),
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


def quote_memory(trace, edges=QUOTE_EDGES) -> pd.DataFrame:
    """The long-memory test on the trace's text: see `quote_memory_from`."""
    return quote_memory_from(trace.text, trace.loss_per_char, edges)


def quote_memory_from(text: str, loss: np.ndarray, edges=QUOTE_EDGES) -> pd.DataFrame:
    """The probability the model gave each closing double quote, by its distance from the opening
    quote (pairs as `pairs` finds them), averaged per distance bin: rows (low, high, p, pairs) for
    the bins [low, high) that hold a pair. `loss` (T,) is the model's per-character loss (nats of
    predicting character t + 1). A ValueError when the text closes no quote."""
    found = pairs(text, "quote")
    if not len(found):
        raise ValueError("the text has no pairs of double quotes to measure")
    p = np.exp(-np.asarray(loss, dtype=np.float64)[found[:, 1] - 1])  # p(") where the closer is predicted
    table = pd.DataFrame({"kind": "quote", "distance": found[:, 1] - found[:, 0], "lstm": p, "ngram": np.nan})
    return distance_bins(table, edges).rename(columns={"lstm": "p"})[["low", "high", "p", "pairs"]]


def advantage_by_character(text: str, lstm_loss: np.ndarray, ngram_loss: np.ndarray, top: int = 12) -> pd.DataFrame:
    """The next characters on which the model saves the most nats over the n-gram, in total:
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
