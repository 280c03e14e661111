"""Hostile input in a real Chromium: injected markup and script, huge and odd texts, garbage
links and broken model folders. Nothing runs, nothing crashes, and the visitor is told why.

One server for the module, its model list (LSTM_VIZ_PRETRAINED) holding the shipped models
beside broken ones.
"""

from __future__ import annotations

import pytest

import lstm_viz
from lstm_viz.views import glyphs
from tests.app.test_app_hostile import INJECTIONS, ODD, make_model_folders
from ui.components import payload
from ui.session import state

from .harness import TEXT_LABEL, TEXT_VIEW, app_server, rss_mb, server_pid, set_text, wait_idle, wait_view

pytestmark = pytest.mark.browser

FIRST_CELL = "?layer=1&cell=0"
# what injected markup would make; the view's own training-loss chart (svg.loss) is not the text's
INJECTED = "script, img, svg:not(.loss), iframe, object, embed, a[href^='javascript'], [onerror], [onload]"


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    root = make_model_folders(tmp_path_factory.mktemp("pretrained"))
    (root / "linux").symlink_to(lstm_viz.io.checkpoint.resolve("linux"))
    with app_server(env={"LSTM_VIZ_PRETRAINED": str(root)}) as url:
        yield url


@pytest.fixture
def watched(page):
    """The page, failing the test if any dialog opens; its console errors land in page.errors."""
    page.errors = []
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message):
        if message.type == "error":
            page.errors.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    assert dialogs == [], f"a dialog opened: {dialogs}"


def open_app(page, url: str, query: str = FIRST_CELL) -> None:
    page.goto(url + "/" + query)
    wait_view(page)
    wait_idle(page)


def show(page, text: str) -> None:
    set_text(page, text)
    wait_view(page, key=payload.text_key("warpeace", lstm_viz.normalise(text)))
    wait_idle(page)


def spans(page):
    return page.locator(f"{TEXT_VIEW} .ch")


def shown_as(text: str) -> list[str]:
    """What each span of the coloured text says for `text`: the character, or its symbol for a newline."""
    return [glyphs.NAMES["\n"] if c == "\n" else c for c in lstm_viz.normalise(text)]


def alerts(page, kind: str) -> list[str]:
    return page.locator(f"[data-testid=stAlertContent{kind}]").all_inner_texts()


def test_injected_markup_and_script_are_shown_character_by_character_and_never_run(watched, hostile_url):
    page = watched
    open_app(page, hostile_url)
    show(page, INJECTIONS)
    assert spans(page).all_text_contents() == shown_as(INJECTIONS)
    assert page.locator(TEXT_VIEW).locator(INJECTED).count() == 0
    assert page.locator("img[src=x], svg[onload], a[href*='evil.example']").count() == 0  # nor anywhere else
    lt = INJECTIONS.index("< lone")
    spans(page).nth(lt).hover()
    card = page.locator(f"{TEXT_VIEW} .card")
    card.wait_for(state="visible")
    assert card.locator(".char").inner_text() == "<"
    assert page.evaluate("() => window.__pwned") is None
    assert page.errors == []


def test_a_link_with_markup_in_it_is_corrected_with_notices_shown_as_plain_text(watched, hostile_url):
    page = watched
    open_app(
        page,
        hostile_url,
        "?model=[log in](https://evil.example/login)&layer=99&cell=abc"
        "&example=<img src=x onerror=alert(1)>&signal=**bold**",
    )
    warnings = alerts(page, "Warning")
    assert warnings[:3] == [
        "Ignored model='[log in](https://evil.example/login)' from the link: no such model (have card-mismatch, "
        "linux, pickled, truncated, warpeace, wrong-shape).",
        "Ignored example='<img src=x onerror=alert(1)>' from the link: choose one of dialogue, c, ifs, long.",
        "Ignored signal='**bold**' from the link: choose one of cell, hidden, input, forget, output.",
    ]
    assert warnings[3:] == [
        "Ignored cell='abc' from the link: not a whole number of at most 6 digits.",
        "Layer 99 does not exist in this model (1 to 2); showing layer 1.",
    ]
    assert page.locator("[data-testid=stAlertContentWarning]").locator("a, img, strong").count() == 0
    wait_view(page, layer="0", cell="0", signal="cell")
    assert "model=warpeace" in page.url and "layer=1" in page.url and "cell=0" in page.url
    assert page.errors == []


