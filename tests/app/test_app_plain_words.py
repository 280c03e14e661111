"""A student's first screens in plain words (AppTest): the pages named by what they are, the
glossary with the LSTM's equations, "What am I looking at?" beside the text, the predictions as
the first tab right under the coloured text, and one message for a paste over the limit."""

import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.find.match import NAME
from tests.conftest import APP
from ui import page
from ui.session import state, tour
from ui.views import glossary_view
from ui.widgets import controls, glossary


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click(at: AppTest, label: str) -> None:
    (button,) = [b for b in at.button if b.label == label]
    button.click()


def page_links(at: AppTest) -> list[tuple[str, str]]:
    return [(p.proto.label, p.proto.page) for p in at.sidebar.get("page_link")]


@pytest.mark.slow
def test_the_sidebar_names_each_page_by_what_it_is_and_the_cell_page_opens_on_the_chosen_cell():
    at = run(AppTest.from_file(APP, default_timeout=300))
    assert page_links(at)[:4] == [
        ("Explore cells", ""),
        ("Cell", "Cell"),
        ("Analyses", "Analyses"),
        ("Glossary", "Glossary"),
    ]
    assert [label for label, _ in page_links(at)][:4] == [label for label, _ in page.PAGES.values()]
    (cell,) = [p for p in at.sidebar.get("page_link") if p.proto.label == "Cell"]
    assert "model=warpeace" in cell.proto.query_string and "cell=2%3A429" in cell.proto.query_string


@pytest.mark.slow
def test_the_glossary_explains_every_term_and_writes_out_the_lstms_equations():
    at = AppTest.from_file(APP, default_timeout=300)
    run(at)
    at.switch_page(glossary_view.GLOSSARY)
    run(at)
    assert at.title[0].value == "Glossary"
    text = "\n".join(m.value for m in at.markdown)
    for name in (
        "cell state c",
        "hidden state h",
        "tanh(c)",
        "input gate i",
        "forget gate f",
        "output gate o",
        "candidate g",
        NAME,
        "nats and bits",
        "logit",
        "KL",
        "log p",
        "raw c",
        "AUC",
        "Pearson r",
    ):
        assert f"**{name}**: {glossary.TERMS[name].short}" in text
    equations = "\n".join(e.value for e in at.latex)
    for line in (r"c_t &= f_t \odot c_{t-1} + i_t \odot g_t", r"h_t &= o_t \odot \tanh(c_t)"):
        assert line in equations
    assert "surprised" in glossary.TERMS["nats and bits"].short


def test_a_tooltip_names_its_terms_with_the_glossarys_words():
    assert glossary.tip("logit", "nats and bits") == (
        f"**logit**: {glossary.TERMS['logit'].short}\n\n**nats and bits**: {glossary.TERMS['nats and bits'].short}"
    )


def test_what_am_i_looking_at_sits_beside_the_text_and_leads_to_the_glossary():
    at = run(AppTest.from_file(APP, default_timeout=300))
    (panel,) = [e for e in at.expander if e.label == "What am I looking at?"]
    words = "\n".join(m.value for m in panel.markdown)
    assert "**red** where the cell is at -1" in words and "**cell state c**" in words and "**hidden state h**" in words
    assert [p.proto.page for p in panel.get("page_link")] == ["Glossary"]


def test_the_predictions_are_the_first_tab_and_open_at_first():
    at = run(AppTest.from_file(APP, default_timeout=300))
    assert at.tabs[0].label == "Predictions" and state.DEFAULTS["panel"] == "Predictions"
    names = [e.proto.component_name for e in at.get("bidi_component")]
    assert "lstm_viz_strip" in names


@pytest.mark.slow
def test_a_first_paste_over_the_limit_gets_one_message_and_a_button_that_keeps_the_first_10000():
    at = run(AppTest.from_file(APP, default_timeout=300))
    click(at, tour.OWN)  # an empty box, as for one's own text
    run(at)
    too_long = ("It was the best of times, it was the worst of times.\r\n" * 250)[: state.LIMIT + 2000]
    at.text_area(key="text").set_value(too_long)
    run(at)
    (error,) = at.error
    assert "10,000" in error.value and [i.value for i in at.info] == []
    assert not [e for e in at.get("bidi_component") if e.proto.component_name == "lstm_viz_text"]
    click(at, controls.KEEP_FIRST)
    run(at)
    assert not at.error
    kept = lstm_viz.normalise(too_long)[: state.LIMIT]
    assert at.text_area(key="text").value == kept
    assert at.session_state["shown_text"] == kept
    assert controls.KEEP_FIRST == "Keep the first 10,000 characters"


@pytest.mark.slow
def test_the_glossary_says_what_differs_for_a_gru_and_a_vanilla_rnn():
    at = AppTest.from_file(APP, default_timeout=300)
    run(at)
    at.switch_page(glossary_view.GLOSSARY)
    run(at)
    text = "\n".join(m.value for m in at.markdown)
    for name in ("kind", "one state h", "reset gate r", "update gate z", "GRU candidate n", "vanilla RNN"):
        assert f"**{name}**: {glossary.TERMS[name].short}" in text
    assert "one state per cell, h, where the LSTM keeps two (c and h)" in text
    equations = "\n".join(e.value for e in at.latex)
    for line in (
        r"r_t &= \sigma(W_r x_t + U_r h_{t-1} + b_r)",
        r"z_t &= \sigma(W_z x_t + U_z h_{t-1} + b_z)",
        r"h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
        r"h_t &= \tanh(W x_t + U h_{t-1} + b)",
    ):
        assert line in equations
