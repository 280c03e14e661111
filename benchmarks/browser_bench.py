"""How fast the app feels in a real browser: page ready, paste -> colours, cell switch -> colours.

    .venv/bin/python benchmarks/browser_bench.py [--repeats 5] [--sizes 2000 10000]

Starts `streamlit run app.py` on a free loopback port, drives Debian's Chromium with
Playwright and prints wall-clock times as the visitor sees them. Each figure ends when the
coloured text reports (through its data-* attributes) that it has painted the new state; a
cell switch is timed inside the page, from the button's click to the next frame after the
repaint, so Playwright's own overhead is left out.
Targets: coloured text under 1.5 s after pasting 2,000 characters; a cell switch under 0.3 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.harness import TEXT_LABEL, app_server, chromium, wait_idle, wait_view  # noqa: E402
from ui.examples import EXAMPLES  # noqa: E402
from ui.payload import text_key  # noqa: E402


def bench_text(n: int, seed: int) -> str:
    """n characters of the example texts, starting at a different place for each seed."""
    source = "".join(e.text for e in EXAMPLES.values())
    start = (seed * 997) % len(source)
    return ((source[start:] + source) * (n // len(source) + 2))[:n]


# Clicks "Next cell" from inside the page and resolves, in ms, once the coloured text has
# painted the new cell: its data-cell attribute changes at the end of its repaint, and the
# next animation frame after that is when the browser shows it.
SWITCH_JS = """() => new Promise((resolve) => {
  const host = [...document.querySelectorAll("[data-testid=stBidiComponentIsolated]")]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector(".lv"));
  const root = host.shadowRoot.querySelector(".lv");
  const want = String(Number(root.dataset.cell) + 1);
  const button = [...document.querySelectorAll("button")].find((b) => b.innerText.trim() === "Next cell");
  const observer = new MutationObserver(() => {
    if (root.dataset.cell !== want) return;
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start), 0));
  });
  observer.observe(root, { attributes: true, attributeFilter: ["data-cell"] });
  const start = performance.now();
  button.click();
})"""


def paste(page, text: str) -> float:
    """Seconds from applying a pasted text (Ctrl+Enter) until it is shown coloured."""
    box = page.get_by_label(TEXT_LABEL)
    box.fill(text)
    t = time.perf_counter()
    box.press("Control+Enter")
    wait_view(page, key=text_key("warpeace", text))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="cell switches per text size")
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--threads", type=int, default=None,
                    help="OMP_NUM_THREADS for the app (default: torch's own choice); 1 helps on a busy machine")
    a = ap.parse_args()

    rows = []
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    env = {"OMP_NUM_THREADS": str(a.threads)} if a.threads else None
    with app_server(env=env) as url, chromium() as browser:
        up = time.perf_counter() - t0
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t1 = time.perf_counter()
        page.goto(url)
        wait_view(page)
        shown = time.perf_counter()
        rows.append(("server start -> health check answers", up))
        rows.append(("open page -> coloured example shown", shown - t1))
        rows.append(("page ready after start (both)", shown - t0))
        wait_idle(page)
        for i, n in enumerate(a.sizes):
            text = bench_text(n, i)
            rows.append((f"paste {n:,} chars -> coloured text shown", paste(page, text)))
            wait_idle(page)
            switches, reruns = [], []
            for _ in range(a.repeats):
                t = time.perf_counter()
                switches.append(page.evaluate(SWITCH_JS) / 1000)
                wait_idle(page)
                reruns.append(time.perf_counter() - t)
            rows.append((f"switch cell at {n:,} chars -> colours updated (median of {a.repeats})",
                         statistics.median(switches)))
            rows.append((f"switch cell at {n:,} chars -> whole page redrawn (median of {a.repeats})",
                         statistics.median(reruns)))
    print(f"load average before: {load:.1f}, after: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs); "
          f"OMP_NUM_THREADS={a.threads or 'default'}")
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:6.3f} s")


if __name__ == "__main__":
    main()
