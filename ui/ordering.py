"""Orders of the cells in the heatmap, and reading a typed list of cell numbers."""
from __future__ import annotations

import re

import numpy as np

ORDERS = {
    "variation": "most variable over the text first",
    "strength": "strongest at the selected position first",
    "index": "by cell number",
    "custom": "my own list",
}


def parse_cells(text: str, hidden: int) -> tuple[list[int], str | None]:
    """Cell numbers from text like "47, 3 210"; the valid ones and a one-line problem, if any."""
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    bad = [t for t in tokens if not t.isdigit()]
    numbers = [int(t) for t in tokens if t.isdigit()]
    outside = [n for n in numbers if n >= hidden]
    cells = list(dict.fromkeys(n for n in numbers if n < hidden))
    problems = []
    if bad:
        problems.append(f"not cell numbers: {', '.join(bad[:5])}")
    if outside:
        problems.append(f"no such cells (this layer has 0 to {hidden - 1}): {', '.join(map(str, outside[:5]))}")
    return cells, ("Ignored " + "; ".join(problems) + ".") if problems else None


def order_cells(order: str, variation: np.ndarray, at_position: np.ndarray, custom: list[int]) -> list[int]:
    """All cells of a layer in the chosen order (a custom list: just its cells)."""
    if order == "variation":
        return np.argsort(-variation, kind="stable").tolist()
    if order == "strength":
        return np.argsort(-np.abs(at_position), kind="stable").tolist()
    if order == "index":
        return list(range(len(variation)))
    if order == "custom":
        return list(custom)
    raise ValueError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
