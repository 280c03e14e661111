"""The generated family of hypotheses: programs over a text that give one number per character.

`generate(text, alphabet)` writes the family from what the text and the model's alphabet hold,
not from a hand-made list: every delimiter pair seen (quotes of each kind, brackets, comment
markers, `//` to the end of the line), each with no end, a blank line or a newline ending it,
and the depth of each bracket kind (each with those three ends too); characters since the last
occurrence of each frequent character and character class (line and word position among them),
raw and as a logarithm;
the current, previous and next character in a class or equal to each frequent character; the
frequent words; in code, the parentheses and the body after each keyword found in the text and
the statement after each statement keyword; and the 9 hand-written hypotheses of
`lstm_viz.core.features`, where the `Hypothesis` class is defined. Each hypothesis has a
plain-words `label` and `about`, the characters whose prediction it is about (the closer of a
pair, the character counted from...; "" for all), which
the causal check in `lstm_viz.find.explainer` scores.

Values describe the state after reading character t, like the cell values of a trace.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core import features
from ..core.features import Hypothesis
from ..core.vocab import codepoints, normalise

FREQUENT_SHARE = 0.002  # a character is frequent from this share of the text on
MAX_FREQUENT = 48  # at most this many frequent characters
MAX_WORDS = 32  # frequent words tried as "inside the word ..."
MIN_DELIMITERS = 10  # a delimiter must occur this often to be tried
MAX_KEYWORDS = 12  # keywords of each kind found in code
ENDS = {None: "", "blank": " (a blank line ends it)", "newline": " (a newline ends it)"}
CLASSES = {  # name in labels -> test of one character
    "a letter": str.isalpha,
    "a digit": str.isdigit,
    "a space, tab or newline": str.isspace,
    "upper case": str.isupper,
    "punctuation": lambda c: unicodedata.category(c).startswith("P"),
}
COMMENTS = (("/*", "*/"), ("<!--", "-->"))  # multi-character pairs, tried when both halves occur
LINE_COMMENTS = ("//", "#", "--")  # to the end of the line, tried where they start lines or follow code


@dataclass(frozen=True)
class Program:
    """function(text, *args): a program of the family with its arguments bound."""

    function: Callable
    args: tuple = ()

    def __call__(self, text: str) -> np.ndarray:
        return self.function(text, *self.args)


NAMED = {" ": "space", "\n": "newline", "\t": "tab", '"': "double quote", "'": "apostrophe", "`": "backquote"}


def noun(c: str) -> str:
    """A character as labels write it after "the": its name (space, newline, double quote...) where
    the character itself would not read well in quotes, else the character in quotes."""
    return NAMED.get(c, f'"{c}"')


def name(c: str) -> str:
    """A character as labels write it: a space, an apostrophe..., or the character in quotes."""
    return f"{'an' if NAMED[c][0] in 'aeiou' else 'a'} {NAMED[c]}" if c in NAMED else noun(c)


# Programs ------------------------------------------------------------------------------------


def is_char(text: str, chars: str, shift: int = 0) -> np.ndarray:
    """(T,) bool: the character at t + shift is one of `chars` (False past either end)."""
    hit = features.is_in(codepoints(text), chars)
    out = np.zeros(len(text), dtype=bool)
    if shift >= 0:
        out[: len(text) - shift] = hit[shift:]
    else:
        out[-shift:] = hit[:shift]
    return out


def since(text: str, chars: str, log: bool = False) -> np.ndarray:
    """(T,) characters read since the last one of `chars` (0 on it; t + 1 before the first)."""
    pos = np.arange(len(text), dtype=np.int64)
    count = pos - features.last_index(features.is_in(codepoints(text), chars))
    return np.log1p(count) if log else count


def markers(text: str, marker: str) -> np.ndarray:
    """(T,) bool: the last character of every occurrence of `marker` (left to right, no overlap)."""
    out = np.zeros(len(text), dtype=bool)
    out[[m.end() - 1 for m in re.finditer(re.escape(marker), text)]] = True
    return out


def blank_lines(text: str) -> np.ndarray:
    """(T,) bool: the second newline of every blank line."""
    newline = codepoints(text) == ord("\n")
    out = np.zeros(len(text), dtype=bool)
    out[1:] = newline[1:] & newline[:-1]
    return out


def nesting(text: str, opener: str, closer: str, end: str | None = None) -> np.ndarray:
    """(T,) int64 depth inside opener ... closer after each character.

    An opener counts from its last character on, a closer stops counting at its last character
    (so it is outside), and a closer at depth 0 is ignored. When opener == closer the marker
    toggles between 0 and 1. `end`: "blank" (a blank line) or "newline" sets the depth to 0.
    """
    n = len(text)
    opens, closes = markers(text, opener), markers(text, closer)
    resets = (
        blank_lines(text)
        if end == "blank"
        else (codepoints(text) == ord("\n"))
        if end == "newline"
        else np.zeros(n, dtype=bool)
    )
    events = np.flatnonzero(opens | closes | resets)
    state = np.zeros(n, dtype=np.int64)
    level = 0
    for t in events:  # markers and line ends only: a few per hundred characters
        if resets[t]:
            level = 0
        elif opener == closer:
            level = 1 - level
        elif opens[t]:
            level += 1
        elif level > 0:
            level -= 1
        state[t] = level
    last = features.last_index(opens | closes | resets)
    return np.where(last >= 0, state[np.maximum(last, 0)], 0)


def inside(text: str, opener: str, closer: str, end: str | None = None) -> np.ndarray:
    """(T,) bool: inside at least one opener ... closer (see `nesting`)."""
    return nesting(text, opener, closer, end) > 0


def to_line_end(text: str, marker: str) -> np.ndarray:
    """(T,) bool: from `marker` through the end of its line (the newline itself is outside)."""
    return features.regex_mask(text, re.escape(marker) + r"[^\n]*")


def keyword_condition(text: str, word: str) -> np.ndarray:
    """(T,) bool: from `word` through its condition's matching `)` (code only)."""
    starts, cond_ends, _ = features.keyword_spans(text, word)
    return features.spans_mask(starts, cond_ends, len(text))


