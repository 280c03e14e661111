"""Server memory with a class open: N sessions, each with its own 2,000-character text.

    .venv/bin/python benchmarks/memory_bench.py [--sessions 32] [--chars 2000] [--every 8] [--rounds 2]

Starts `streamlit run app.py` on a free loopback port and one Chromium; opens the sessions one
after another (a browser context each, kept open), each pasting a text of its own and waiting
until it is coloured; prints the server's resident memory (VmRSS, and the peak VmHWM) after
every --every sessions. Then, --rounds - 1 more times, every open session pastes another new
text: the caches (ui/backend/cache.py, each with max_entries) then hold only the latest texts, so the
memory must stop growing. Every page is checked for its own text at the end. The load average is
printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lstm_viz
from benchmarks.class_bench import shown_text
from benchmarks.service_bench import person_text
from tests.browser.harness import app_server, chromium, paste, server_pid, wait_idle, wait_view


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=32)
    ap.add_argument("--chars", type=int, default=2000)
    ap.add_argument("--every", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    rows = []
    with app_server(timeout=180) as url, chromium() as browser:
        pid = server_pid(url)
        rows.append(("server started", 0, *memory_mb(pid), os.getloadavg()[0]))
        pages, texts = [], []
        for i in range(a.sessions):
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(url + "/?layer=1&cell=0")
            wait_view(page, timeout=300_000)
            wait_idle(page, timeout=300_000)
            texts.append(person_text(a.chars, 2000 + i))
            paste(page, texts[-1])
            pages.append(page)
            if (i + 1) % a.every == 0 or i + 1 == a.sessions:
                rows.append((f"{i + 1} sessions open, one text each", i + 1, *memory_mb(pid), os.getloadavg()[0]))
        for r in range(1, a.rounds):
            for i, page in enumerate(pages):
                texts[i] = person_text(a.chars, 2000 + r * a.sessions + i)
                paste(page, texts[i])
            rows.append((f"every session pasted text {r + 1}", a.sessions, *memory_mb(pid), os.getloadavg()[0]))
        wrong = sum(shown_text(page) != lstm_viz.normalise(text) for page, text in zip(pages, texts))
    print(f"\n{a.sessions} sessions, {a.chars:,} characters each; {os.cpu_count()} CPUs")
    print("| after | sessions | server RSS | peak RSS | load (1 min) |")
    print("|---|---|---|---|---|")
    for what, n, rss, peak, load in rows:
        print(f"| {what} | {n} | {rss:.0f} MB | {peak:.0f} MB | {load:.1f} |")
    print(f"pages not showing their own text: {wrong}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
