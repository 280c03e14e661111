"""Static HTML and paper figures of a trace: escaped text, the shared colour scale, captions, legends."""

import dataclasses
import re
import struct
import xml.etree.ElementTree as ET
from html import escape, unescape

import numpy as np
import pandas as pd
import pytest

from lstm_viz import View
from lstm_viz.views import colour, figures, render
from lstm_viz.views.view import describe

HOSTILE = 'a <script>alert("x")</script> & b\n$x$ (c) \ufffe\x01'
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def tr(tiny_model):
    return tiny_model.trace(HOSTILE)


def spans(html):
    return re.findall(r'<span style="background:(rgb\([^)]*\));[^"]*" title="([^"]*)">([^<]*)</span>', html)


def test_to_html_escapes_the_text_and_colours_every_character_by_the_cell(tr):
    html = tr.to_html(layer=1, cell=5)
    assert "<script" not in html and "&lt;" in html and "&quot;" in html
    found = spans(html)
    assert "".join(unescape(shown) for _, _, shown in found) == tr.text.replace("\n", "\u21b5\n")
    assert [bg for bg, _, _ in found] == [colour.css(v) for v in tr.cell[1, :, 5]]
    assert "Layer 2, cell 5, cell state tanh(c)" in html


def test_to_html_hover_cards_give_the_value_and_the_top_five_guesses(tr):
    _, card, shown = spans(tr.to_html(layer=0, cell=2))[0]
    assert shown == "a"
    assert f"cell state tanh(c) {tr.cell[0, 0, 2]:+.3f}" in card
    assert card.count("%") == 5 and tr.top_k(0, 1)[0][0] in card


def test_to_html_of_a_gate_uses_the_gate_and_its_zero_to_one_legend(tr):
    html = tr.to_html(layer=0, cell=1, signal="forget")
    forget = tr.gate("forget", 0, [1])[:, 0]
    assert [bg for bg, _, _ in spans(html)] == [colour.css(v) for v in forget]
    assert "+0.00" in html and "+1.00" in html and "forget gate" in html


def test_the_text_scale_stretches_a_signal_to_the_range_this_text_reaches(tr):
    values = tr.cell[1, :, 3]
    m = np.abs(values).max()
    assert [bg for bg, _, _ in spans(tr.to_html(layer=1, cell=3, scale="text"))] == [colour.css(v / m) for v in values]


def test_to_html_of_a_range_and_its_refusals(tr):
    assert len(spans(tr.to_html(cell=0, start=2, stop=9))) == 7
    with pytest.raises(ValueError, match="cell 24 is out of range"):
        tr.to_html(cell=24)
    with pytest.raises(ValueError, match="unknown signal"):
        tr.to_html(signal="gate")


def test_a_notebook_shows_the_most_varying_cell_of_the_last_layer_without_a_kernel(tr):
    html = tr._repr_html_()
    view = render.default_view(tr)
    assert view.layer == 1 and view.cell == int(np.argmax(tr.cell[1].std(axis=0)))
    cell = view.cell
    assert f"Layer 2, cell {cell}," in html and "<script" not in html and "trace.show" in html


def svg_texts(svg):
    root = ET.fromstring(svg)
    return root, ["".join(t.itertext()) for t in root.iter(SVG + "text")]


@pytest.mark.parametrize("kind", ["text", "cells", "strip", "heatmap"])
def test_every_figure_is_well_formed_svg_a_column_wide_with_caption_and_legend(tr, kind):
    svg = tr.figure(kind, layer=1, cell=5, cells=[5, 7] if kind == "cells" else None, model="tiny")
    root, texts = svg_texts(svg)
    assert root.get("width") == "244.8pt"
    assert any(t.startswith("Layer 2, ") and t.endswith("model tiny") for t in texts)
    assert "-1.00" in texts and "+1.00" in texts
    assert "<script" not in svg


def character_boxes(svg) -> list[tuple[str, str]]:
    """(character, background fill) of every character box of a figure, in reading order: each
    character's label is centred on its box."""
    root = ET.fromstring(svg)
    rects = [
        tuple(float(r.get(k)) for k in ("x", "y", "width", "height")) + (r.get("fill"),)
        for r in root.iter(SVG + "rect")
    ]
    boxes = []
    for t in root.iter(SVG + "text"):
        if t.get("text-anchor") == "middle":
            cx, cy = float(t.get("x")), float(t.get("y"))
            (fill,) = [f for x, y, w, h, f in rects if x <= cx <= x + w and y <= cy <= y + h]
            boxes.append(("".join(t.itertext()), fill))
    return boxes


# Values and their colours worked out by hand from the scale's rule (level k = floor(255 (1 - |v|) + 0.5),
# red (255, k, k) below 0, blue (k, k, 255) above), away from the rounding edges of float32 values.
BY_HAND = [
    (-1.5, "#ff0000"),
    (-1.0, "#ff0000"),
    (-0.6, "#ff6666"),
    (-0.2, "#ffcccc"),
    (0.0, "#ffffff"),
    (0.25, "#bfbfff"),
    (0.8, "#3333ff"),
    (1.0, "#0000ff"),
]


