"""Hypotheses: per-character signals computed from the text alone, to compare cells against;
the hand-written ones registered here by name (`FEATURES`, the finder's list; a registered
hypothesis's name is what `find_cells` takes).

Every hypothesis maps a text of T characters to an array (T,) aligned with it: `binary` ones
(bool) say whether character t is inside something (a quote, a comment...), `count` ones
(int64) say how much of something (line position, bracket depth...). Values describe the state
after reading character t, like the cell values of a trace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import regex as user_re  # users' patterns: re's syntax, plus a timeout on matching

from .checks import check_choice
from .vocab import codepoints

BINARY, COUNT = "binary", "count"
REGEX_TIMEOUT_S = 1.0  # longest a user's regular expression may search one text


@dataclass(frozen=True)
class Hypothesis:
    """A named per-character signal of a text: `program(text)` gives a (T,) array, one number per
    character (the hand-written ones here, the generated family in `lstm_viz.find.hypotheses`)."""

    key: str  # unique in its family; a registered hypothesis's name
    label: str  # plain words
    about: str = ""  # the characters whose prediction it is about ("" = every character)
    program: Callable[[str], np.ndarray] | None = None  # None for `regex`, which needs a pattern
    kind: str | None = None  # BINARY or COUNT where declared (the registered ones)

    def __call__(self, text: str) -> np.ndarray:
        values = np.asarray(self.program(text))
        if values.shape != (len(text),):
            raise ValueError(f"hypothesis {self.key!r} gave shape {values.shape} for {len(text)} characters")
        return values


def is_in(cp: np.ndarray, symbols: str) -> np.ndarray:
    """(T,) bool: which code points are one of `symbols`."""
    return np.isin(cp, codepoints(symbols))


def spans_mask(starts, ends, n: int) -> np.ndarray:
    """(n,) bool: True inside any of the half-open spans [starts[i], ends[i])."""
    starts = np.clip(np.asarray(starts, dtype=np.int64), 0, n)
    ends = np.clip(np.asarray(ends, dtype=np.int64), 0, n)
    edges = np.zeros(n + 1, dtype=np.int64)
    np.add.at(edges, starts, 1)
    np.add.at(edges, ends, -1)
    return np.cumsum(edges[:n]) > 0


def regex_mask(text: str, pattern, flags: int = 0) -> np.ndarray:
    """(T,) bool: True on the characters of every match of `pattern` (empty matches mark nothing)."""
    spans = np.array([m.span() for m in re.finditer(pattern, text, flags)], dtype=np.int64).reshape(-1, 2)
    return spans_mask(spans[:, 0], spans[:, 1], len(text))


def last_index(flags: np.ndarray) -> np.ndarray:
    """(T,) int64: index of the last True at or before each position, -1 before the first."""
    return np.maximum.accumulate(np.where(flags, np.arange(len(flags)), -1)) if len(flags) else np.zeros(0, np.int64)


def clamped_depth(steps: np.ndarray) -> np.ndarray:
    """Running sum of +1/-1/0 steps that never goes below zero (a closer at depth 0 is ignored)."""
    total = np.cumsum(steps, dtype=np.int64)
    return total - np.minimum(np.minimum.accumulate(total), 0) if len(total) else total


def quotes(text: str) -> np.ndarray:
    """Inside double quotes, from an opening quote up to (not including) its closing one.

    A straight quote " toggles; curly quotes open and close. Quotes may span lines, but a
    blank line ends any quote still open (an unclosed quote never inverts the rest of a text).
    """
    cp = codepoints(text)
    newline = cp == ord("\n")
    event = is_in(cp, '"\u201c\u201d')
    event[1:] |= newline[1:] & newline[:-1]  # the second newline of a blank line
    state = np.zeros(len(cp), dtype=bool)
    inside = False
    for t in np.flatnonzero(event):  # quotes and blank lines only: a few per hundred characters
        inside = (not inside) if text[t] == '"' else text[t] == "\u201c"
        state[t] = inside
    last = last_index(event)
    return (last >= 0) & state[last]


def line_position(text: str) -> np.ndarray:
    """Characters read on the current line: 1 for a line's first character, 0 for the newline."""
    pos = np.arange(len(text), dtype=np.int64)
    return pos - last_index(codepoints(text) == ord("\n"))