def keyword_body(text: str, word: str) -> np.ndarray:
    """(T,) bool: the { ... } block or the statement through `;` after `word (...)` (code only)."""
    _, cond_ends, body_ends = features.keyword_spans(text, word)
    return features.spans_mask(cond_ends, body_ends, len(text))


def statement_after(text: str, word: str) -> np.ndarray:
    """(T,) bool: from `word` through the `;` that ends its statement (code only; at the same
    parenthesis depth; an unfinished one runs to the end)."""
    n = len(text)
    comments, strings = features.c_tokens(text)
    code = ~(comments | strings)
    starts = np.array(
        [m.start() for m in re.finditer(rf"(?<![#\w]){re.escape(word)}\b", text) if code[m.start()]], dtype=np.int64
    )
    if not len(starts):
        return np.zeros(n, dtype=bool)
    cp = np.where(code, codepoints(text), ord(" "))
    paren = features.clamped_depth((cp == ord("(")).astype(np.int64) - (cp == ord(")")))
    semis = np.flatnonzero(cp == ord(";"))
    ends = features.match_after(starts, paren[starts], semis, paren[semis], n)
    return features.spans_mask(starts, np.minimum(ends + 1, n), n)


def word_mask(text: str, word: str) -> np.ndarray:
    """(T,) bool: the characters of every whole-word occurrence of `word`."""
    return features.regex_mask(text, rf"(?<!\w){re.escape(word)}(?!\w)")


def registered(text: str, feature: str) -> np.ndarray:
    return features.compute(feature, text)


# What the text holds -------------------------------------------------------------------------


def frequent_chars(text: str, alphabet=None) -> list[str]:
    """Characters of the alphabet (all seen ones if None) making up at least FREQUENT_SHARE of the
    text, most frequent first, at most MAX_FREQUENT."""
    counts = Counter(text)
    allowed = set(alphabet) if alphabet is not None else set(counts)
    least = max(1, FREQUENT_SHARE * len(text))
    return [c for c, k in counts.most_common() if c in allowed and k >= least][:MAX_FREQUENT]


