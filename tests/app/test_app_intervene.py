"""The "Intervene" tab: clamp or scale cells, explain a position, ablation beside correlation."""

import re
import threading
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.serve import service
from tests.conftest import APP
from ui.backend import jobs as ui_jobs

SHORT = '"Yes," said he. "No," she said. "Well (then)," he said.\n'


def page(**session) -> AppTest:
    """The app with the Intervene tab open and `session` set."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    for key, value in {"panel": "Intervene", **session}.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def continuations(at: AppTest) -> list[str]:
    return [c.value for c in at.code]


@pytest.mark.slow
def test_clamping_the_quote_cell_changes_the_guesses_and_the_continuation():
    at = page(text=SHORT, example="custom", layer=1, cell=429, pos=3, iv_cells="current", iv_preset="low")
    assert "Intervene" in [t.label for t in at.tabs]
    plain, changed = continuations(at)
    assert plain == lstm_viz.load("warpeace").sample(lstm_viz.normalise(SHORT), 200, 0.8, 0).strip()  # st.code trims
    assert changed != plain
    before, after = at.dataframe[0].value, at.dataframe[1].value
    assert len(before) == len(after) == 5 and not before.equals(after)
    assert any("Mean change of log p" in m.value for m in at.markdown)


@pytest.mark.slow
def test_a_scale_by_one_changes_nothing():
    at = page(text=SHORT, example="custom", iv_kind="scale", iv_factor=1.0)
    plain, changed = continuations(at)
    assert plain == changed
    # the scale is stepped by hand and the plain run is not: a mean change of a few 1e-8 either way,
    # which the page rounds to "+0.000" or "-0.000" depending on the CPU
    assert any(re.search(r"\*\*[+-]0\.000 nats\*\*", m.value) for m in at.markdown)


@pytest.mark.slow
def test_typed_cells_that_do_not_exist_get_a_one_line_error():
    at = page(text=SHORT, example="custom", iv_cells="list", iv_list="3:5, 2:999")
    assert [e.value for e in at.error] == ["Cannot make this edit: no cell 3:5: layers are 1 to 2, cells 0 to 511."]
    assert not at.code


@pytest.mark.slow
def test_explain_by_attribution_names_the_next_character():
    at = page(text=SHORT, example="custom", pos=9, explain="attribution")
    assert any("log p('d' after position 9)" in c.value for c in at.caption)
    assert not at.error


@pytest.mark.slow
def test_the_ablation_ranking_stands_beside_the_correlation_ranking():
    at = page(text=SHORT, example="custom", hypothesis="quotes")
    at.button(key="iv_ablate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    correlation, ablation = (d.value for d in at.dataframe[-2:])
    assert correlation.columns.tolist() == ["layer", "cell", "match"]
    assert ablation.columns.tolist() == ["rank", "layer", "cell", "delta"]
    assert ablation["rank"].tolist() == list(range(1, 21)) and np.all(np.diff(ablation["delta"]) >= 0)
    assert (ablation.iloc[0]["layer"], ablation.iloc[0]["cell"]) == (2, 429)  # the quote cell, layers from 1


@pytest.fixture
def one_slot(monkeypatch):
    """The process's queue of long jobs with one slot, taken by a job that runs until `release` is set."""
    budget = service.Budget(2)
    jobs = service.HeavyJobs(budget, slots=1, max_waiting=1)
    monkeypatch.setattr(service, "_started", service.Service(service.TraceService(budget), jobs, budget))
    release, started = threading.Event(), threading.Event()
    ahead = threading.Thread(target=jobs.run, args=(lambda: (started.set(), release.wait(300)),))
    ahead.start()
    started.wait(300)
    yield jobs, release
    release.set()
    ahead.join(300)


@pytest.mark.slow
def test_an_ablation_waiting_for_a_slot_says_how_many_jobs_are_ahead_then_runs(one_slot, monkeypatch):
    jobs, release = one_slot
    line, told = ui_jobs.queued, []

    def queued(n):  # the line the page shows while the job waits; the job ahead ends once it is shown
        told.append(line(n))
        release.set()
        return told[-1]

    monkeypatch.setattr(ui_jobs, "queued", queued)
    at = page(text=SHORT + "(queued)", example="custom", hypothesis="quotes")
    at.button(key="iv_ablate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert told[0] == "Busy, queued (1 ahead): other visitors' long jobs run first; yours starts after them."
    assert at.dataframe[-1].value.columns.tolist() == ["rank", "layer", "cell", "delta"]
    assert jobs.status() == (0, 0)


@pytest.mark.slow
def test_with_too_many_long_jobs_waiting_the_ablation_says_so_in_one_line_and_the_page_goes_on(one_slot):
    jobs, _ = one_slot
    waiting = threading.Thread(target=jobs.run, args=(lambda: None,))
    waiting.start()  # fills the queue (max_waiting=1)
    while jobs.status() != (1, 1):
        time.sleep(0.01)
    at = page(text=SHORT + "(busy)", example="custom", hypothesis="quotes")
    at.button(key="iv_ablate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == ["The server is busy (long jobs waiting: 1). Try again in a minute."]
    assert any("Mean change of log p" in m.value for m in at.markdown)  # the rest of the tab is there
