"""Visible stand-ins for characters that would otherwise show as nothing."""

from __future__ import annotations

import html

from ..core.vocab import UNKNOWN_SYMBOL

NAMES = {" ": "\u2423", "\n": "\u21b5", "\t": "\u21e5", "\r": "\u240d"}  # space, newline, tab, CR
UNKNOWN_WORDS = "any other character"  # what the unknown slot (vocab.UNKNOWN_SYMBOL) stands for, in words


def label(char: str) -> str:
    """A printable label for one character: whitespace and control characters get a symbol."""
    if char in NAMES:
        return NAMES[char]
    if len(char) == 1 and (ord(char) < 32 or ord(char) == 127):
        return f"U+{ord(char):04X}"
    return char


def words(char: str) -> str:
    """`label`, but the model's unknown slot named in words: every character outside its alphabet."""
    return UNKNOWN_WORDS if char == UNKNOWN_SYMBOL else label(char)


def plotly_label(char: str) -> str:
    """`label` escaped for plotly, which reads its text as a small subset of HTML."""
    return html.escape(label(char), quote=False)
