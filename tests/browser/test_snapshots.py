"""The training slider of a model shipped with its training's snapshots: its first move fetches the chosen
cell at every snapshot (one rerun); from then on moving it recolours the cell in place, with no message to
the server, and shows that snapshot's loss and sample."""

from __future__ import annotations

import pytest

from .harness import SLIDE, TEXT_VIEW, wait_idle, wait_view

pytestmark = pytest.mark.browser

MODEL = "warpeace-lstm-2x128"
COLOURS = "els => els.map(e => getComputedStyle(e).backgroundColor)"


def main_colours(page) -> list[str]:
    return page.locator(f"{TEXT_VIEW} .line.main .ch").evaluate_all(COLOURS)


def test_moving_the_training_slider_changes_the_colours_of_the_coloured_text(page, app_url):
    page.goto(f"{app_url}/?model={MODEL}&layer=2&cell=50")
    wait_view(page, cell="50")
    wait_idle(page)
    slider = page.locator(f"{TEXT_VIEW} .training .snap")
    assert slider.is_visible() and slider.is_enabled()
    stops = int(slider.get_attribute("max"))
    assert stops >= 12 and slider.input_value() == str(stops)  # it opens on the trained model
    trained = main_colours(page)

    slider.evaluate(SLIDE, 0)  # the untrained weights: the first move asks the server for every snapshot's values
    wait_view(page, snapshot="0")
    wait_idle(page)
    untrained = main_colours(page)
    assert len(untrained) == len(trained) and untrained != trained
    words = page.locator(f"{TEXT_VIEW} .training .when").inner_text()
    assert words.startswith(f"snapshot 0 of {stops}: 0 characters seen")
    assert page.locator(f"{TEXT_VIEW} .training .sample").inner_text().strip()
    assert page.locator(f"{TEXT_VIEW} .training .loss .now").count() == 1

    slider.evaluate(SLIDE, stops - 1)  # the last snapshot: close to the trained model, not the untrained one
    wait_view(page, snapshot=str(stops - 1))
    late = main_colours(page)
    assert sum(a != b for a, b in zip(late, trained)) < sum(a != b for a, b in zip(untrained, trained))

    slider.evaluate(SLIDE, stops)  # back to the model itself: its own colours again
    wait_view(page, snapshot=str(stops))
    assert main_colours(page) == trained
    assert page.locator("[data-test-script-state=running]").count() == 0  # these moves asked for no rerun


def test_a_model_without_snapshots_has_no_training_slider(page, app_url):
    page.goto(f"{app_url}/?model=warpeace&layer=2&cell=429")
    wait_view(page, cell="429")
    wait_idle(page)
    assert not page.locator(f"{TEXT_VIEW} .training").is_visible()
