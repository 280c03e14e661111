"""What the visitor has chosen: every session-state key and its default, read from a shared URL,
checked, and written back to it.

Plain functions over mappings (st.session_state, st.query_params or dicts in tests).
Layers are numbered from 1 in the URL and the page, from 0 in the session and the library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping

from lstm_viz import normalise
from lstm_viz.core.checks import whole_number

from . import session_check, texts
from .examples import CUSTOM, EXAMPLES, default_example
from .signals import SIGNALS, offered

LIMIT = 10_000  # characters of text the app traces
DEFAULT_MODEL = "warpeace"
URL_KEYS = ("model", "layer", "cell", "signal", "example", "text", "pos")

# Every key the app keeps in st.session_state, with its default. Widget keys hold the widget's
# value (no widget is given a value of its own); Streamlit drops a widget's key on a run that
# does not draw it, and `start` puts the default back.
DEFAULTS = {
    # the choices, in the URL (widgets, except pos)
    "model": DEFAULT_MODEL,  # model picker
    "layer": 0,  # layer picker, 0-based
    "cell": 0,  # cell number box; the text view moves it too (see `follow_view`)
    "signal": "cell",  # what colours the text: a key of ui.session.signals.SIGNALS
    "example": default_example(DEFAULT_MODEL),  # example picker, or CUSTOM once the text is edited
    "text": EXAMPLES[default_example(DEFAULT_MODEL)].text,  # the text box
    "pos": 0,  # the selected position
    # plain values other pages read too (pages/ cannot rely on widget keys: they are dropped there)
    "shown_text": "",  # the text being traced: the last one within the limit
    "current_model": DEFAULT_MODEL,  # the model being shown
    "hypothesis": EXAMPLES[default_example(DEFAULT_MODEL)].hypothesis,  # the finder's; the example's own at first
    # bookkeeping
    "dims": (1, 1),  # (layers, cells) of the last model that loaded
    "jump": 0,  # counts cell moves made on the server; the text view follows a move when it changes
    "suggest": True,  # show the example's most telling cell on the next run
    "switch_note": "",  # what `switch_model` says on the next run (your own text was kept)
    "notes": [],  # one line for each choice that was ignored or moved; shown until the visitor changes one
    "notes_for": None,  # the choices (`to_query`) the notes were made for; None for a new session
    # your own model and figure downloads (ui/backend/own_model.py, ui/widgets/figure_menu.py)
    "uploads": None,  # names of the models this session uploaded (ui.backend.own_model.REGISTRY holds the models)
    "uploads_dropped": None,  # names of those the server dropped to make room, for a note on the next run
    "upload_error": None,  # why the last upload was refused
    "figure_kind": "text",
    "figure_scale": "fixed",
    "figure_cells": "",
    # the panels below the text (widgets)
    "panel": "Predictions",  # the open tab of ui.panels.PANELS
    "heatmap_order": "variation",
    "heatmap_rows": 32,
    "heatmap_custom": "",
    "heatmap_group": False,  # group the heatmap's rows by cell label (ui.session.labels)
    "label_search": "",  # the Cell labels tab's search words
    "find_mode": "hypothesis",
    "find_hypothesis": EXAMPLES[default_example(DEFAULT_MODEL)].hypothesis,  # the picker: `hypothesis` when drawn
    "find_regex": "",
    "compare_hypothesis": "quotes",  # the Compare tab's hypothesis (ui.views.compare_view)
    "find_start": None,  # None: at the selected position
    "find_end": None,  # None: ten characters after it
    # the Intervene tab (ui.views.intervene_view)
    # it opens on the finder's top cells held at their highest c: a continuation visibly different
    # on each shipped model's example (a clamp of a cell already at its value changes nothing)
    "iv_cells": "top",  # which cells: the chosen one, the finder's top ones, or typed ones
    "iv_top": 3,
    "iv_list": "",
    "iv_kind": "clamp",
    "iv_preset": "high",
    "iv_value": 0.0,
    "iv_factor": 0.0,
    "iv_span": "whole",
    "iv_start": 0,
    "iv_stop": 1,
    "iv_seed": 0,
    "explain": "contributions",
    "explain_method": "gradient_x_input",
    "ablation_for": None,  # payload.text_key of the (model, text) the ablation ranking was asked for
}

# The cell page's keys (pages/2_Cell.py, ui/views/cellpage_view.py); its cell comes from its address.
PAGE_DEFAULTS = {
    "page_goto": "",  # the box that opens another cell's page
    "steer_seed": 0,
    "steered": None,  # (model, layer, cell, seed) the steering button was pressed for: shown until the cell changes
}


def start(
    state: MutableMapping, query: Mapping, models: list[str], kind_of: Callable[[str], str], navigated: bool = False
) -> None:
    """Fill in the session: a new one from the link it was opened with, a run the browser's Back or
    Forward started (`navigated`) from the link it went to (`follow_link`); then every key missing
    or not valid (`session_check`) gets its default, and a model, example or signal that is not
    one of the page's the first it offers. `kind_of(model)` is a model's kind ("lstm", "gru",
    "rnn"): a link's signal is checked against the signals of its model's kind."""
    if not started(state):
        initial, notes = from_query(query, models, kind_of)
        state.update(initial, notes=notes)
    elif navigated:
        follow_link(state, query, models, kind_of)
    session_check.repair(state, DEFAULTS)
    if state["model"] not in models:  # the model folder went away, or a client sent another name
        state["model"] = default_model(models)
    choose(state, "example", [*EXAMPLES, CUSTOM])
    choose(state, "signal", list(SIGNALS))


def started(state: Mapping) -> bool:
    """Whether `start` has filled in this session (a new one is filled from its link)."""
    return "notes" in state


def start_page(state: MutableMapping) -> None:
    """Fill in the cell page's keys that are missing or not valid."""
    session_check.repair(state, PAGE_DEFAULTS)


