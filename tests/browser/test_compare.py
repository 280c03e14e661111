"""The Compare kinds tab in a real browser: one coloured row per model trained on the same corpus,
each headed by its best cell's match, and no exception; with tiny LSTM, GRU and RNN models in an
LSTM_VIZ_MODELS folder, and with the shipped models (one line says when only one kind is there)."""

from __future__ import annotations

import pytest

import lstm_viz
from lstm_viz.paper import ngram
from tests.conftest import make_corpus, tiny
from ui.backend import peers

from .harness import app_server, wait_idle, wait_view

pytestmark = pytest.mark.browser

KINDS = ("lstm", "gru", "rnn")
ROW_VIEWS = "[data-testid=stTabs] .lv[data-chars]"  # the rows' coloured texts, inside the open tab


@pytest.fixture(scope="module")
def kinds_url(tmp_path_factory):
    """An app server that also lists tiny-lstm, tiny-gru and tiny-rnn, trained on one (named) corpus."""
    root = tmp_path_factory.mktemp("kinds")
    for kind in KINDS:
        model = tiny(kind)
        folder = lstm_viz.save(model, root / f"tiny-{kind}", {"corpus": {"name": "tiny text", "sha256": "0" * 64}})
        ngram.train(lstm_viz.normalise(make_corpus(300)), model.vocab, order=5).save(folder / ngram.FILE)
    with app_server(env={"LSTM_VIZ_MODELS": str(root)}) as url:
        yield url


def open_compare(page, url: str) -> list[str]:
    """Open the Compare kinds tab; the rows' headings, once every row's text is drawn."""
    wait_view(page)
    wait_idle(page)
    page.get_by_role("tab", name="Compare kinds").click()
    page.get_by_role("combobox", name="Each model's best cell for").wait_for()
    wait_idle(page)
    return page.locator("[data-testid=stTabs] [data-testid=stMarkdownContainer] p").all_inner_texts()


def rows(headings: list[str], names: list[str]) -> list[str]:
    return [h for h in headings if h.split(" (")[0] in names]


def test_three_kinds_get_one_row_each_with_their_best_quote_cell_and_its_match(page, kinds_url):
    page.goto(kinds_url + "/?model=tiny-lstm")
    names = [f"tiny-{kind}" for kind in KINDS]
    shown = rows(open_compare(page, kinds_url), names)
    assert [h.split(" (")[0] for h in shown] == names
    assert all(", follows quotes with match " in h for h in shown), shown
    page.locator(ROW_VIEWS).nth(len(KINDS) - 1).wait_for(state="attached")
    assert page.locator(ROW_VIEWS).count() == len(KINDS)
    assert page.get_by_text("is available for this corpus").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0


def test_the_shipped_models_get_a_row_each_and_one_line_when_only_one_kind_is_there(page, app_url):
    model = lstm_viz.load("warpeace")
    expected = peers.same_corpus("warpeace", model.card)
    names = [name for name, _ in expected]
    page.goto(app_url + "/")
    shown = rows(open_compare(page, app_url), names)
    assert [h.split(" (")[0] for h in shown] == names
    assert all(" follows quotes with match " in h for h in shown), shown
    page.locator(ROW_VIEWS).nth(len(names) - 1).wait_for(state="attached")
    one_kind = len({about["kind"] for _, about in expected}) == 1
    assert page.get_by_text("is available for this corpus").count() == int(one_kind)
    assert page.locator("[data-testid=stException]").count() == 0
