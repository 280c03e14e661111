"""Argument checks shared by the library, the CLI and the app, so each refusal reads the same."""

from __future__ import annotations


def check_choice(what: str, value, choices):
    """`value` if it is one of `choices`, else ValueError "unknown WHAT 'value'; choose one of a, b, c"."""
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(map(str, choices))}")
    return value