def choose(state: MutableMapping, key: str, options) -> None:
    """Before a choice widget is drawn: its value one of its `options` (its default, else the first)."""
    options = list(options)
    if state.get(key) not in options:
        state[key] = DEFAULTS.get(key) if DEFAULTS.get(key) in options else options[0]


def show_in_main(state: MutableMapping, model: str, layer: int, cell: int) -> dict[str, str]:
    """Make the main page show a cell of a model (from another page); the main page's query
    parameters for it, which a session that has not opened the main page yet starts from."""
    state.update(model=model, current_model=model, layer=layer, cell=cell, suggest=False)
    state["jump"] = state.get("jump", 0) + 1
    return {"model": model, "layer": str(layer + 1), "cell": str(cell)}


def default_model(models: list[str]) -> str:
    return DEFAULT_MODEL if DEFAULT_MODEL in models else models[0]


def text_problem(text: str) -> str | None:
    """One line saying why a text cannot be traced, or None if it can."""
    n = len(normalise(text))
    if n > LIMIT:
        return (
            f"This text has {n:,} characters; the limit is {LIMIT:,}. "
            f"Shorten it to see it coloured (the box keeps what you typed)."
        )
    return None


QUOTED = 40  # characters of a value from the link that a notice repeats


def quoted(key: str, raw: str) -> str:
    """`key='value'` from the link as a notice shows it: shortened, and as inline code, so that a
    shared link cannot put its own links (markdown, or bare URLs) or formatting on the page."""
    shown = f"{key}={raw if len(raw) <= QUOTED else raw[:QUOTED] + chr(0x2026)!r}"
    fence = "`" * (max(map(len, re.findall("`+", shown)), default=0) + 1)  # longer than any run inside
    return f"{fence}{shown}{fence}"


DIGITS = 6  # the most digits of a layer, cell or position in a link: no model or text is larger


def _integer(query: Mapping, key: str, notes: list[str]) -> int | None:
    raw = query.get(key)
    if raw is None:
        return None
    try:
        return whole_number(raw, key, 1 - 10**DIGITS, 10**DIGITS - 1)
    except ValueError:
        notes.append(f"Ignored {quoted(key, raw)} from the link: not a whole number of at most {DIGITS} digits.")
        return None


def from_query(query: Mapping, models: list[str], kind_of: Callable[[str], str]) -> tuple[dict, list[str]]:
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
    signal, signals = query.get("signal"), offered(kind_of(model))  # this kind's signals
    if signal is not None and signal not in signals:
        notes.append(f"Ignored {quoted('signal', signal)} from the link: choose one of {', '.join(signals)}.")
    layer = _integer(query, "layer", notes)
    cell = _integer(query, "cell", notes)
    pos = _integer(query, "pos", notes)
    own = query.get("text")
    text = texts.get(own) if own is not None else None
    if own is not None and text is None:
        why = texts.problem()
        notes.append(
            f"Ignored {quoted('text', own)} from the link: "
            + (f"this server cannot keep texts ({why})." if why else "this server keeps no such text (any more).")
        )
    return {
        "suggest": layer is None and cell is None,  # no cell in the link: show the example's best one
        "model": model,
        "current_model": model,
        "layer": layer - 1 if layer is not None else 0,
        "cell": cell if cell is not None else 0,
        "signal": signal if signal in signals else "cell",
        "example": example if text is None else CUSTOM,
        "text": EXAMPLES[example].text if text is None else text,
        "hypothesis": EXAMPLES[example].hypothesis,
        "pos": pos if pos is not None else 0,
    }, notes


