"""Visible stand-ins for characters that would otherwise show as nothing."""

from __future__ import annotations

import html

NAMES = {" ": "\u2423", "\n": "\u21b5", "\t": "\u21e5", "\r": "\u240d"}  # space, newline, tab, CR


def label(char: str) -> str:
    """A printable label for one character: whitespace and control characters get a symbol."""
    if char in NAMES:
        return NAMES[char]
    if len(char) == 1 and (ord(char) < 32 or ord(char) == 127):
        return f"U+{ord(char):04X}"
    return char


def plotly_label(char: str) -> str:
    """`label` escaped for plotly, which reads its text as a small subset of HTML."""
    return html.escape(label(char), quote=False)
