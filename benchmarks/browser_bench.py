"""How fast the app feels in a real browser: every figure of the performance targets, and where the
browser's time goes.

    .venv/bin/python benchmarks/browser_bench.py [--repeats 7] [--sizes 2000 10000] [--sessions 8]

Starts `streamlit run app.py` on a free loopback port, drives Debian's Chromium with Playwright
and prints a table. Every figure ends when the new colours are on screen, timed inside the page:
the coloured text stamps `data-shown-at` (performance.now()) in the frame after each repaint.
Page opens start at navigation; pastes at the Ctrl+Enter key press; cell switches at the click
or key press (tests/browser/harness.py's START_SWITCH). The bytes of one 10,000-character layer
are the websocket frames received while that text is applied. The breakdown is Chrome's own
Performance.getMetrics (CDP) over a warm page open. The load average is printed with it.
The Compare kinds tab is timed on the shipped War and Peace models (its 2 x 512 LSTM and the
2 x 128 LSTM, GRU and RNN): from Ctrl+Enter to the last of its rows coloured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.harness import (
    START_SWITCH,
    SWITCHED,
    TEXT_LABEL,
    TEXT_VIEW,
    app_server,
    chromium,
    wait_idle,
    wait_view,
)
from tests.browser.test_load import drive
from ui.backend import peers
from ui.components.payload import text_key
from ui.session.examples import EXAMPLES

TARGETS = {  # figure -> target in the issue, seconds (or MB)
    "open": 2.0,
    "first": 4.0,
    "paste 2,000": 1.0,
    "paste 10,000": 2.0,
    "switch": 0.05,
    "load p95": 0.3,
    "layer MB": 6.0,
    "compare 2,000": 1.0,
}
# Every coloured text's root element on the page (inside its component's shadow root), once drawn.
VIEW_ROOTS = """[...document.querySelectorAll("[data-testid=stBidiComponentIsolated]")]
  .map((h) => h.shadowRoot && h.shadowRoot.querySelector(".lv")).filter(Boolean)"""
# Milliseconds from Ctrl+Enter to the last of the text views showing one of `keys` (a model's text
# key each) painted, or null while one of them has not shown it yet.
ALL_SHOWN = f"""(keys) => {{
  const roots = {VIEW_ROOTS};
  const times = keys.map((k) => roots.filter((r) => (r.dataset.shown || "").startsWith(k + ":"))
    .map((r) => Number(r.dataset.shownAt)));
  if (times.some((t) => !t.length)) return null;
  return Math.max(...times.map((t) => Math.max(...t))) - window.__pressed;
}}"""
METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
# The (first) coloured text's root element, or undefined before it is drawn.
VIEW_ROOT = f"({VIEW_ROOTS})[0]"
SHOWN_AT = f"() => Number(({VIEW_ROOT}).dataset.shownAt)"
KEY_AT = """() => {
  window.__pressed = null;
  const listener = (e) => {
    if (e.key !== "Enter" || !e.ctrlKey) return;
    window.__pressed = performance.now();
    document.removeEventListener("keydown", listener, true);
  };
  document.addEventListener("keydown", listener, true);
}"""


def bench_text(n: int, seed: int) -> str:
    """n characters of the example texts, starting at a different place for each seed."""
    source = "".join(e.text for e in EXAMPLES.values())
    start = (seed * 997) % len(source)
    return ((source[start:] + source) * (n // len(source) + 2))[:n]


def open_page(browser, url: str) -> tuple[float, dict]:
    """Seconds from navigation to the coloured example on screen, and where they went: Chrome's
    metrics (s) by then, and when the websocket's first and largest (the layer part) frames came."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    frames: list[tuple[float, int]] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append((time.perf_counter(), len(f)))))
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(".lv[data-shown-at]", state="attached", timeout=120_000)
    shown = page.evaluate(SHOWN_AT) / 1000
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    wait_idle(page)
    page.close()
    before = [(t - t0, n) for t, n in frames if t - t0 <= shown]
    where = {name: metrics.get(name, float("nan")) for name in METRICS}
    if before:
        where["first websocket frame"] = before[0][0]
        where["layer part frame"] = max(before, key=lambda f: f[1])[0]
        where["frames before colours (MB)"] = sum(n for _, n in before) / 1e6
    where["colours on screen"] = shown
    return shown, where


