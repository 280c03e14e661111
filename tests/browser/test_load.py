"""Many visitors at once: 8 sessions in one Chromium, each with its own text, step through cells
together. No errors, no cross-talk through the caches, each server session catches up with its
page's cell, and the server's memory stays bounded.

Prints the cell-switch latency under that load (benchmarks/load_test.py runs it longer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pytest

import lstm_viz
from lstm_viz.views import colour
from ui.components import payload

from .harness import START_SWITCH, SWITCHED, TEXT_VIEW, rss_mb, server_pid, set_text, wait_idle, wait_view

pytestmark = pytest.mark.browser

SESSIONS, SWITCHES, CHARS = 8, 10, 400

COLOURS = "els => els.map(e => getComputedStyle(e).backgroundColor)"
RGB = re.compile(r"\d+")
# The server traces through the batching service, this test one text alone: float rounding can move
# a value across one of the payload's 256 codes, which moves its colour by a level or two of 255.
# Another session's text would be off by far more on most characters.
COLOUR_TOLERANCE = 4


def session_text(i: int, chars: int) -> str:
    """A different War-and-Peace-like text for each session, sampled from the shipped model."""
    head = f"Session {i}.\n"
    return head + lstm_viz.load("warpeace").sample("\n", chars - len(head), temperature=0.8, seed=i)


@dataclass
class Session:
    page: object
    text: str
    layer: int
    cell: int
    problems: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return payload.text_key("warpeace", lstm_viz.normalise(self.text))


@dataclass
class LoadRun:
    latencies_ms: list[float]
    problems: list[str]
    rss_before_mb: float
    rss_after_mb: float

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))


def watch(session: Session) -> None:
    """Record dialogs, console errors (but the unreachable page icon) and page errors as problems."""
    page = session.page
    page.on("dialog", lambda d: (session.problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and session.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: session.problems.append(f"page error: {e}"))


def check(session: Session, layer_values: np.ndarray) -> None:
    """The page shows this session's own text, coloured by this session's cell, and the server has
    caught up with the cell; else a problem."""
    page = session.page
    view = page.locator(TEXT_VIEW)
    try:
        page.wait_for_selector(f'{TEXT_VIEW}[data-synced="{session.cell}"]', state="attached", timeout=60_000)
    except Exception:
        session.problems.append(f"the server never learnt cell {session.cell}")
    wait_idle(page)  # raises if the app showed an exception
    shown = (view.get_attribute("data-key"), view.get_attribute("data-layer"), view.get_attribute("data-cell"))
    if shown != (session.key, str(session.layer), str(session.cell)):
        session.problems.append(f"shows {shown}, expected {(session.key, session.layer, session.cell)}")
        return
    want = np.array([colour.rgb(v) for v in layer_values[session.cell]])  # (T, 3)
    got = np.array([RGB.findall(c) for c in page.locator(f"{TEXT_VIEW} .line.main .ch").evaluate_all(COLOURS)], int)
    if got.shape != want.shape or np.abs(got - want).max() > COLOUR_TOLERANCE:
        session.problems.append(f"colours of layer {session.layer} cell {session.cell} do not match its text")


def drive(browser, url: str, sessions: int, switches: int, chars: int) -> LoadRun:
    """Open `sessions` pages at once, paste a different text in each, then `switches` times click
    "Next cell" in every page together and check what each shows."""
    model = lstm_viz.load("warpeace")
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(sessions)]
    try:
        group = []
        for i, context in enumerate(contexts):
            layer, cell = i % model.config.layers, (37 * i + 5) % model.config.hidden
            group.append(Session(context.new_page(), session_text(i, chars), layer, cell))
            watch(group[-1])
            group[-1].page.goto(f"{url}/?layer={layer + 1}&cell={cell}")
        for s in group:
            wait_view(s.page)
            wait_idle(s.page)
        pid = server_pid(url)
        before = rss_mb(pid)
        for s in group:
            set_text(s.page, s.text)
        traces = [model.trace(lstm_viz.normalise(s.text)) for s in group]
        shown = [
            payload.layer_values(payload.layer_part(tr, "warpeace", s.layer, "cell"))  # (H, T) as the pages get them
            for s, tr in zip(group, traces)
        ]
        for s in group:
            wait_view(s.page, key=s.key)
        latencies = []
        for _ in range(switches):
            for s in group:
                s.page.evaluate(START_SWITCH, "button")
            for s, values in zip(group, shown):
                s.cell = (s.cell + 1) % model.config.hidden
                s.page.wait_for_function(SWITCHED, timeout=120_000)
                latencies.append(s.page.evaluate("() => window.__switch.ms"))
                check(s, values)
        for s in group:
            texts = s.page.locator(f"{TEXT_VIEW} .line.main .ch").all_text_contents()
            if "".join(texts).replace("\u21b5", "\n") != lstm_viz.normalise(s.text):
                s.problems.append("the characters shown are not this session's text")
        return LoadRun(
            latencies, [f"session {i}: {p}" for i, s in enumerate(group) for p in s.problems], before, rss_mb(pid)
        )
    finally:
        for context in contexts:
            context.close()


def report(run: LoadRun, sessions: int) -> str:
    return (
        f"cell switch under {sessions}-session load, {len(run.latencies_ms)} switches: "
        f"p50 {run.percentile(50):.0f} ms, p95 {run.percentile(95):.0f} ms, "
        f"max {max(run.latencies_ms):.0f} ms; server RSS {run.rss_before_mb:.0f} MB before, "
        f"{run.rss_after_mb:.0f} MB after"
    )


def test_eight_sessions_switching_cells_at_once_each_see_their_own_text_and_colours(browser, app_url, capsys):
    run = drive(browser, app_url, SESSIONS, SWITCHES, CHARS)
    with capsys.disabled():
        print("\n" + report(run, SESSIONS))
    assert run.problems == []
    assert len(run.latencies_ms) == SESSIONS * SWITCHES
    # Eight traces of 400 characters, their cached views and per-thread allocator arenas: ~200 MB.
    assert run.rss_after_mb - run.rss_before_mb < 400, report(run, SESSIONS)
