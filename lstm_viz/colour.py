"""The diverging colour scale: red at -1, white at 0, blue at +1 (the browser views get it from here)."""
from __future__ import annotations

import math

RED, WHITE, BLUE = (255, 0, 0), (255, 255, 255), (0, 0, 255)


def rgb(value: float) -> tuple[int, int, int]:
    """Background colour of a value; values beyond [-1, 1] are clipped, NaN is white."""
    if math.isnan(value):
        return WHITE
    v = min(1.0, max(-1.0, float(value)))
    k = math.floor(255 * (1 - abs(v)) + 0.5)
    return (255, k, k) if v < 0 else (k, k, 255)


def css(value: float) -> str:
    """The colour as CSS writes it back: rgb(r, g, b)."""
    return "rgb({}, {}, {})".format(*rgb(value))


def luminance(colour: tuple[int, int, int]) -> float:
    """WCAG relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = colour
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def text_css(value: float) -> str:
    """Black or white, whichever contrasts more with the background colour of `value`."""
    lum = luminance(rgb(value))
    return "#000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#fff"
