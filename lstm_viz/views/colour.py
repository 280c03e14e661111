"""Every colour lstm-viz draws with, and the one diverging scale: red at -1, white at 0, blue at +1.

The browser views (the app's and the notebook widget's) get the scale and the other colours from
here (`scale()`), so a colour changed here changes everywhere.
"""

from __future__ import annotations

import math

from ..core.checks import check_choice

RED, WHITE, BLUE = (255, 0, 0), (255, 255, 255), (0, 0, 255)
LEVELS = 255  # steps from white to full red or full blue
DARK = 140  # backgrounds with a luma below this get white text
GUESS = (74, 111, 208)  # the prediction strip's guesses, on this colour at their probability's opacity
LSTM, BASELINE = "#3050c0", "#e08020"  # the LSTM's line, and what it is compared with (the n-gram, a hypothesis)
LEGEND_STOPS = 9  # colours a legend's gradient is drawn through
# Colours of categories (kinds of cell label on the cell map), told apart with any colour vision
# (Okabe and Ito); grey last, for what has no category.
CATEGORIES = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999")


def rgb(value: float) -> tuple[int, int, int]:
    """Background colour of a value; values beyond [-1, 1] are clipped, NaN is white.

    Level k = floor(LEVELS (1 - |v|) + 0.5) runs from RED (v < 0) or BLUE to WHITE, rounded half
    up, exactly as the browser views' `levelRgb` does."""
    if math.isnan(value):
        return WHITE
    v = min(1.0, max(-1.0, float(value)))
    k = math.floor(LEVELS * (1 - abs(v)) + 0.5)
    end = RED if v < 0 else BLUE
    return tuple(math.floor(e + (w - e) * k / LEVELS + 0.5) for e, w in zip(end, WHITE))


def css(value: float) -> str:
    """The colour as CSS writes it back: rgb(r, g, b)."""
    return "rgb({}, {}, {})".format(*rgb(value))


def scale() -> dict:
    """The scale and colours as the browser views get them: level k of a value v is
    floor(LEVELS (1 - |v|) + 0.5), and its colour runs from `low` (v < 0) or `high` to `zero` as
    k goes from 0 to LEVELS; `guess` is the prediction strip's colour; `stops` the colours a
    legend's gradient is drawn through (`legend_values`)."""
    return {
        "low": RED,
        "zero": WHITE,
        "high": BLUE,
        "levels": LEVELS,
        "dark": DARK,
        "guess": GUESS,
        "stops": LEGEND_STOPS,
    }


SCALES = ("fixed", "text")  # the signal's own fixed range, or the range this text reaches


def ink(value: float) -> str:
    """Text colour that stays readable on the value's background: white where it is dark (the rule
    the browser views follow), black elsewhere."""
    r, g, b = rgb(value)
    return "#fff" if 0.299 * r + 0.587 * g + 0.114 * b < DARK else "#000"


def hex_colour(value: float) -> str:
    """The background colour as #rrggbb."""
    return "#{:02x}{:02x}{:02x}".format(*rgb(value))


def legend_values(gate: bool, n: int = LEGEND_STOPS) -> list[float]:
    """n values evenly across a legend, left to right: 0 to 1 (white to blue) for a gate, -1 to 1."""
    return [k / (n - 1) if gate else 2 * k / (n - 1) - 1 for k in range(n)]


def gradient(gate: bool, n: int = LEGEND_STOPS) -> str:
    """A legend's CSS `linear-gradient`, left to right, through n colours of the scale."""
    return f"linear-gradient(to right,{','.join(css(v) for v in legend_values(gate, n))})"


def fit(values, gate: bool, scale: str = "fixed"):
    """(values mapped onto the colour scale, (low, high) of the legend) for one signal.

    "fixed": tanh(c), h and the candidate keep [-1, 1]; gates keep [0, 1] (white to blue).
    "text": the range this text reaches, for signals that rarely reach the ends: symmetric
    about 0 (still white at 0) for [-1, 1] signals, [min, max] -> white to blue for gates.
    """
    import numpy as np

    check_choice("scale", scale, SCALES)
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    if scale == "fixed" or not finite.size:
        return v, ((0.0, 1.0) if gate else (-1.0, 1.0))
    if gate:
        lo, hi = float(finite.min()), float(finite.max())
        return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v), (lo, hi)
    m = float(np.abs(finite).max())
    return (v / m if m > 0 else v), (-m, m)
