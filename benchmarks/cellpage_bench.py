"""How long a cell page takes to open on a warm server, in a real browser (target: <= 1 s).

    .venv/bin/python benchmarks/cellpage_bench.py [--cells 12] [--seed 0]

Starts `streamlit run app.py` on a free loopback port and drives Debian's Chromium with
Playwright (tests/browser/harness.py). Warms the server first (each shipped model, its weights
and explain.json loaded by one page open). Then, for random cells of both models:

- "by address": a new tab's navigation to Cell?model=NAME&cell=L:C (a full page load and a new
  session, as when a link is opened in a new tab of a browser that has the app open: its cache
  holds the app's scripts), until the page is drawn;
- "by link": a click on a related cell's link on a cell page (navigation inside the app).

A page counts as drawn when its heading names the cell, the script has finished its run and
the histogram is on the page. Wall-clock seconds from the navigation or click, measured
from Python; the load average is printed beside them (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_viz.find import cellpage
from tests.browser.harness import READY, app_server, chromium
from ui.session import cell_link

DRAWN = "[title^='tanh(c)']"  # a bar of the histogram
TARGET = 1.0  # seconds


def drawn(page, layer: int, cell: int, timeout: float = 120_000) -> None:
    page.get_by_role("heading", name=f"Layer {layer + 1}, cell {cell}", exact=True).wait_for(timeout=timeout)
    page.wait_for_selector(READY, state="attached", timeout=timeout)
    page.wait_for_selector(DRAWN, state="attached", timeout=timeout)
    if page.locator("[data-testid=stException]").count():
        raise AssertionError("the page raised: " + page.locator("[data-testid=stException]").first.inner_text())


def by_address(context, url: str, name: str, layer: int, cell: int) -> float:
    """Seconds from a new tab's navigation to the cell's address until its page is drawn."""
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(f"{url}/{cell_link.url(name, layer, cell)}")
        drawn(page, layer, cell)
        return time.perf_counter() - start
    finally:
        page.close()


def by_link(page, record: dict, layer: int, cell: int) -> tuple[float, int, int]:
    """Seconds from a click on the first related cell's link until its page is drawn; that cell."""
    other_layer, other, r = cellpage.entry(record, layer, cell)["related"][0]
    link = page.locator("[data-testid=stPageLink] a", has_text=f"{other_layer + 1}:{other} \u00b7 r {r:+.2f}")
    start = time.perf_counter()
    link.first.click()
    drawn(page, other_layer, other)
    return time.perf_counter() - start, other_layer, other


def summary(name: str, seconds: list[float]) -> str:
    s = sorted(seconds)
    return (
        f"{name:12} n={len(s):3}  median {statistics.median(s):.2f} s  "
        f"p90 {s[min(len(s) - 1, int(0.9 * len(s)))]:.2f} s  min {s[0]:.2f}  max {s[-1]:.2f}  "
        f"(<= {TARGET:.0f} s: {sum(v <= TARGET for v in s)}/{len(s)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=12, help="cells per model and way of opening")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    records = {name: cellpage.load(name) for name in ("warpeace", "linux")}
    loads = [os.getloadavg()[0]]
    with app_server(timeout=120) as url, chromium() as browser:
        tabs = browser.new_context(viewport={"width": 1400, "height": 1600})
        warm = {name: by_address(tabs, url, name, 0, 0) for name in records}  # loads weights and explain.json
        print(f"warm-up opens (cold server): {', '.join(f'{n} {s:.2f} s' for n, s in warm.items())}")
        address, link = [], []
        for name, record in records.items():
            H = record["cells_per_layer"]
            cells = [(rng.randrange(record["layers"]), rng.randrange(H)) for _ in range(a.cells)]
            for layer, cell in cells:
                address.append(by_address(tabs, url, name, layer, cell))
                loads.append(os.getloadavg()[0])
            context = browser.new_context(viewport={"width": 1400, "height": 1600})
            page = context.new_page()
            layer, cell = cells[0]
            page.goto(f"{url}/{cell_link.url(name, layer, cell)}")
            drawn(page, layer, cell)
            for _ in range(a.cells):
                seconds, layer, cell = by_link(page, record, layer, cell)
                link.append(seconds)
                loads.append(os.getloadavg()[0])
            context.close()
    print(
        f"cell pages of warpeace and linux on a warm server, {a.cells} cells each; load average "
        f"{min(loads):.1f}-{max(loads):.1f} (1 min) on {os.cpu_count()} CPUs"
    )
    print(summary("by address", address))
    print(summary("by link", link))


if __name__ == "__main__":
    main()
