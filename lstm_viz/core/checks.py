"""Argument checks shared by the library, the CLI and the app, so each refusal reads the same."""

from __future__ import annotations

import re

WHOLE = re.compile(r"[+-]?[0-9]+")


def quoted(value, most: int = 40) -> str:
    """`value`'s repr for a one-line message, cut to `most` characters with "..." when longer."""
    shown = repr(value)
    return shown if len(shown) <= most else shown[: most - 3] + "..."


def check_choice(what: str, value, choices):
    """`value` if it is one of `choices`, else ValueError "unknown WHAT 'value'; choose one of a, b, c"."""
    if value not in choices:
        raise ValueError(f"unknown {what} {quoted(value)}; choose one of {', '.join(map(str, choices))}")
    return value


def whole_number(text: str, what: str, low: int, high: int) -> int:
    """The whole number `text` spells, from `low` to `high`; ValueError naming `what` otherwise.

    The digits are counted before `int()` reads them, so a value of any length is refused in one
    line (Python refuses to convert more than 4,300 digits, and a long number is no cell anyway).
    """
    text = str(text).strip()
    if len(text) > len(str(max(abs(low), abs(high)))) + 1 or not WHOLE.fullmatch(text) or not low <= int(text) <= high:
        raise ValueError(f"{what} {quoted(text)} is not a whole number from {low:,} to {high:,}")
    return int(text)
