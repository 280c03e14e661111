"""What a student reads on the cell page and the Analyses page: characters named in words, the
figures' labels in the right places and on the right scales, the full report one click away."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest

from lstm_viz.core.vocab import UNKNOWN_SYMBOL
from lstm_viz.views import figures, glyphs
from tests.conftest import APP
from ui.session import cell_link
from ui.views import analyses_view

ANALYSES = str(Path(__file__).resolve().parents[2] / "pages" / "1_Analyses.py")


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def every_word(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption", "title", "subheader") for e in getattr(at, kind))


def test_the_unknown_slot_is_named_in_words_on_the_cell_page_of_the_quote_cell():
    assert glyphs.words(UNKNOWN_SYMBOL) == "any other character" and glyphs.words(" ") == glyphs.label(" ")
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page(cell_link.PAGE)
    at.query_params.update(model="warpeace", cell="2:429")
    run(at)
    words = every_word(at)
    assert UNKNOWN_SYMBOL not in words
    assert "| any other character |" in words  # the quote cell raises the unknown slot's logit


def test_the_gate_saturation_grid_titles_each_axis_once_and_keeps_row_titles_clear_of_them():
    table = pd.DataFrame(
        {"gate": ["input", "forget", "output"] * 2, "left": 0.5, "right": 0.2, "cell": [0, 0, 0, 1, 1, 1]}
    )
    layout = go.Figure(figures.gate_saturation_spec([table, table]), _validate=False).layout  # as the page draws it
    x_titles = [layout[f"xaxis{k if k > 1 else ''}"].title.text for k in range(1, 7)]
    y_titles = [layout[f"yaxis{k if k > 1 else ''}"].title.text for k in range(1, 7)]
    assert x_titles == ["", "", "", figures.SHUT, figures.SHUT, figures.SHUT]
    assert y_titles == [figures.OPEN, "", "", figures.OPEN, "", ""]
    first_row_bottom = layout.yaxis.domain[0]
    second_row_title = [a for a in layout.annotations if a.text == "layer 2, input gate"][0]
    assert first_row_bottom - second_row_title.y >= 0.1  # room for the first row's tick labels between


def test_the_error_breakdown_labels_each_bar_in_percent_on_its_percent_axis():
    table = pd.DataFrame({"oracle": ["n-gram", "unexplained"], "errors": [42, 60], "share": [0.4118, 0.5882]})
    figure = analyses_view.chart(figures.error_breakdown_spec(table))
    (bars,) = figure.data
    labelled = dict(zip(bars.y, bars.text))
    assert labelled["n-gram"] == "41%" and labelled["unexplained"] == "59%" and figure.layout.xaxis.ticksuffix == "%"
    assert dict(zip(bars.y, bars.hovertext))["n-gram"] == "LSTM, n-gram: 41.2% of the errors (42 errors)"


def test_the_closing_distance_chart_names_its_points_and_its_axes():
    table = pd.DataFrame({"kind": ["quote", "quote"], "distance": [10, 200], "lstm": [0.9, 0.8], "ngram": [0.2, 0.1]})
    figure = analyses_view.chart(figures.closing_distance_spec(table))
    assert [d.name for d in figure.data] == ["LSTM, closing quote", "20-gram, closing quote"]
    assert figure.layout.showlegend and figure.layout.xaxis.title.text and figure.layout.yaxis.title.text
    assert figure.layout.margin.b >= 40 and figure.layout.margin.l >= 40  # room for the axes' titles


def test_the_full_report_opens_on_the_page_instead_of_being_named_by_its_path():
    at = run(AppTest.from_file(ANALYSES, default_timeout=120))
    (report,) = [e for e in at.expander if e.label.startswith("The full report")]
    body = "\n".join(m.value for m in report.markdown)
    assert "### Loss: LSTM against the n-gram" in body and "![" not in body
    assert "docs/analyses/" not in every_word(at)
