"""Every session-state value checked before a run reads it: a missing, unknown-typed or malformed
value (a client other than the page, a tab left open across a deploy) is put back to its default.

`state.DEFAULTS` gives each key's default; its type is the type the key must hold, except where
`KINDS` says otherwise. Whether a choice is one of its widget's options is checked where the widget
is drawn (`state.choose`). Plain functions: no Streamlit here.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping

MOST = 10**9  # no count, index or seed the page uses is larger


def whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MOST


def number(value) -> bool:
    return isinstance(value, float) and math.isfinite(value) and abs(value) <= MOST


def text(value) -> bool:
    return isinstance(value, str)


def texts(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def optional(check):
    return lambda value: value is None or check(value)


# Keys whose values are not the type of their default.
KINDS = {
    "dims": lambda v: isinstance(v, tuple) and len(v) == 2 and all(whole(n) and n >= 1 for n in v),
    "notes": texts,
    "notes_for": optional(lambda v: isinstance(v, dict) and all(map(text, v.values()))),
    "uploads": optional(texts),
    "uploads_dropped": optional(texts),
    "upload_error": optional(text),
    "find_start": optional(whole),
    "find_end": optional(whole),
    "ablation_for": optional(text),
    "steered": optional(lambda v: isinstance(v, tuple)),
}
BY_TYPE = {bool: lambda v: isinstance(v, bool), int: whole, float: number, str: text}


def valid(key: str, value, default) -> bool:
    """Whether `value` may stand for `key`, whose default is `default`."""
    check = KINDS.get(key) or BY_TYPE.get(type(default))
    return check(value) if check else type(value) is type(default)


def repair(state: MutableMapping, defaults: dict) -> list[str]:
    """Put every key of `defaults` that is missing or not valid back to its default; the keys mended."""
    mended = []
    for key, default in defaults.items():
        if key not in state or not valid(key, state[key], default):
            state[key] = default
            mended.append(key)
    return mended
