"""The Analyses page (pages/1_Analyses.py) run headless with AppTest, on the shipped models."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.session.examples import EXAMPLES
from ui.views import analyses_view

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "1_Analyses.py")
CODE = "static int f(int x)\n{\n\tif (x) {\n\t\treturn 1;\n\t}\n\treturn 0;\n}\n"


def run(**session) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.slow
def test_opened_first_it_analyses_the_default_model_on_its_example():
    at = run()
    assert at.title[0].value == "Analyses" and "model **warpeace**" in at.caption[0].value
    assert [h.value for h in at.subheader] == ["Held-out test split", "The current text"]
    assert [m.label for m in at.metric] == ["LSTM loss", "20-gram loss", "Characters"]
    assert at.metric[2].value == f"{len(EXAMPLES['dialogue'].text):,}"
    assert "Error breakdown" in markdown(at) and len(at.dataframe) == 1
    assert at.dataframe[0].value["oracle"].tolist()[-1] == "unexplained"


@pytest.mark.slow
def test_it_follows_the_main_pages_model_and_text():
    at = run(current_model="linux", shown_text=CODE)
    assert "model **linux**" in at.caption[0].value
    assert at.metric[2].value == f"{len(CODE):,}"
    html = markdown(at)
    assert "static" not in html.split("Where the LSTM")[0]  # the text is shown only in the coloured view
    assert "&lt;" not in html and 'title="LSTM - n-gram:' in html


def test_held_out_figures_come_from_the_committed_report():
    at = run(current_model="warpeace")
    assert "nats/char, 20-gram" in markdown(at) and "(the paper's: LSTM 1.077, 20-gram 1.195)" in markdown(at)
    assert len(at.tabs) == 4


def test_a_text_shorter_than_the_ngram_order_gets_a_message():
    at = run(shown_text="Short.")
    assert any("fewer than the n-gram's order (20)" in i.value for i in at.info)
    assert not at.metric


def test_a_text_without_braces_or_quotes_says_so():
    at = run(shown_text="no braces and no quotes in this line of plain text, only words.\n")
    assert any("no matched { } braces" in i.value for i in at.info)


def test_user_text_is_escaped_in_the_coloured_view():
    diff = analyses_view.difference_html('<b>"x"</b>', [0.5] * 10)
    assert "<b>" not in diff and "</b>" not in diff and diff.count("&lt;") == 2 and diff.count("&gt;") == 2
    assert diff.count("<span") == 10 and diff.count("&quot;") == 2


@pytest.mark.parametrize("value, colour", [(-3.0, "rgb(0, 0, 255)"), (3.0, "rgb(255, 0, 0)")])
def test_the_lstms_advantage_is_blue_and_its_loss_red(value, colour):
    assert f"background:{colour}" in analyses_view.difference_html("ab", [value, float("nan")])