def test_exactly_the_limit_is_coloured_in_full(watched, hostile_url):
    page = watched
    open_app(page, hostile_url)
    text = ("The quick brown fox jumps over the lazy dog.\n" * 300)[: state.LIMIT]
    show(page, text)
    assert page.locator(TEXT_VIEW).get_attribute("data-chars") == str(state.LIMIT)
    assert spans(page).count() == state.LIMIT and alerts(page, "Error") == []
    assert page.errors == []


def test_empty_text_asks_for_some_and_one_character_is_coloured(watched, hostile_url):
    page = watched
    open_app(page, hostile_url)
    set_text(page, "")
    page.get_by_text("Type or paste some text above").wait_for()
    wait_idle(page)
    assert page.locator(TEXT_VIEW).count() == 0
    show(page, "x")
    assert spans(page).all_text_contents() == ["x"]
    assert page.errors == []


def test_a_one_megabyte_paste_is_refused_kept_in_the_box_and_the_server_stays_small(watched, hostile_url):
    page = watched
    open_app(page, hostile_url)
    key = page.locator(TEXT_VIEW).get_attribute("data-key")
    pid = server_pid(hostile_url)
    before = rss_mb(pid)
    huge = ("It was the best of times, it was the worst of times. " * 20_000)[:1_000_000]
    set_text(page, huge)
    error = page.locator("[data-testid=stAlertContentError]")
    error.wait_for(timeout=60_000)
    wait_idle(page)
    assert "1,000,000 characters" in error.inner_text() and "10,000" in error.inner_text()
    assert page.get_by_label(TEXT_LABEL).input_value() == huge
    assert page.locator(TEXT_VIEW).get_attribute("data-key") == key  # still the last text within the limit
    assert rss_mb(pid) - before < 300, "the server grew by more than a few copies of the text"
    assert page.errors == []


def test_odd_characters_are_each_shown_in_one_span_and_those_outside_the_alphabet_are_marked(watched, hostile_url):
    page = watched
    open_app(page, hostile_url)
    show(page, ODD)
    assert spans(page).all_text_contents() == shown_as(ODD)
    tr = lstm_viz.load("warpeace").trace(lstm_viz.normalise(ODD))
    marked = spans(page).evaluate_all("els => els.flatMap((e, i) => e.classList.contains('unk') ? [i] : [])")
    assert marked == tr.unknown.nonzero()[0].tolist() and len(marked) > 10
    assert page.errors == []


def test_a_lone_surrogate_put_in_the_box_by_script_never_breaks_the_server(page, hostile_url):
    """Only script can put one there; it cannot travel as UTF-8, so the connection drops and comes back."""
    open_app(page, hostile_url)
    box = page.get_by_label(TEXT_LABEL)
    box.evaluate("""box => {
      Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set.call(box, "a\\ud800b");
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }""")
    with page.expect_websocket(timeout=30_000):  # the dropped connection comes back before the next edit
        box.press("Control+Enter")
    wait_idle(page)
    show(page, "Still working.")
    assert spans(page).all_text_contents() == shown_as("Still working.")


@pytest.mark.parametrize(
    "name, why",
    [
        ("truncated", "truncated or corrupt"),
        ("wrong-shape", "the card's config needs"),
        ("card-mismatch", "tensors do not match the card's config"),
        ("pickled", "pickle checkpoints are never loaded"),
    ],
)
def test_a_broken_model_in_the_list_gives_a_clear_message_not_a_traceback(watched, hostile_url, name, why):
    page = watched
    open_app(page, hostile_url)
    show(page, "My own text, kept.")
    page.get_by_label("Model", exact=True).click()
    page.get_by_role("option", name=name, exact=True).click()
    error = page.locator("[data-testid=stAlertContentError]")
    error.wait_for()
    wait_idle(page)
    assert error.inner_text().startswith(f"Cannot load model '{name}':") and why in error.inner_text()
    assert "Traceback" not in page.content()
    assert page.get_by_label(TEXT_LABEL).input_value() == "My own text, kept."
    assert page.errors == []
