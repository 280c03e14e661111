"""Orders of the cells in the heatmap."""

from __future__ import annotations

import numpy as np

from lstm_viz.core.checks import check_choice

ORDERS = {
    "variation": "most variable over the text first",
    "strength": "strongest at the selected position first",
    "index": "by cell number",
    "custom": "my own list",
}


def order_cells(order: str, variation: np.ndarray, at_position: np.ndarray, custom: list[int]) -> list[int]:
    """All cells of a layer in the chosen order (a custom list: just its cells)."""
    check_choice("order", order, ORDERS)
    if order == "variation":
        return np.argsort(-variation, kind="stable").tolist()
    if order == "strength":
        return np.argsort(-np.abs(at_position), kind="stable").tolist()
    if order == "index":
        return list(range(len(variation)))
    return list(custom)