def bracket_pairs(chars) -> list[tuple[str, str]]:
    """(opener, closer) of every character named LEFT ... whose RIGHT twin is also among `chars`."""
    pairs = []
    for c in sorted(chars):
        label = unicodedata.name(c, "")
        if "LEFT" in label and unicodedata.category(c) in ("Ps", "Pi"):
            try:
                twin = unicodedata.lookup(label.replace("LEFT", "RIGHT"))
            except KeyError:
                continue
            if twin in chars:
                pairs.append((c, twin))
    return pairs


def quote_marks(chars) -> list[str]:
    """Characters among `chars` that open and close alike: straight quotes, apostrophe, backtick."""
    return [c for c in sorted(chars) if unicodedata.name(c, "") in ("QUOTATION MARK", "APOSTROPHE", "GRAVE ACCENT")]


def looks_like_code(text: str) -> bool:
    """At least 5% of the non-empty lines end with ; { or }."""
    lines = [line.rstrip() for line in text.split("\n") if line.strip()]
    return bool(lines) and sum(line[-1] in ";{}" for line in lines) >= 0.05 * len(lines)


def keywords(text: str) -> tuple[list[str], list[str]]:
    """(condition keywords, statement keywords) found in code, most frequent first.

    A condition keyword is a lower-case word written `word (` with a space at least half the
    times it meets a `(`, at least MIN_DELIMITERS times (if, for, while, switch: calls are
    written `f(`). A statement keyword starts an indented line at least MIN_DELIMITERS
    times and is followed by `(` less than a tenth of the times it occurs (return, goto, case).
    """
    if not looks_like_code(text):
        return [], []
    spaced = Counter(re.findall(r"(?<![#\w])([a-z_]+) \(", text))
    tight = Counter(re.findall(r"(?<![#\w])([a-z_]+)\(", text))
    cond = [w for w, k in spaced.most_common() if k >= MIN_DELIMITERS and k >= tight[w]][:MAX_KEYWORDS]
    starts = Counter(re.findall(r"\n[ \t]+([a-z_]+)\b", text))
    total = Counter(re.findall(r"(?<![#\w])([a-z_]+)\b", text))
    stmt = [
        w
        for w, k in starts.most_common()
        if k >= MIN_DELIMITERS and w not in cond and spaced[w] + tight[w] < 0.1 * total[w]
    ][:MAX_KEYWORDS]
    return cond, stmt


def frequent_words(text: str) -> list[str]:
    """The MAX_WORDS most frequent words (letters, digits or _, at least 2 characters, not all digits)."""
    counts = Counter(m for m in re.findall(r"(?<!\w)\w{2,}(?!\w)", text) if not m.isdigit())
    return [w for w, k in counts.most_common(MAX_WORDS) if k >= MIN_DELIMITERS]


# The family ----------------------------------------------------------------------------------


