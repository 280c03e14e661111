"""The cell page's address: `Cell?model=warpeace&cell=2:429` (layer:cell, layers counted from 1 as
everywhere in the app; `&layer=2&cell=429`, the main page's form, is read too). Written by every
link to a cell page and read, with a one-line reason for anything wrong, by the page itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from lstm_viz.core import cells
from lstm_viz.core.checks import whole_number

from .labels import plain
from .state import default_model, quoted

PAGE = "pages/2_Cell.py"  # st.page_link / st.switch_page target
PATH = "Cell"  # its address, relative to the app's
EXAMPLE_QUERY = {"model": "warpeace", "cell": "2:429"}  # the cell a page opens on when none is chosen yet
EXAMPLE = "?" + urlencode(EXAMPLE_QUERY, safe=":")


def query(model: str, layer: int, cell: int) -> dict[str, str]:
    """The page's query parameters for a cell (layer from 0)."""
    return {"model": model, "cell": f"{layer + 1}:{cell}"}


def url(model: str, layer: int, cell: int) -> str:
    """The page's address relative to the app's, for link columns and markdown links."""
    return f"{PATH}?{urlencode(query(model, layer, cell), safe=':')}"


def read(params: Mapping, models: list[str], dims: Callable[[str], tuple[int, int]]) -> tuple[str, int, int]:
    """(model, layer from 0, cell) the page's query parameters name; ValueError with one line for
    an unknown model, a missing or unreadable cell, or one the model has not.

    dims(model) -> (layers, cells per layer); it may raise ValueError itself (a model that cannot load)."""
    model = params.get("model")
    if model is None:
        model = default_model(models)
    elif model not in models:
        raise ValueError(f"No model {quoted('model', model)}: have {plain(', '.join(models))}.")
    raw = params.get("cell")
    if raw is None:
        raise ValueError(f"Name a cell in the address, e.g. {EXAMPLE}.")
    layers, hidden = dims(model)
    layer = 0
    if params.get("layer") is not None:
        try:
            layer = whole_number(params["layer"], "layer", 1, layers) - 1
        except ValueError:
            raise ValueError(
                f"Cannot open {quoted('layer', params['layer'])}: {plain(model)} has layers 1 to {layers}."
            ) from None
    found, unreadable, missing = cells.read(raw[:100], layer, layers, hidden)
    if unreadable or not (found or missing):
        raise ValueError(f"Cannot open {quoted('cell', raw)}: {cells.HOW}.")
    if missing:
        raise ValueError(
            f"Cannot open {quoted('cell', raw)}: {plain(model)} has layers 1 to {layers} and cells 0 to {hidden - 1}."
        )
    if len(found) > 1:
        raise ValueError(f"Cannot open {quoted('cell', raw)}: a page shows one cell, e.g. {EXAMPLE}.")
    return (model, *found[0])
