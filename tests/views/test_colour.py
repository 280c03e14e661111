"""One palette: every colour and legend comes from lstm_viz.views.colour, in Python and in the browser alike."""

import math
import re

import numpy as np
import pytest

from lstm_viz.views import colour, render


def browser_rgb(v: float, scale: dict) -> tuple:
    """common.js's `levelRgb(level(v))`, written out (Math.round rounds half up)."""
    k = math.floor(scale["levels"] * (1 - min(1.0, abs(v))) + 0.5)
    end = scale["low"] if v < 0 else scale["high"]
    return tuple(math.floor(e + (z - e) * k / scale["levels"] + 0.5) for e, z in zip(end, scale["zero"]))


@pytest.mark.parametrize(
    "low, high", [((255, 0, 0), (0, 0, 255)), ((178, 24, 43), (33, 102, 172)), ((0, 0, 0), (9, 200, 1))]
)
def test_the_scale_runs_from_its_end_colours_through_white_as_the_browser_draws_it(monkeypatch, low, high):
    monkeypatch.setattr(colour, "RED", low)
    monkeypatch.setattr(colour, "BLUE", high)
    scale = colour.scale()
    assert (scale["low"], scale["high"]) == (low, high)
    assert colour.rgb(-1) == low and colour.rgb(1) == high and colour.rgb(0) == colour.WHITE
    for v in np.linspace(-1.2, 1.2, 481):
        assert colour.rgb(v) == browser_rgb(v, scale), v


def test_every_legend_is_drawn_through_the_same_values_of_the_scale():
    assert colour.legend_values(gate=False, n=3) == [-1.0, 0.0, 1.0]
    assert colour.legend_values(gate=True, n=2) == [0.0, 1.0]
    assert colour.gradient(False, 3) == "linear-gradient(to right,rgb(255, 0, 0),rgb(255, 255, 255),rgb(0, 0, 255))"


def test_the_static_html_legend_is_the_palettes_gradient(tiny_model):
    tr = tiny_model.trace("abc")
    assert colour.gradient(gate=False) in tr.to_html(signal="cell")
    assert colour.gradient(gate=True) in tr.to_html(signal="forget")


def test_a_snippet_outlines_one_character_and_wraps_only_when_asked():
    html = render.snippet("a <b", [-1, 0, 0.5, 1], outlined=1)
    assert "white-space:pre;" in html and "pre-wrap" not in html
    assert re.findall(r"outline:2px", html) == ["outline:2px"] and "&lt;" in html and "<b" not in html
    wrapped = render.snippet("a\tb", [0, 0, 0], wrap=True)
    assert "white-space:pre-wrap;line-height:1.5" in wrapped and "\u21e5" in wrapped  # a tab gets its label
