"""The tabs below the text as a registry (ui/panels.PANELS), and what they share: the finder's
hypothesis as a plain value, and an ablation ranking run only when asked for."""

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import lstm_viz
from tests.conftest import APP
from ui import panels

TEXT = '"Yes," she said (twice). "No," he said. "Then (perhaps) later," said she.\n'


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def put(at: AppTest, **values) -> None:
    for key, value in values.items():
        at.session_state[key] = value


def open_tab(at: AppTest, label: str) -> AppTest:
    at.session_state["panel"] = label  # what clicking the tab does
    return rerun(at)


def correlation_heading(at: AppTest) -> str:
    (heading,) = [m.value for m in at.markdown if m.value.startswith("**Match with")]
    return heading


@pytest.mark.slow
def test_the_intervene_tab_keeps_the_hypothesis_picked_in_the_finder_over_reruns():
    at = rerun(AppTest.from_file(APP, default_timeout=300))
    put(at, text=TEXT, example="custom")
    open_tab(at, "Find cells")
    at.selectbox(key="find_hypothesis").set_value("paren_depth")
    rerun(at)
    open_tab(at, "Intervene")
    assert correlation_heading(at) == "**Match with paren depth** (the finder, on your text)"
    rerun(at)  # the finder's picker is not drawn now: Streamlit has dropped its key
    assert correlation_heading(at) == "**Match with paren depth** (the finder, on your text)"
    open_tab(at, "Find cells")
    assert at.selectbox(key="find_hypothesis").value == "paren_depth"


@pytest.mark.slow
def test_the_ablation_ranking_runs_once_when_asked_and_not_again_for_the_next_text(monkeypatch):
    calls = []

    def counted(model, text):
        calls.append(text)
        return ranking(model, text)

    ranking = lstm_viz.ablation_ranking
    monkeypatch.setattr(lstm_viz, "ablation_ranking", counted)
    at = rerun(AppTest.from_file(APP, default_timeout=300))
    put(at, text=TEXT, example="custom", hypothesis="quotes")
    open_tab(at, "Find cells")
    open_tab(at, "Intervene")
    assert calls == [] and at.button(key="iv_ablate")
    at.button(key="iv_ablate").click()
    rerun(at)
    rerun(at)
    assert calls == [lstm_viz.normalise(TEXT)]  # once, on the press; the rerun shows it again
    assert at.dataframe[-1].value.columns.tolist() == ["rank", "layer", "cell", "delta"]
    at.text_area(key="text").set_value(TEXT.replace("twice", "thrice"))
    rerun(at)
    assert len(calls) == 1, "a new text must not start a ranking by itself"
    assert at.button(key="iv_ablate") and at.dataframe[-1].value.columns.tolist() == ["layer", "cell", "match"]


def throwaway(shown) -> None:
    st.markdown(
        f"Throwaway panel: {shown.name}, layer {shown.layer + 1}, cell {shown.cell}, "
        f"{len(shown.trace.text)} characters, hypothesis {shown.hypothesis}"
    )


@pytest.mark.slow
def test_a_panel_is_one_line_in_the_registry(monkeypatch):
    monkeypatch.setitem(panels.PANELS, "Throwaway", throwaway)
    at = rerun(AppTest.from_file(APP, default_timeout=120))
    assert [t.label for t in at.tabs] == [
        "Predictions",
        "All cells",
        "Find cells",
        "Intervene",
        "Cell labels",
        "Cell map",
        "Compare kinds",
        "Throwaway",
    ]
    assert not any(m.value.startswith("Throwaway panel") for m in at.markdown)  # closed tabs do not run
    put(at, layer=1, cell=429)
    open_tab(at, "Throwaway")
    text = lstm_viz.normalise(at.session_state["text"])
    assert f"Throwaway panel: warpeace, layer 2, cell 429, {len(text)} characters, hypothesis quotes" in [
        m.value for m in at.markdown
    ]
