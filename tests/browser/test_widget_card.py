"""The notebook widget's hover card in Chromium, without a notebook server: its script rendered
from a model holding exactly the traits TraceWidget syncs (anywidget's model interface: get, set,
on, off, save_changes)."""

from __future__ import annotations

import base64
import json

import pytest

from lstm_viz.views.notebook import script

pytestmark = pytest.mark.browser
anywidget = pytest.importorskip("anywidget")

PAGE = """<!doctype html><html><body><div id="root"></div><script type="module">
const traits = %s;
const model = { get: (k) => traits[k], set: (k, v) => { traits[k] = v; }, on() {}, off() {}, save_changes() {} };
const { default: widget } = await import("data:text/javascript;base64," + %s);
widget.render({ model, el: document.getElementById("root") });
window.__ready = true;
</script></body></html>"""


@pytest.fixture
def view(tiny_model):
    return tiny_model.trace('the cat said "yes".').show(layer=1, cell=4, labels={(1, 4): 'inside "<b>quotes</b>"'})


def card_text(page, view) -> str:
    traits = {k: v for k, v in view.get_state().items() if not k.startswith("_") and k != "layout"}
    code = script().encode("utf-8")
    page.set_content(PAGE % (json.dumps(traits), json.dumps(base64.b64encode(code).decode())))
    page.wait_for_function("window.__ready === true")
    page.locator(".lvw .ch").nth(3).hover()
    return page.locator(".lvw .card").inner_text()


def test_the_hover_card_says_what_the_chosen_cell_is_about_as_text(page, view):
    text = card_text(page, view)
    assert 'about: inside "<b>quotes</b>"' in text  # shown as typed, never as HTML
    assert page.locator(".lvw .card b").count() == 0


def test_without_labels_the_card_has_no_such_line(page, tiny_model):
    assert "about:" not in card_text(page, tiny_model.trace('the cat said "yes".').show(layer=1, cell=4))