def test_the_text_figure_colours_each_character_by_its_own_value(tiny_model):
    text = "abc(d)xy"
    tr = tiny_model.trace(text)
    planted = tr.cell.copy()
    planted[1, :, 5] = [v for v, _ in BY_HAND]
    svg = dataclasses.replace(tr, cell=planted).figure("text", layer=1, cell=5, model="tiny")
    assert character_boxes(svg) == [(char, fill) for char, (_, fill) in zip(text, BY_HAND)]


def test_the_text_figure_colours_each_character_like_the_app(tr):
    svg = tr.figure("text", layer=1, cell=5, model="tiny")
    _, texts = svg_texts(svg)
    boxes = character_boxes(svg)
    assert len(boxes) == len(tr.text)
    assert [fill for _, fill in boxes] == [colour.hex_colour(v) for v in tr.cell[1, :, 5]]
    assert "<" in texts and "$" in texts  # the user's characters are text in the SVG, not markup or maths


def test_a_gate_figure_has_a_zero_to_one_legend_and_the_text_scale_its_own_range(tr):
    _, texts = svg_texts(tr.figure("text", layer=0, cell=1, signal="input"))
    assert "+0.00" in texts and "+1.00" in texts
    _, texts = svg_texts(tr.figure("text", layer=0, cell=1, signal="input", scale="text"))
    gate = tr.gate("input", 0, [1])[:, 0]
    assert f"{gate.min():+.2f}" in texts and f"{gate.max():+.2f}" in texts and "scaled to this text" in texts


def test_png_figures_are_300_dpi_for_a_paper_column(tr):
    png = tr.figure("strip", layer=0, cell=0, format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1020 and height > 100


def test_figures_refuse_what_they_cannot_draw(tr):
    with pytest.raises(ValueError, match="unknown figure"):
        tr.figure("pie")
    with pytest.raises(ValueError, match="cells must be between 0 and 23"):
        tr.figure("cells", cells=[3, 99])
    with pytest.raises(ValueError, match="unknown scale"):
        tr.figure("text", scale="log")


def test_gate_saturation_is_one_drawing_in_matplotlib_and_plotly(tiny_model):
    from lstm_viz.paper import analysis

    tr = tiny_model.trace(HOSTILE * 3)
    tables = [analysis.gate_saturation(tr, layer) for layer in range(2)]
    panels, rows, cols = figures.saturation_panels(tables)
    assert (rows, cols) == (2, 3) and panels[0].title == "layer 1, input gate"
    spec = figures.gate_saturation_spec(tables)
    fig = figures.gate_saturation(tables)
    assert [a["text"] for a in spec["layout"]["annotations"]] == [p.title for p in panels]
    assert sorted(ax.get_title() for ax in fig.axes) == sorted(p.title for p in panels)
    dots = [d for d in spec["data"] if d["mode"] == "markers"]
    for p, d in zip(panels, dots):
        ax = fig.axes[p.row * cols + p.col]
        assert ax.get_title() == p.title and ax.get_xlabel() in ("", figures.SHUT)
        np.testing.assert_array_equal(ax.collections[0].get_offsets(), np.column_stack([d["x"], d["y"]]))
        assert d["marker"]["color"] == colour.LSTM


def saturated(gates, cells=4):
    """A layer's `analysis.gate_saturation` table: each gate's cells shut and open a share of the time."""
    shut = np.linspace(0, 0.5, cells)
    return pd.concat(pd.DataFrame({"gate": g, "cell": range(cells), "left": shut, "right": 0.5 - shut}) for g in gates)


def test_gate_saturation_of_several_models_names_each_model_on_a_line_above_its_gate():
    tables = {
        "lstm-a (LSTM)": [saturated(["input", "forget", "output"])] * 2,
        "gru-b (GRU)": [saturated(["reset", "update"])] * 2,
    }
    panels, rows, cols = figures.saturation_panels(tables)
    assert (rows, cols) == (2, 5)
    assert (
        panels[0].title == "lstm-a (LSTM)\nlayer 1, input gate"
        and panels[-1].title == "gru-b (GRU)\nlayer 2, update gate"
    )
    fig, spec = figures.gate_saturation(tables), figures.gate_saturation_spec(tables)
    assert sorted(ax.get_title() for ax in fig.axes) == sorted(p.title for p in panels)
    assert [a["text"] for a in spec["layout"]["annotations"]] == [p.title.replace("\n", "<br>") for p in panels]
    one = figures.gate_saturation_spec(tables["gru-b (GRU)"])
    assert spec["layout"]["margin"]["t"] > one["layout"]["margin"]["t"]  # room for the second line


def test_the_legend_of_several_models_error_breakdowns_lies_under_the_bars():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figures.error_breakdown(TWO)
    (ax,) = fig.axes
    renderer = FigureCanvasAgg(fig).get_renderer()
    legend, bars = ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)
    assert legend.y1 < bars.y0 and [t.get_text() for t in ax.get_legend().get_texts()] == [
        "LSTM (100 errors)",
        "GRU (100 errors)",
    ]


