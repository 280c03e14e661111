"""The one way to write a list of cells: "2:429, 1:31" (layer:cell, layers counted from 1 as in
the app and the CLI) or a bare "429" (a cell of the layer in view), separated by commas,
semicolons or spaces."""

from __future__ import annotations

import re

SEPARATORS = re.compile(r"[\s,;]+")
ITEM = re.compile(r"(?:(\d+):)?(\d+)")
DIGITS = 6  # no model has a million cells: longer numbers are read as missing cells, never by int()
HOW = "write cells as 429 or layer:cell, e.g. 2:429"


def shown(item: str, most: int = 20) -> str:
    """An item as a message repeats it: cut to `most` characters."""
    return item if len(item) <= most else item[: most - 1] + "\u2026"


def read(text: str, layer: int, layers: int, hidden: int) -> tuple[list[tuple[int, int]], list[str], list[str]]:
    """(layer, cell) pairs (layers from 0) in the order typed, each once, for a model of `layers` x
    `hidden` (a bare cell is in `layer`); the items that are not written as cells; and those that
    name cells the model has not."""
    pairs, unreadable, missing = [], [], []
    for item in filter(None, SEPARATORS.split(text.strip())):
        m = ITEM.fullmatch(item)
        if not m:
            unreadable.append(shown(item))
            continue
        if any(len(number or "") > DIGITS for number in m.groups()):
            missing.append(shown(item))
            continue
        at, cell = (int(m[1]) - 1 if m[1] else layer), int(m[2])
        if not 0 <= at < layers or not 0 <= cell < hidden:
            missing.append(shown(item))
        elif (at, cell) not in pairs:
            pairs.append((at, cell))
    return pairs, unreadable, missing


def parse(text: str, layer: int, layers: int, hidden: int) -> list[tuple[int, int]]:
    """Every (layer, cell) pair `read` finds; ValueError with a one-line reason for anything that
    is not a cell of the model, or for no cell at all."""
    pairs, unreadable, missing = read(text, layer, layers, hidden)
    if unreadable:
        raise ValueError(f"cannot read {unreadable[0]!r}: {HOW}")
    if missing:
        raise ValueError(f"no cell {missing[0]}: layers are 1 to {layers}, cells 0 to {hidden - 1}")
    if not pairs:
        raise ValueError("type at least one cell, e.g. 429 or 2:429")
    return pairs


def of_layer(text: str, layer: int, layers: int, hidden: int) -> tuple[list[int], str | None]:
    """The cells of one layer that `text` names (for views of a single layer), and one line
    naming what was ignored: items not written as cells, cells the model has not, other layers'."""
    pairs, unreadable, missing = read(text, layer, layers, hidden)
    elsewhere = [f"{at + 1}:{cell}" for at, cell in pairs if at != layer]
    problems = [
        f"{what}: {', '.join(items[:5])}"
        for what, items in (
            ("not cells", unreadable),
            (f"no such cells (layers are 1 to {layers}, cells 0 to {hidden - 1})", missing),
            (f"not in layer {layer + 1}", elsewhere),
        )
        if items
    ]
    return [cell for at, cell in pairs if at == layer], ("Ignored " + "; ".join(problems) + ".") if problems else None