def paste(page, text: str, received: list[int]) -> tuple[float, int]:
    """Seconds from Ctrl+Enter to the pasted text on screen, coloured; websocket bytes received
    meanwhile (`received` collects the page's frame sizes)."""
    box = page.get_by_label(TEXT_LABEL)
    box.fill(text)
    page.evaluate(KEY_AT)
    before = len(received)
    box.press("Control+Enter")
    page.wait_for_selector(
        f'{TEXT_VIEW}[data-shown^="{text_key("warpeace", text)}:"]', state="attached", timeout=120_000
    )
    seconds = (page.evaluate(SHOWN_AT) - page.evaluate("() => window.__pressed")) / 1000
    wait_idle(page)
    return seconds, sum(received[before:])


def trace_seconds(text: str, threads: int | None) -> float:
    """Seconds `model.trace` takes on this text in this process: the part of a paste that is the model."""
    import torch

    import lstm_viz

    if threads:
        torch.set_num_threads(threads)
    model = lstm_viz.load("warpeace")
    t = time.perf_counter()
    model.trace(text)
    return time.perf_counter() - t


def switches(page, how: str, repeats: int) -> float:
    """Median seconds from a click on Next cell (or the j key) to the next cell's colours on screen."""
    times = []
    for _ in range(repeats):
        page.evaluate(START_SWITCH, how)
        page.wait_for_function(SWITCHED, timeout=60_000)
        times.append(page.evaluate("() => window.__switch.ms") / 1000)
        page.wait_for_timeout(50)
    return statistics.median(times)


class Rows(list):
    """The table's rows (figure, value, target); each is also printed as soon as it is measured."""

    def append(self, row: tuple[str, str, str]) -> None:
        super().append(row)
        print(f"  {row[0]}: {row[1]} (target {row[2]})", flush=True)


def compare_models() -> list[str]:
    """The models the Compare tab shows beside the shipped War and Peace model: every shipped model
    of its corpus."""
    from lstm_viz.io import checkpoint

    return [name for name, _ in peers.same_corpus("warpeace", checkpoint.read_card(checkpoint.resolve("warpeace")))]