def follow_link(state: MutableMapping, query: Mapping, models: list[str], kind_of: Callable[[str], str]) -> None:
    """Show what a link of this page names, as a session opened with it would (`from_query`): the
    browser went Back or Forward to it. Every choice the page makes writes a new link
    (`sync_link`, a new entry in the browser's history), so Back and Forward step through them."""
    chosen, notes = from_query(query, models, kind_of)
    moved = (chosen["layer"], chosen["cell"]) != (state.get("layer"), state.get("cell"))
    state.update(chosen, notes=notes)
    if moved:
        state["jump"] = state.get("jump", 0) + 1  # the text view follows


def switch_model(state: MutableMapping) -> None:
    """The model picker moved to another model (`state["model"]`): that model's example and the cell
    it suggests for it, unless the text is the visitor's own, which is kept (and a note says so)."""
    model = state["model"]
    if state["example"] == CUSTOM:
        state["switch_note"] = (
            f"Kept your own text for {model}; pick one of its examples under Example text to see the "
            "kind of text it was trained on."
        )
        return
    example = default_example(model)
    hypothesis = EXAMPLES[example].hypothesis
    state.update(example=example, text=EXAMPLES[example].text, pos=0, suggest=True, hypothesis=hypothesis)


def model_notes(state: MutableMapping) -> list[str]:
    """The note `switch_model` left for this run, once."""
    note, state["switch_note"] = state["switch_note"], ""
    return [note] if note else []


def move_cell(state: MutableMapping, cell: int, layer: int | None = None) -> None:
    """Show another cell from the server side (a picker, a table, a chart): the text view jumps to it."""
    state["cell"] = cell
    if layer is not None:
        state["layer"] = layer
    state["jump"] += 1


def follow_view(state: MutableMapping, cell: int) -> None:
    """The text view has switched to `cell` itself: the page follows, the view is not moved."""
    state["cell"] = cell


def suggest(state: MutableMapping, model: str, find) -> None:
    """Show the example's most telling cell if one is due (the best cells' row under the text says
    which it is and marks it).

    find(model, text, hypothesis) -> {"layer", "cell", "match", "sign"} (cache.suggestion).
    """
    example = state["example"]
    if state["suggest"] and example in EXAMPLES:
        found = find(model, EXAMPLES[example].text, EXAMPLES[example].hypothesis)
        if found is not None:  # None: the example's hypothesis never changes on its text
            move_cell(state, found["cell"], found["layer"])
    state["suggest"] = False


def fit_to_model(state: MutableMapping, layers: int, hidden: int) -> list[str]:
    """Move layer and cell into the model's range; a note for each value that moved."""
    notes = []
    state["heatmap_rows"] = min(state["heatmap_rows"], hidden)
    if not 0 <= state["layer"] < layers:
        notes.append(f"Layer {state['layer'] + 1} does not exist in this model (1 to {layers}); showing layer 1.")
        state["layer"] = 0
    if not 0 <= state["cell"] < hidden:
        notes.append(f"Cell {state['cell']} does not exist in this model (0 to {hidden - 1}); showing cell 0.")
        move_cell(state, 0)
    return notes


def standing_notes(state: MutableMapping, new: list[str]) -> list[str]:
    """The notes to show: `new` ones and those of earlier runs, until the visitor changes a choice.

    (A run that changes nothing, as the browser's own reruns, keeps them on the page.)"""
    query = to_query(state)
    if state["notes_for"] not in (None, query):
        state["notes"] = []
    state["notes"] = state["notes"] + new
    state["notes_for"] = query
    return state["notes"]


def holding_dims(state: Mapping) -> tuple[int, int]:
    """(layers, cells) for pickers that only hold their values: the last model's, or just enough."""
    layers, hidden = state.get("dims", (1, 1))
    return max(layers, state["layer"] + 1), max(hidden, state["cell"] + 1)


def fit_position(pos: int, length: int) -> int:
    """The selected position, inside a text of `length` characters."""
    return min(max(pos, 0), max(length - 1, 0))


def to_query(state: Mapping) -> dict[str, str]:
    """The URL's query parameters for the current choices: an example by its name, your own text
    (the one shown) by its id in `ui.session.texts`."""
    query = {
        "model": state["model"],
        "layer": str(state["layer"] + 1),
        "cell": str(state["cell"]),
        "signal": state["signal"],
        "pos": str(state["pos"]),
    }
    if state["example"] != CUSTOM:
        query["example"] = state["example"]
    elif state["shown_text"]:
        query["text"] = texts.key(normalise(state["shown_text"]))
    return query


def sync_link(state: Mapping, params) -> None:
    """Write the current choices into the link (st.query_params) if they are not there already,
    keeping your own text in `ui.session.texts` for it (left out of the link if it cannot be kept)."""
    query = to_query(state)
    if params.to_dict() != query:
        if "text" in query and texts.put(normalise(state["shown_text"])) is None:
            del query["text"]
        params.from_dict(query)
