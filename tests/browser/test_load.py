"""Many visitors at once: 8 sessions in one Chromium, each with its own text, step through cells
together. No errors, no cross-talk through the caches, and the server's memory stays bounded.

Prints the cell-switch latency under that load (benchmarks/load_test.py runs it longer).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

import lstm_viz
from lstm_viz import colour
from ui import payload

from .harness import TEXT_VIEW, rss_mb, server_pid, set_text, wait_idle, wait_view

pytestmark = pytest.mark.browser

SESSIONS, SWITCHES, CHARS = 8, 10, 400

# Clicks "Next cell" and returns at once; window.__switch.ms is set, from the click, once the
# coloured text has repainted the next cell (its data-cell changes at the end of a repaint).
START_SWITCH = """() => {
  const host = [...document.querySelectorAll("[data-testid=stBidiComponentIsolated]")]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector(".lv"));
  const root = host.shadowRoot.querySelector(".lv");
  const want = String(Number(root.dataset.cell) + 1);
  const button = [...document.querySelectorAll("button")].find((b) => b.innerText.trim() === "Next cell");
  const s = window.__switch = { ms: null };
  const observer = new MutationObserver(() => {
    if (root.dataset.cell !== want) return;
    observer.disconnect();
    s.ms = performance.now() - start;
  });
  observer.observe(root, { attributes: true, attributeFilter: ["data-cell"] });
  const start = performance.now();
  button.click();
}"""
COLOURS = "els => els.map(e => getComputedStyle(e).backgroundColor)"


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


def check(session: Session, tr: lstm_viz.Trace) -> None:
    """The page shows this session's own text, coloured by this session's cell; else a problem."""
    page = session.page
    wait_idle(page)  # raises if the app showed an exception
    view = page.locator(TEXT_VIEW)
    shown = (view.get_attribute("data-key"), view.get_attribute("data-layer"), view.get_attribute("data-cell"))
    if shown != (session.key, str(session.layer), str(session.cell)):
        session.problems.append(f"shows {shown}, expected {(session.key, session.layer, session.cell)}")
        return
    want = [colour.css(v) for v in tr.cell[session.layer, :, session.cell]]
    if page.locator(f"{TEXT_VIEW} .ch").evaluate_all(COLOURS) != want:
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
        for s in group:
            wait_view(s.page, key=s.key)
        latencies = []
        for _ in range(switches):
            for s in group:
                s.page.evaluate(START_SWITCH)
            for s, tr in zip(group, traces):
                s.cell = (s.cell + 1) % model.config.hidden
                s.page.wait_for_function("() => window.__switch.ms !== null", timeout=120_000)
                latencies.append(s.page.evaluate("() => window.__switch.ms"))
                check(s, tr)
        for s in group:
            texts = s.page.locator(f"{TEXT_VIEW} .ch").all_text_contents()
            if "".join(texts).replace("\u21b5", "\n") != lstm_viz.normalise(s.text):
                s.problems.append("the characters shown are not this session's text")
        return LoadRun(latencies, [f"session {i}: {p}" for i, s in enumerate(group) for p in s.problems],
                       before, rss_mb(pid))
    finally:
        for context in contexts:
            context.close()


def report(run: LoadRun, sessions: int) -> str:
    return (f"cell switch under {sessions}-session load, {len(run.latencies_ms)} switches: "
            f"p50 {run.percentile(50):.0f} ms, p95 {run.percentile(95):.0f} ms, "
            f"max {max(run.latencies_ms):.0f} ms; server RSS {run.rss_before_mb:.0f} MB before, "
            f"{run.rss_after_mb:.0f} MB after")


def test_eight_sessions_switching_cells_at_once_each_see_their_own_text_and_colours(browser, app_url, capsys):
    run = drive(browser, app_url, SESSIONS, SWITCHES, CHARS)
    with capsys.disabled():
        print("\n" + report(run, SESSIONS))
    assert run.problems == []
    assert len(run.latencies_ms) == SESSIONS * SWITCHES
    # Eight traces of 400 characters, their cached views and per-thread allocator arenas: ~200 MB.
    assert run.rss_after_mb - run.rss_before_mb < 400, report(run, SESSIONS)