def depth(text: str, openers: str, closers: str) -> np.ndarray:
    """Nesting depth after each character: an opener counts itself, a closer does not."""
    cp = codepoints(text)
    return clamped_depth(is_in(cp, openers).astype(np.int64) - is_in(cp, closers))


def bracket_depth(text: str) -> np.ndarray:
    return depth(text, "([{", ")]}")


def paren_depth(text: str) -> np.ndarray:
    return depth(text, "(", ")")


C_TOKENS = re.compile(
    r"(?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))"
    r"|(?P<string>\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*')",
    re.S,
)


def c_tokens(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(T,) bool masks of C comments and of string or character literals, scanned left to right
    so that // inside a string or " inside a comment is read the way a compiler reads it."""
    spans = {"comment": [], "string": []}
    for m in C_TOKENS.finditer(text):
        spans[m.lastgroup].append(m.span())
    return tuple(
        spans_mask(*np.array(spans[k], dtype=np.int64).reshape(-1, 2).T, len(text)) for k in ("comment", "string")
    )


def comment(text: str) -> np.ndarray:
    """Inside a C comment: /* ... */ (an unclosed one runs to the end) or // to the end of the line."""
    return c_tokens(text)[0]


def match_after(
    positions: np.ndarray, levels: np.ndarray, targets: np.ndarray, target_levels: np.ndarray, n: int
) -> np.ndarray:
    """For each position p with level d, the first target q > p with level d; n where there is none."""
    keys = target_levels * (n + 1) + targets
    order = np.sort(keys)
    i = np.searchsorted(order, levels * (n + 1) + positions, side="right")
    found = order[np.minimum(i, len(order) - 1)] if len(order) else np.zeros(len(positions), np.int64)
    ok = (i < len(order)) & (found // (n + 1) == levels)
    return np.where(ok, found % (n + 1), n)


def if_spans(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starts (of `if`), condition ends (past its `)`) and body ends of every `if (` in code."""
    return keyword_spans(text, "if")


def keyword_spans(text: str, word: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starts (of `word`), condition ends (past its `)`) and body ends of every `word (` in code.

    Only code counts: the keyword, brackets and `;` inside comments and literals are skipped. The
    body is the `{ ... }` block after the condition, or else the statement through its `;`.
    Anything left unclosed runs to the end of the text.
    """
    n = len(text)
    comments, strings = c_tokens(text)
    code = ~(comments | strings)
    pattern = re.compile(rf"(?<![#\w]){re.escape(word)}\s*\(")
    starts = np.array([m.start() for m in pattern.finditer(text) if code[m.start()]], dtype=np.int64)
    if not len(starts):
        return starts, starts, starts
    opens = np.array([text.index("(", s) for s in starts], dtype=np.int64)
    cp = np.where(code, codepoints(text), ord(" "))  # (T,) code points, comments and literals blanked
    paren = clamped_depth((cp == ord("(")).astype(np.int64) - (cp == ord(")")))
    brace = clamped_depth((cp == ord("{")).astype(np.int64) - (cp == ord("}")))
    closes = np.flatnonzero(cp == ord(")"))
    cond_end = match_after(opens, paren[opens] - 1, closes, paren[closes], n)  # the ")" (n: unclosed)
    last = np.minimum(cond_end, n - 1)
    solid = np.flatnonzero(~is_in(cp, " \t\n\v\f"))
    k = np.searchsorted(solid, cond_end, side="right")
    first = np.where(k < len(solid), solid[np.minimum(k, len(solid) - 1)], n)  # body's first character
    block = (first < n) & (cp[np.minimum(first, n - 1)] == ord("{"))
    braces = np.flatnonzero(cp == ord("}"))
    block_end = match_after(first, brace[np.minimum(first, n - 1)] - 1, braces, brace[braces], n)
    semis = np.flatnonzero(cp == ord(";"))
    stmt_end = match_after(cond_end, paren[last], semis, paren[semis], n)
    body_end = np.where(cond_end < n, np.where(block, block_end, stmt_end), n)
    return starts, np.minimum(cond_end + 1, n), np.minimum(body_end + 1, n)


def if_condition(text: str) -> np.ndarray:
    """From an `if` through its condition's matching `)` (an unclosed one runs to the end)."""
    starts, cond_ends, _ = if_spans(text)
    return spans_mask(starts, cond_ends, len(text))


def if_body(text: str) -> np.ndarray:
    """After an `if`'s condition: its { ... } block, or the single statement through its `;`."""
    _, cond_ends, body_ends = if_spans(text)
    return spans_mask(cond_ends, body_ends, len(text))


WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s|\Z)\s*")


def in_word(text: str) -> np.ndarray:
    """Letters of a word (apostrophes between letters included, as in don't)."""
    return regex_mask(text, WORD)


def sentence_end(text: str) -> np.ndarray:
    """A sentence's final . ! or ? (with closing quotes or brackets) and the whitespace after it."""
    return regex_mask(text, SENTENCE_END)


def user_regex(text: str, pattern: str) -> np.ndarray:
    """Characters inside any match of `pattern` (multiline: ^ and $ match at every line).

    A pattern that backtracks for longer than REGEX_TIMEOUT_S is stopped with a ValueError, so
    a visitor's `(a+)+$` cannot tie up the server.
    """
    compiled = compile_regex(pattern)
    try:
        spans = [m.span() for m in compiled.finditer(text, timeout=REGEX_TIMEOUT_S)]
    except TimeoutError:
        raise ValueError(
            f"regular expression {pattern!r} ran for over {REGEX_TIMEOUT_S:g} s on this text "
            "(too much backtracking); simplify it"
        ) from None
    spans = np.array(spans, dtype=np.int64).reshape(-1, 2)
    return spans_mask(spans[:, 0], spans[:, 1], len(text))


def compile_regex(pattern: str) -> user_re.Pattern:
    """`pattern` compiled with MULTILINE; a ValueError of one line if it is not a valid regex."""
    if not pattern:
        raise ValueError("the regex hypothesis needs a non-empty pattern")
    try:
        return user_re.compile(pattern, user_re.MULTILINE | user_re.VERSION0)
    except user_re.error as e:
        raise ValueError(f"bad regular expression {pattern!r}: {e}") from None


FEATURES: dict[str, Hypothesis] = {
    h.key: h
    for h in (
        Hypothesis("quotes", "inside double quotes (a blank line ends an unclosed quote)", '"', quotes, BINARY),
        Hypothesis("line_position", "characters since the last newline", "\n", line_position, COUNT),
        Hypothesis("bracket_depth", "nesting depth of ( [ { brackets", ")]}", bracket_depth, COUNT),
        Hypothesis("paren_depth", "nesting depth of ( parentheses only", ")", paren_depth, COUNT),
        Hypothesis("if_condition", "from `if` through its condition's closing )", ")", if_condition, BINARY),
        Hypothesis("if_body", "the block or statement after an if's condition", "};", if_body, BINARY),
        Hypothesis("comment", "inside a C comment: /* ... */ or // to the end of the line", "/\n", comment, BINARY),
        Hypothesis("in_word", "letters of a word", " ", in_word, BINARY),
        Hypothesis("sentence_end", "a sentence's final . ! or ? and the space after it", "", sentence_end, BINARY),
        Hypothesis("regex", "characters inside any match of your regular expression", kind=BINARY),
    )
}


def get(name: str) -> Hypothesis:
    """The registered hypothesis `name`; a ValueError listing the valid names otherwise."""
    return FEATURES[check_choice("hypothesis", name, FEATURES)]


def compute(name: str, text: str, regex: str | None = None) -> np.ndarray:
    """(T,) values of hypothesis `name` on `text` (bool for binary ones, int64 for counts)."""
    feature = get(name)
    if name == "regex":
        return user_regex(text, regex)
    if regex is not None:
        raise ValueError(f"a regex pattern only goes with the regex hypothesis, not with {name!r}")
    return feature(text)


def compute_all(text: str, names=None) -> dict[str, np.ndarray]:
    """Every pattern-free hypothesis (or those in `names`) on `text`, by name."""
    names = [n for n in FEATURES if n != "regex"] if names is None else list(names)
    return {n: compute(n, text) for n in names}
