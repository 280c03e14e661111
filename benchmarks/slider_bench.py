"""The training slider's first move: from the move to the text shown in the untrained snapshot's colours.

    .venv/bin/python benchmarks/slider_bench.py [--models warpeace-lstm-2x128 warpeace-gru-2x128 warpeace-rnn-2x128]

Starts the app on a free loopback port and opens each model (layer 2, cell 50, its example text)
twice, each in a new session: the first time the server loads the model's snapshots, writes their
samples and runs them over the text; the second time it has them all, as for a class after the first
person. The slider's first move asks the server for them (`ui.widgets.controls.want_training`);
later moves never reach the server (tests/browser/test_snapshots.py). Prints the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.harness import SLIDE, TEXT_VIEW, app_server, chromium, wait_idle

MODELS = ["warpeace-lstm-2x128", "warpeace-gru-2x128", "warpeace-rnn-2x128"]


def first_move(browser, url: str, model: str) -> float:
    """Seconds from the slider's first move to the untrained snapshot's colours, in a new session."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/?model={model}&layer=2&cell=50")
        page.wait_for_selector(f'{TEXT_VIEW}[data-cell="50"]', state="attached", timeout=120_000)
        wait_idle(page)
        start = time.perf_counter()
        page.locator(f"{TEXT_VIEW} .training .snap").evaluate(SLIDE, 0)
        page.wait_for_selector(f'{TEXT_VIEW}[data-snapshot="0"]', state="attached", timeout=120_000)
        return time.perf_counter() - start
    finally:
        page.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=MODELS)
    a = ap.parse_args()
    with app_server() as url, chromium() as browser:
        for model in a.models:
            for when in ("first on this server", "again, new session"):
                seconds = first_move(browser, url, model)
                print(f"{model}, {when}: {seconds:.2f} s (load {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
