"""The one way to write a list of cells: "2:429, 1:31" (layer:cell, layers counted from 1 as in
the app and the CLI) or a bare "429" (a cell of the layer in view), separated by commas,
semicolons or spaces."""
from __future__ import annotations

import re

SEPARATORS = re.compile(r"[\s,;]+")
ITEM = re.compile(r"(?:(\d+):)?(\d+)")
HOW = "write cells as 429 or layer:cell, e.g. 2:429"


def read(text: str, layer: int, layers: int, hidden: int) -> tuple[list[tuple[int, int]], list[str]]:
    """(layer, cell) pairs (layers from 0), in the order typed and each once, and one line for
    each item that is not a cell of a model of `layers` x `hidden` (a bare cell is in `layer`)."""
    pairs, problems = [], []
    for item in filter(None, SEPARATORS.split(text.strip())):
        m = ITEM.fullmatch(item)
        if not m:
            problems.append(f"cannot read {item[:20]!r}: {HOW}")
            continue
        at, cell = (int(m[1]) - 1 if m[1] else layer), int(m[2])
        if not 0 <= at < layers or not 0 <= cell < hidden:
            problems.append(f"no cell {item}: layers are 1 to {layers}, cells 0 to {hidden - 1}")
        elif (at, cell) not in pairs:
            pairs.append((at, cell))
    return pairs, problems


def parse(text: str, layer: int, layers: int, hidden: int) -> list[tuple[int, int]]:
    """Every (layer, cell) pair `read` finds; ValueError with a one-line reason for anything else
    or for no cell at all."""
    pairs, problems = read(text, layer, layers, hidden)
    if problems:
        raise ValueError(problems[0])
    if not pairs:
        raise ValueError("type at least one cell, e.g. 429 or 2:429")
    return pairs


def of_layer(text: str, layer: int, layers: int, hidden: int) -> tuple[list[int], str | None]:
    """The cells of one layer that `text` names (for views of a single layer), and one line
    naming what was ignored (unreadable items, cells that do not exist or are in another layer)."""
    pairs, problems = read(text, layer, layers, hidden)
    elsewhere = [f"{at + 1}:{cell}" for at, cell in pairs if at != layer]
    if elsewhere:
        problems.append(f"not in layer {layer + 1}: {', '.join(elsewhere[:5])}")
    problem = ("Ignored " + "; ".join(problems[:5]) + ".") if problems else None
    return [cell for at, cell in pairs if at == layer], problem
