"""The diverging colour scale: red at -1, white at 0, blue at +1 (the browser views get it from here)."""
from __future__ import annotations

import math

RED, WHITE, BLUE = (255, 0, 0), (255, 255, 255), (0, 0, 255)
LEVELS = 255  # steps from white to full red or full blue
DARK = 140  # backgrounds with a luma below this get white text


def rgb(value: float) -> tuple[int, int, int]:
    """Background colour of a value; values beyond [-1, 1] are clipped, NaN is white."""
    if math.isnan(value):
        return WHITE
    v = min(1.0, max(-1.0, float(value)))
    k = math.floor(LEVELS * (1 - abs(v)) + 0.5)
    return (255, k, k) if v < 0 else (k, k, 255)


def css(value: float) -> str:
    """The colour as CSS writes it back: rgb(r, g, b)."""
    return "rgb({}, {}, {})".format(*rgb(value))


def scale() -> dict:
    """The scale as the browser views get it: level k of a value v is floor(LEVELS (1 - |v|) + 0.5), and
    its colour runs from `low` (v < 0) or `high` to `zero` as k goes from 0 to LEVELS."""
    return {"low": RED, "zero": WHITE, "high": BLUE, "levels": LEVELS, "dark": DARK}


def luma(colour: tuple[int, int, int]) -> float:
    """Perceived brightness of an sRGB colour, 0 to 255 (ITU-R BT.601 weights, as the browser views use)."""
    r, g, b = colour
    return 0.299 * r + 0.587 * g + 0.114 * b


def text_css(value: float) -> str:
    """Text colour on the background of `value`: white on dark backgrounds (luma below DARK), else black."""
    return "#fff" if luma(rgb(value)) < DARK else "#000"