def generate(text: str, alphabet=None) -> list[Hypothesis]:
    """The family of hypotheses for a text, written from it and the model's `alphabet` (a list
    of characters; every character of the text if None). Keys are unique."""
    text = normalise(text)
    chars = set(text) if alphabet is None else set(alphabet) & set(text)
    counts = Counter(text)
    frequent = frequent_chars(text, alphabet)
    out: dict[str, Hypothesis] = {}

    def add(key, label, about, program, *args):
        out.setdefault(key, Hypothesis(key, label, about, Program(program, args)))

    for h in features.FEATURES.values():
        if h.program is not None:
            add(h.key, h.label, h.about, registered, h.key)
    for c in frequent:
        add(f"is:{c}", f"the current character is {name(c)}", "", is_char, c)
        add(f"prev:{c}", f"the previous character is {name(c)}", "", is_char, c, -1)
        add(f"next:{c}", f"the next character is {name(c)}", c, is_char, c, 1)
        add(f"since:{c}", f"characters since the last {noun(c)}", c, since, c)
        add(f"logsince:{c}", f"log of characters since the last {noun(c)}", c, since, c, True)
    for cls, test in CLASSES.items():
        members = "".join(sorted(c for c in chars if test(c)))
        if not members:
            continue
        add(f"is:{cls}", f"the current character is {cls}", "", is_char, members)
        add(f"next:{cls}", f"the next character is {cls}", members, is_char, members, 1)
        others = "".join(sorted(c for c in chars if not test(c)))
        if others:
            add(f"since-not:{cls}", f"characters since the last one that is not {cls}", others, since, others)
            add(f"since:{cls}", f"characters since the last one that is {cls}", members, since, members)
    add("since:blank", "log of characters since the last blank line", "\n", since_blank)
    pairs = [(a, b) for a, b in bracket_pairs(chars) if min(counts[a], counts[b]) >= MIN_DELIMITERS]
    pairs += [(q, q) for q in quote_marks(chars) if counts[q] >= MIN_DELIMITERS]
    pairs += [(a, b) for a, b in COMMENTS if min(text.count(a), text.count(b)) >= MIN_DELIMITERS]
    for opener, closer in pairs:
        shown = f"{opener}...{closer}"
        for end, words in ENDS.items():
            add(f"inside:{opener}|{closer}|{end}", f"inside {shown}{words}", closer[-1], inside, opener, closer, end)
            if opener != closer and len(opener) == 1:
                add(
                    f"depth:{opener}|{closer}|{end}",
                    f"depth of {opener} {closer}{words}",
                    closer[-1],
                    nesting,
                    opener,
                    closer,
                    end,
                )
    for marker in LINE_COMMENTS:
        if len(re.findall(rf"(?:^|[ \t;)]){re.escape(marker)}", text, re.M)) >= MIN_DELIMITERS:
            add(f"line:{marker}", f"from {marker} to the end of the line", "\n", to_line_end, marker)
    cond, stmt = keywords(text)
    for word in cond:
        add(f"cond:{word}", f"inside the ( ) after {word}", ")", keyword_condition, word)
        add(f"body:{word}", f"the body after {word} (...)", "};", keyword_body, word)
    for word in stmt:
        add(f"stmt:{word}", f"the statement after {word}, through its ;", ";", statement_after, word)
    for word in frequent_words(text):
        add(f"word:{word}", f'inside the word "{word}"', "", word_mask, word)
    return list(out.values())


def since_blank(text: str) -> np.ndarray:
    """(T,) log of 1 + characters since the last blank line (paragraph position)."""
    pos = np.arange(len(text), dtype=np.int64)
    return np.log1p(pos - features.last_index(blank_lines(text)))


@dataclass
class Table:
    """A family's table on one text: the hypotheses that vary on it, standardised by block."""

    family: list  # the Hypothesis objects kept (constant ones dropped)
    columns: list  # (T,) arrays in their own compact dtype, one per hypothesis
    mean: np.ndarray  # (F,) float64 over the whole text
    scale: np.ndarray  # (F,) float64 standard deviation over the whole text

    @classmethod
    def of(cls, family, text: str) -> Table:
        """Evaluate every hypothesis of `family` on `text`. Those constant on it are left out, and
        so is one that gives exactly the values of an earlier one (the earlier label is kept)."""
        text = normalise(text)
        kept, columns, means, scales, seen = [], [], [], [], set()
        for h in family:
            v = h(text)
            if v.dtype == np.float64 or v.dtype == np.float32:
                v = v.astype(np.float32)
            elif v.dtype != bool:
                v = v.astype(np.int32)
            wide = v.astype(np.float64)
            sd = wide.std()
            digest = hash(wide.tobytes())
            if not np.isfinite(sd) or sd == 0 or digest in seen:
                continue
            seen.add(digest)
            kept.append(h)
            columns.append(v)
            means.append(wide.mean())
            scales.append(sd)
        return cls(kept, columns, np.array(means), np.array(scales))

    def __len__(self) -> int:
        return len(self.family)

    def block(self, start: int, stop: int) -> np.ndarray:
        """(F, stop - start) float64 values of characters [start, stop), each hypothesis centred
        and scaled by its mean and standard deviation over the whole text."""
        out = np.empty((len(self.columns), stop - start), dtype=np.float64)
        for j, column in enumerate(self.columns):
            out[j] = column[start:stop]
        out -= self.mean[:, None]
        out /= self.scale[:, None]
        return out