def compare_seconds(browser, env: dict | None, repeats: int) -> tuple[list[str], float]:
    """(the models, median seconds) from Ctrl+Enter to a 2,000-character text coloured in every
    row of the Compare kinds tab, on a warm server (one paste first, untimed)."""
    names = compare_models()
    with app_server(env=env) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/")
        wait_view(page)
        wait_idle(page)
        page.get_by_role("tab", name="Compare kinds").click()
        wait_idle(page)
        times = []
        for i in range(repeats + 1):
            text = bench_text(2000, 100 + i)
            box = page.get_by_label(TEXT_LABEL)
            box.fill(text)
            page.evaluate(KEY_AT)
            box.press("Control+Enter")
            keys = [text_key(name, text) for name in names]
            # Polled every 100 ms, not every frame (which would load the page it times): the times are the page's own.
            handle = page.wait_for_function(ALL_SHOWN, arg=keys, timeout=120_000, polling=100)
            if i:
                times.append(handle.json_value() / 1000)
            wait_idle(page)
        page.close()
    return names, statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="cell switches per text size and way")
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--opens", type=int, default=3, help="warm page opens (median)")
    ap.add_argument("--sessions", type=int, default=8, help="sessions of the load figure (0: skip it)")
    ap.add_argument("--load-chars", type=int, default=400, help="characters of each load session's text")
    ap.add_argument("--compares", type=int, default=3, help="timed pastes in the Compare kinds tab (0: skip it)")
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="OMP_NUM_THREADS for the app (default: torch's own choice); 1 helps on a busy machine",
    )
    a = ap.parse_args()

    rows = Rows()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    env = {"OMP_NUM_THREADS": str(a.threads)} if a.threads else None
    t0 = time.perf_counter()
    with app_server(env=env) as url, chromium() as browser:
        up = time.perf_counter() - t0
        first, _ = open_page(browser, url)
        opens = [open_page(browser, url) for _ in range(a.opens)]
        warm = statistics.median(s for s, _ in opens)
        breakdown = min(opens, key=lambda o: o[0])[1]
        rows.append(("server start -> health check answers", f"{up:.2f} s", "-"))
        rows.append(("first visit after server start -> coloured text", f"{first:.2f} s", f"<= {TARGETS['first']} s"))
        rows.append(
            (
                f"open page, warm server -> coloured text (median of {a.opens})",
                f"{warm:.2f} s",
                f"<= {TARGETS['open']} s",
            )
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        frames: list[int] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(len(f))))
        page.goto(url + "/?layer=1&cell=0")
        wait_view(page)
        wait_idle(page)
        for i, n in enumerate(a.sizes):
            seconds, received = paste(page, bench_text(n, i), frames)
            target = {2000: f"<= {TARGETS['paste 2,000']} s", 10000: f"<= {TARGETS['paste 10,000']} s"}.get(n, "-")
            rows.append((f"paste {n:,} chars -> coloured", f"{seconds:.2f} s", target))
            rows.append(
                (
                    f"  of which the model's trace of {n:,} chars (timed here, same threads)",
                    f"{trace_seconds(bench_text(n, i), a.threads):.2f} s",
                    "-",
                )
            )
            if n == 10000:
                rows.append(
                    (
                        "data sent to the browser for one 10,000-char layer (all frames of that rerun)",
                        f"{received / 1e6:.2f} MB",
                        f"<= {TARGETS['layer MB']} MB",
                    )
                )
            for how in ("button", "key"):
                rows.append(
                    (
                        f"cell switch ({'Next cell' if how == 'button' else 'j key'}) at {n:,} chars -> "
                        f"repainted (median of {a.repeats})",
                        f"{switches(page, how, a.repeats) * 1000:.1f} ms",
                        f"<= {TARGETS['switch'] * 1000:.0f} ms",
                    )
                )
            wait_idle(page)
        page.close()
        if a.sessions:
            run = drive(browser, url, a.sessions, 5, a.load_chars)
            rows.append(
                (
                    f"{a.sessions} sessions switching cells together, {a.load_chars:,} chars, p50 "
                    f"({len(run.latencies_ms)} switches)",
                    f"{run.percentile(50):.0f} ms",
                    "-",
                )
            )
            rows.append(
                (
                    f"{a.sessions} sessions switching cells together, {a.load_chars:,} chars, p95",
                    f"{run.percentile(95):.0f} ms",
                    f"<= {TARGETS['load p95'] * 1000:.0f} ms",
                )
            )
            if run.problems:
                rows.append(("problems seen under load", str(len(run.problems)), "0"))
        if a.compares:
            names, seconds = compare_seconds(browser, env, a.compares)
            rows.append(
                (
                    f"Compare kinds tab, paste 2,000 chars -> coloured under {len(names)} models "
                    f"({', '.join(names)}; median of {a.compares})",
                    f"{seconds:.2f} s",
                    f"<= {TARGETS['compare 2,000']} s",
                )
            )
    after = os.getloadavg()
    print(
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; after: {after[0]:.2f} {after[1]:.2f} "
        f"{after[2]:.2f} ({os.cpu_count()} CPUs); OMP_NUM_THREADS={a.threads or 'default'}"
    )
    width = max(len(name) for name, _, _ in rows)
    print(f"{'figure':<{width}}  {'measured':>10}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>10}  {target}")
    print(
        "\nwhere a warm page open's time went (fastest open; Chrome Performance.getMetrics are busy time in the"
        " page, frames are when they arrived after navigation):"
    )
    for name, value in breakdown.items():
        print(f"  {name:<28} {value:.3f}{'' if 'MB' in name else ' s'}")


if __name__ == "__main__":
    main()