def test_the_long_memory_test_writes_the_pairs_under_each_distance():
    table = pd.DataFrame({"low": [1, 5, 10], "high": [5, 10, 10**9], "p": [0.1, 0.3, 0.2], "pairs": [1, 10, 4]})
    fig = figures.quote_memory({"LSTM": table, "GRU": table.assign(p=[0.2, 0.4, 0.3])})
    (ax,) = fig.axes
    assert ax.get_title() == "The long-memory test: closing quotes"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1-4\n1 pair", "5-9\n10 pairs", "10+\n4 pairs"]
    assert [line.get_label() for line in ax.get_lines()] == ["LSTM", "GRU"]


@pytest.mark.parametrize(
    "view", [View(1, 5), View(0, 1, "input", scale="text"), View(1, 3, "hidden", start=2, stop=20, scale="text")]
)
def test_html_and_svg_colour_each_character_from_one_description(tr, view):
    d = describe(tr, view)
    html = render.to_html(tr, view)
    svg = figures.figure(tr, view, "text")
    assert [bg for bg, _, _ in spans(html)] == ["rgb({}, {}, {})".format(*rgb) for rgb in d.rgb]
    assert [title for _, title, _ in spans(html)] == [escape(t, quote=True) for t in d.titles]
    assert [fill for _, fill in character_boxes(svg)] == ["#{:02x}{:02x}{:02x}".format(*rgb) for rgb in d.rgb]


BREAKDOWN = pd.DataFrame(
    {"oracle": ["n-gram", "boost", "unexplained"], "errors": [42, 8, 50], "share": [0.42, 0.08, 0.5]}
)
CLOSERS = pd.DataFrame(
    {
        "kind": ["brace", "brace", "quote"],
        "distance": [3, 250, 40],
        "lstm": [0.9, 0.6, 0.7],
        "ngram": [0.5, 0.1, np.nan],
    }
)


TWO = {"LSTM": BREAKDOWN, "GRU": BREAKDOWN.assign(share=[0.3, 0.3, 0.4])}
CHARTS = {  # chart: (its description, its matplotlib drawing, its plotly spec)
    "error breakdown": (figures.breakdown_chart, figures.error_breakdown, figures.error_breakdown_spec),
    "closing distance": (figures.closing_chart, figures.closing_distance, figures.closing_distance_spec),
}


@pytest.mark.parametrize(
    "name, table, model",
    [("error breakdown", BREAKDOWN, "LSTM"), ("error breakdown", TWO, "LSTM"), ("closing distance", CLOSERS, "GRU")],
    ids=["error breakdown", "error breakdown of two models", "closing distance"],
)
def test_each_analysis_chart_is_one_description_drawn_in_matplotlib_and_plotly(name, table, model):
    describe_chart, draw, plot = CHARTS[name]
    chart, drawn, spec = describe_chart(table, model), draw(table, model), plot(table, model)
    (ax,) = drawn.axes
    layout = spec["layout"]
    assert chart.title and ax.get_title() == layout["title"]["text"] == chart.title
    assert ax.get_xlabel() == layout["xaxis"]["title"]["text"] == chart.x_title
    assert ax.get_ylabel() == layout["yaxis"]["title"]["text"] == chart.y_title
    assert [d["name"] for d in spec["data"]] == [s.name for s in chart.series]
    assert (ax.get_legend() is not None) == layout["showlegend"] == (len(chart.series) > 1)
    if chart.series[0].marker == "bar":
        assert [c.get_label() for c in ax.containers] == [d["name"] for d in spec["data"]]
        for bars, d in zip(ax.containers, spec["data"]):
            np.testing.assert_allclose([b.get_width() for b in bars], d["x"], rtol=1e-12)
        assert [t.get_text() for t in ax.get_yticklabels()] == spec["data"][0]["y"]
        assert layout["xaxis"]["ticksuffix"] == "%" and ax.xaxis.get_major_formatter()(50, 0) == "50%"
    else:
        for dots, d in zip(ax.collections, spec["data"]):
            np.testing.assert_allclose(dots.get_offsets(), np.column_stack([d["x"], d["y"]]), rtol=1e-12)
        assert layout["xaxis"]["type"] == "log" and ax.get_xscale() == "log"


def test_the_error_breakdown_shows_percent_on_the_bars_and_the_counts_on_hover():
    spec = figures.error_breakdown_spec(BREAKDOWN, "GRU")
    (bars,) = spec["data"]
    assert bars["y"] == ["unexplained", "boost", "n-gram"]  # the table's first oracle on top
    assert bars["x"] == pytest.approx([50, 8, 42]) and bars["text"] == ["50%", "8%", "42%"]
    assert bars["hovertext"][2] == "GRU, n-gram: 42.0% of the errors (42 errors)"
    assert spec["layout"]["title"]["text"] == "Error breakdown: the GRU's 100 errors"
    assert spec["layout"]["xaxis"]["title"]["text"] == "share of the GRU's errors (%)"


@pytest.mark.slow
def test_the_closing_distance_leaves_out_a_model_with_no_probabilities():
    names = [s.name for s in figures.closing_chart(CLOSERS).series]
    assert names == ["LSTM, closing brace", "20-gram, closing brace", "LSTM, closing quote"]
