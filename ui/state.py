"""What the visitor has chosen: read from a shared URL, checked, and written back to it.

Plain functions over mappings (st.session_state, st.query_params or dicts in tests).
Layers are numbered from 1 in the URL and the page, from 0 in the session and the library.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping

from lstm_viz import normalise

from .examples import CUSTOM, EXAMPLES, default_example
from .signals import SIGNALS

LIMIT = 10_000  # characters of text the app traces
DEFAULT_MODEL = "warpeace"
URL_KEYS = ("model", "layer", "cell", "signal", "example", "pos")


def default_model(models: list[str]) -> str:
    return DEFAULT_MODEL if DEFAULT_MODEL in models else models[0]


def text_problem(text: str) -> str | None:
    """One line saying why a text cannot be traced, or None if it can."""
    n = len(normalise(text))
    if n > LIMIT:
        return (f"This text has {n:,} characters; the limit is {LIMIT:,}. "
                f"Shorten it to see it coloured (the box keeps what you typed).")
    return None


QUOTED = 40  # characters of a value from the link that a notice repeats


def quoted(key: str, raw: str) -> str:
    """`key='value'` from the link as a notice shows it: shortened, and as inline code, so that a
    shared link cannot put its own links (markdown, or bare URLs) or formatting on the page."""
    shown = f"{key}={raw if len(raw) <= QUOTED else raw[:QUOTED] + chr(0x2026)!r}"
    fence = "`" * (max(map(len, re.findall("`+", shown)), default=0) + 1)  # longer than any run inside
    return f"{fence}{shown}{fence}"


def _integer(query: Mapping, key: str, notes: list[str]) -> int | None:
    raw = query.get(key)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        notes.append(f"Ignored {quoted(key, raw)} from the link: not a whole number.")
        return None


def from_query(query: Mapping, models: list[str]) -> tuple[dict, list[str]]:
    """A new session's choices from the URL, and a note for every value that was ignored."""
    notes: list[str] = []
    model = query.get("model")
    if model is not None and model not in models:
        notes.append(f"Ignored {quoted('model', model)} from the link: no such model (have {', '.join(models)}).")
    model = model if model in models else default_model(models)
    example = query.get("example")
    if example is not None and example not in EXAMPLES:
        notes.append(f"Ignored {quoted('example', example)} from the link: choose one of {', '.join(EXAMPLES)}.")
    example = example if example in EXAMPLES else default_example(model)
    signal = query.get("signal")
    if signal is not None and signal not in SIGNALS:
        notes.append(f"Ignored {quoted('signal', signal)} from the link: choose one of {', '.join(SIGNALS)}.")
    layer = _integer(query, "layer", notes)
    cell = _integer(query, "cell", notes)
    pos = _integer(query, "pos", notes)
    return {
        "suggest": layer is None and cell is None,  # no cell in the link: show the example's best one
        "model": model,
        "layer": layer - 1 if layer is not None else 0,
        "cell": cell if cell is not None else 0,
        "signal": signal if signal in SIGNALS else "cell",
        "example": example,
        "text": EXAMPLES[example].text,
        "pos": pos if pos is not None else 0,
    }, notes


def suggest(state: MutableMapping, model: str, find) -> None:
    """Show the current example's most telling cell, and remember why for `suggestion_note`.

    find(model, text, feature) -> {"layer", "cell", "statistic", "score"} (cache.suggestion).
    """
    example = state["example"]
    if example in EXAMPLES:
        found = find(model, EXAMPLES[example].text, EXAMPLES[example].feature)
        state.update(layer=found["layer"], cell=found["cell"], suggested={**found, "model": model, "example": example})


def fit_to_model(state: MutableMapping, layers: int, hidden: int) -> list[str]:
    """Move layer and cell into the model's range; a note for each value that moved."""
    notes = []
    if not 0 <= state["layer"] < layers:
        notes.append(f"Layer {state['layer'] + 1} does not exist in this model (1 to {layers}); showing layer 1.")
        state["layer"] = 0
    if not 0 <= state["cell"] < hidden:
        notes.append(f"Cell {state['cell']} does not exist in this model (0 to {hidden - 1}); showing cell 0.")
        state["cell"] = 0
    return notes


def holding_dims(state: Mapping) -> tuple[int, int]:
    """(layers, cells) for pickers that only hold their values: the last model's, or just enough."""
    layers, hidden = state.get("dims", (1, 1))
    return max(layers, state["layer"] + 1), max(hidden, state["cell"] + 1)


def fit_position(pos: int, length: int) -> int:
    """The selected position, inside a text of `length` characters."""
    return min(max(pos, 0), max(length - 1, 0))


def to_query(state: Mapping) -> dict[str, str]:
    """The URL's query parameters for the current choices (own text is not put in links)."""
    query = {"model": state["model"], "layer": str(state["layer"] + 1), "cell": str(state["cell"]),
             "signal": state["signal"], "pos": str(state["pos"])}
    if state["example"] != CUSTOM:
        query["example"] = state["example"]
    return query
