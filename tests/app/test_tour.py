"""The tour of the lecture's four cells (ui/session/tour.py, drawn by ui/views/tour_view.py): each step's cell
really follows its hypothesis on its example as the step says, and one click shows it."""

import json

import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.find import finder
from tests.conftest import APP
from ui.session import tour
from ui.session.examples import CUSTOM, EXAMPLES


@pytest.fixture(scope="module")
def models():
    return {name: lstm_viz.load(name) for name in {step.model for step in tour.STEPS.values()}}


@pytest.mark.parametrize("key", list(tour.STEPS))
def test_each_steps_cell_is_the_finders_first_on_its_example_with_the_match_and_direction_it_states(key, models):
    step = tour.STEPS[key]
    trace = models[step.model].trace(EXAMPLES[step.example].text)
    ranked = finder.find_cells(trace, step.hypothesis, top=None)
    first = ranked.iloc[0]
    assert (int(first["layer"]), int(first["cell"])) == (step.layer, step.cell)
    assert first["match"] >= step.least, step.promise()
    assert first["sign"] == step.sign
    assert f"above {step.least:.2f}" in step.promise()


def test_the_steps_are_the_lectures_four_cells_on_both_shipped_models():
    assert [(s.model, s.hypothesis) for s in tour.STEPS.values()] == [
        ("warpeace", "quotes"),
        ("warpeace", "line_position"),
        ("linux", "if_condition"),
        ("linux", "bracket_depth"),
    ]


def click(at: AppTest, label: str) -> None:
    (button,) = [b for b in at.button if b.label == label]
    button.click()


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_cell(at: AppTest) -> dict:
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "lstm_viz_text"]
    return json.loads(element.proto.json)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["if", "line"])
def test_one_click_on_a_step_loads_its_model_example_and_cell_and_says_what_the_colours_show(key):
    step = tour.STEPS[key]
    at = run(AppTest.from_file(APP, default_timeout=300))
    click(at, step.button)
    run(at)
    assert at.selectbox(key="model").value == step.model
    assert at.selectbox(key="example").value == step.example
    assert at.text_area(key="text").value == EXAMPLES[step.example].text
    assert (at.selectbox(key="layer").value, at.number_input(key="cell").value) == (step.layer, step.cell)
    view = shown_cell(at)
    assert (view["layer"], view["cell"], view["signal"]) == (step.layer, step.cell, "cell")
    (words,) = [i.value for i in at.info if step.colours in i.value]
    assert step.how in words and step.promise() in words
    assert at.query_params["model"] == step.model and at.query_params["example"] == step.example


@pytest.mark.slow
def test_the_words_go_once_another_cell_is_shown():
    at = run(AppTest.from_file(APP, default_timeout=300))
    click(at, tour.STEPS["quotes"].button)
    run(at)
    assert [i for i in at.info if tour.STEPS["quotes"].colours in i.value]
    at.number_input(key="cell").set_value(430)
    run(at)
    assert not [i for i in at.info if tour.STEPS["quotes"].colours in i.value]


@pytest.mark.slow
def test_the_last_step_empties_the_box_for_your_own_text_and_says_what_to_do():
    at = run(AppTest.from_file(APP, default_timeout=300))
    click(at, tour.OWN)
    run(at)
    assert at.text_area(key="text").value == "" and at.selectbox(key="example").value == CUSTOM
    assert [i.value for i in at.info] == [tour.OWN_WORDS]
