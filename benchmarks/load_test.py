"""The load test, longer: N browser sessions at once, each with its own text, step through cells.

    .venv/bin/python benchmarks/load_test.py [--sessions 8] [--switches 30] [--chars 2000] [--threads 1]

Starts `streamlit run app.py` on a free loopback port and drives one Debian Chromium with one
context per session (tests/browser/test_load.py's driver). Prints the latency of a cell switch
(click -> coloured text repainted, timed inside each page) under that load, the server's
memory before and after, and every problem seen (wrong text or colours, errors, dialogs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.harness import app_server, chromium
from tests.browser.test_load import drive, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--switches", type=int, default=30, help="cell switches in every session")
    ap.add_argument("--chars", type=int, default=2000, help="characters of each session's text")
    ap.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for the app")
    a = ap.parse_args()
    env = {"OMP_NUM_THREADS": str(a.threads)} if a.threads else None
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with app_server(env=env) as url, chromium() as browser:
        run = drive(browser, url, a.sessions, a.switches, a.chars)
    print(
        f"load average before: {load:.1f}, after: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs); "
        f"{a.sessions} sessions x {a.switches} switches on {a.chars:,} characters in {time.perf_counter() - t0:.0f} s"
    )
    print(report(run, a.sessions))
    print(f"problems: {len(run.problems)}")
    for problem in run.problems:
        print("  " + problem)
    sys.exit(1 if run.problems else 0)


if __name__ == "__main__":
    main()
