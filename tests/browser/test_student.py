"""A student's first visit in a real browser: the tour's steps, the glossary, the tabs on the
first screen, the pages' names, a calm focus border, one message for a long paste, and a cell page
with every character named and no word cut off."""

from __future__ import annotations

import pytest

from lstm_viz import normalise
from lstm_viz.core.vocab import UNKNOWN_SYMBOL
from ui.session import state, tour
from ui.session.examples import EXAMPLES
from ui.widgets import controls, glossary

from .harness import TEXT_LABEL, TEXT_VIEW, set_text, settled_text, wait_idle, wait_view

pytestmark = pytest.mark.browser

FIRST_SCREEN = {"width": 1400, "height": 900}


def open_app(page, url: str, query: str = "") -> None:
    page.goto(url + "/" + query)
    wait_view(page)
    wait_idle(page)


@pytest.mark.parametrize("key", ["line", "if"])
def test_a_step_of_the_tour_loads_its_model_example_and_cell_and_says_what_the_colours_show(page, app_url, key):
    step = tour.STEPS[key]
    open_app(page, app_url)
    page.get_by_role("button", name=step.button, exact=True).click()
    wait_view(page, layer=str(step.layer), cell=str(step.cell), signal="cell")
    wait_idle(page)
    assert page.locator(TEXT_VIEW).get_attribute("data-chars") == str(len(EXAMPLES[step.example].text))
    assert page.get_by_label(TEXT_LABEL).input_value() == EXAMPLES[step.example].text
    assert f"model={step.model}" in page.url and f"example={step.example}" in page.url
    words = page.locator("[data-testid=stAlertContentInfo]").inner_text()
    assert step.colours.split(":")[0] in words and step.promise() in words


@pytest.mark.parametrize("query", ["", "?model=linux"])  # prose, and the taller C example
def test_the_tabs_to_find_and_change_cells_are_on_the_first_screen(browser, app_url, query):
    context = browser.new_context(viewport=FIRST_SCREEN)
    page = context.new_page()
    try:
        open_app(page, app_url, query)
        tabs = page.locator("[data-testid=stTabs] [role=tablist]").first.bounding_box()
        assert tabs["y"] + tabs["height"] <= FIRST_SCREEN["height"], tabs
        for name in ("Find cells", "Intervene"):
            assert page.get_by_role("tab", name=name).is_visible()
    finally:
        context.close()


def test_the_sidebar_names_the_pages_and_the_glossary_opens_with_its_terms(page, app_url):
    open_app(page, app_url)
    sidebar = page.locator("[data-testid=stSidebar]")
    names = sidebar.locator("[data-testid=stPageLink]").all_inner_texts()
    assert names[:4] == ["Explore cells", "Cell", "Analyses", "Glossary"]
    sidebar.get_by_role("link", name="Glossary").click()
    page.get_by_role("heading", name="Glossary").wait_for()
    text = settled_text(page)
    for name in ("cell state c", "hidden state h", "forget gate f", "nats and bits", "logit", "KL"):
        assert f"{name}: {glossary.TERMS[name].short}" in text
    page.locator(".katex").nth(4).wait_for()  # the equations, typeset (KaTeX loads after the page)


def test_what_am_i_looking_at_opens_beside_the_text(page, app_url):
    open_app(page, app_url)
    page.get_by_text("What am I looking at?").click()
    page.get_by_text("Every character of the text is coloured by").wait_for()


def test_a_box_being_typed_in_has_a_calm_border_not_an_alarming_red_one(page, app_url):
    open_app(page, app_url)
    page.get_by_label(TEXT_LABEL).click()
    red, green, blue = page.locator("[data-testid=stTextAreaRootElement]").evaluate(
        "e => getComputedStyle(e).borderTopColor.match(/\\d+/g).slice(0, 3).map(Number)"
    )
    assert blue > red, (red, green, blue)


def test_a_long_first_paste_gets_one_message_and_its_first_10000_characters_can_be_kept(page, app_url):
    open_app(page, app_url)
    page.get_by_role("button", name=tour.OWN, exact=True).click()
    page.get_by_text("Type or paste some text above").wait_for()
    wait_idle(page)
    too_long = ("It was the best of times, it was the worst of times.\n" * 240)[:12_000]
    set_text(page, too_long)
    page.locator("[data-testid=stAlertContentError]").wait_for()
    wait_idle(page)
    alerts = page.locator("[data-testid^=stAlertContent]").all_inner_texts()
    assert len(alerts) == 1 and "12,000" in alerts[0] and "10,000" in alerts[0], alerts
    page.get_by_role("button", name=controls.KEEP_FIRST).click()
    wait_view(page, chars=str(state.LIMIT))
    wait_idle(page)
    assert page.get_by_label(TEXT_LABEL).input_value() == normalise(too_long)[: state.LIMIT]
    assert page.locator("[data-testid=stAlertContentError]").count() == 0


def test_the_quote_cells_page_names_every_character_and_cuts_no_link_short(page, app_url):
    page.goto(app_url + "/Cell?model=warpeace&cell=2:429")
    page.get_by_role("heading", name="Layer 2, cell 429").wait_for()
    wait_idle(page)
    page.get_by_text("Drives its gates most").wait_for()
    main = settled_text(page)
    assert UNKNOWN_SYMBOL not in main and "any other character" in main
    assert '"""' not in main
    cut = page.locator("[data-testid=stMain] [data-testid=stPageLink-NavLink] span").evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"
    )
    assert cut == []
