"""Where one paste's server CPU goes: the server process's CPU seconds per paste of a
2,000-character text on a warm server, and a profile of every thread of it.

    .venv/bin/python benchmarks/paste_profile.py [--pastes 6] [--chars 2000] [--panel "All cells"] [--top 25]

Starts `streamlit run app.py` on a free loopback port and opens one Chromium page on it; pastes
once to warm it up (model, example, caches); then pastes --pastes different texts one after
another (each applied with Ctrl+Enter, waited for until the page shows it coloured and the
script is idle), with --panel the open tab. CPU: the server process's user + system seconds
(/proc) over those pastes, divided by their number. Profile: py-spy samples every thread of the
server during the same pastes (100 per second, native frames off); printed are the share of the
samples in each of the house's functions (inclusive: it or anything it calls), in Streamlit's
own work (the script thread's elements, the event loop's sending) and the top functions by self
time, leaving out samples of threads waiting on a lock, queue, socket or timer (py-spy counts a
thread as running while the OS has it runnable, so on a loaded machine these are shares of
time, not of CPU). Runs per paste come from the server's run log (ui/backend/runlog.py,
$LSTM_VIZ_RUN_LOG). --env NAME=VALUE (repeatable) sets the server's environment, e.g.
STREAMLIT_RUNNER_POST_SCRIPT_GC=false. The load average is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.class_bench import cpu_seconds, runs
from benchmarks.service_bench import person_text
from lstm_viz.train.loop import cpu_model
from tests.browser.harness import app_server, chromium, paste, server_pid, wait_idle, wait_view

HOUSE = ("lstm_viz/", "ui/", "app.py")


def open_panel(page, panel: str) -> None:
    page.get_by_role("tab", name=panel).click()
    wait_idle(page, timeout=300_000)


def stacks(raw: Path) -> Counter:
    """py-spy's raw (collapsed) output: stack (frames outermost first) -> samples."""
    out = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack:
            out[tuple(stack.split(";"))] += int(n)
    return out


def where(frame: str) -> tuple[str, str]:
    """(function, file) of a py-spy frame 'function (path/file.py:line)'."""
    name, _, rest = frame.partition(" (")
    return name, rest.rsplit(":", 1)[0]


def house_name(frame: str) -> str | None:
    """'ui/components/payload.py:layer_part' for a frame of the house's code, else None."""
    name, path = where(frame)
    for root in HOUSE:
        at = path.find(root)
        if at >= 0 and "site-packages" not in path:
            return f"{path[at:]}:{name}"
    return None


def idle(frame: str) -> bool:
    """A thread waiting (on a lock, a queue, a socket or a timer), which py-spy may count as active.
    (Streamlit's poller of its config files sleeps in its `task`: time.sleep is a builtin, and
    without native frames py-spy charges a builtin to the Python function that called it.)"""
    name = where(frame)[0]
    short = name.rsplit(".", 1)[-1]
    return short.endswith(("wait", "select", "sleep")) or short in ("_worker", "get") or "PollingPathWatcher" in name


def report(samples: Counter, top: int) -> None:
    samples = Counter({stack: n for stack, n in samples.items() if not idle(stack[-1])})
    total = sum(samples.values())
    inclusive, self_time, threads = Counter(), Counter(), Counter()
    for stack, n in samples.items():
        threads[stack[0].split(": ", 1)[-1]] += n  # by name: each script run has a thread of its own
        seen = set()
        for frame in stack[1:]:
            name = house_name(frame)
            if name and name not in seen:
                seen.add(name)
                inclusive[name] += n
        name, path = where(stack[-1])
        self_time[f"{name} ({Path(path).name})"] += n
    print(f"\n{total} samples of running threads (waits left out), {total / 100:.1f} s at 100 per second")
    print("\nby thread:")
    for thread, n in threads.most_common(8):
        print(f"  {100 * n / total:5.1f}%  {thread}")
    print("\nthe house's functions, inclusive (it and what it calls):")
    for name, n in inclusive.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\nself time:")
    for name, n in self_time.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pastes", type=int, default=6)
    ap.add_argument("--chars", type=int, default=2000)
    ap.add_argument("--panel", default=None, help="open this tab before pasting (default: the page's own)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--no-profile", action="store_true", help="CPU per paste only")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server's environment")
    a = ap.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    tmp = tempfile.TemporaryDirectory()
    log = Path(tmp.name) / "runs.jsonl"
    env = {"LSTM_VIZ_RUN_LOG": str(log), **dict(e.split("=", 1) for e in a.env)}
    server = app_server(timeout=180, env=env)
    with tmp, server as url, chromium() as browser:
        pid = server_pid(url)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(url + "/?layer=1&cell=0")
        wait_view(page, timeout=300_000)
        wait_idle(page, timeout=300_000)
        if a.panel:
            open_panel(page, a.panel)
        paste(page, person_text(a.chars, 900))  # warm-up
        texts = [person_text(a.chars, 910 + i) for i in range(a.pastes)]
        raw = Path(tmp.name) / "profile.txt"
        spying = None
        if not a.no_profile:
            spying = subprocess.Popen(
                [spy, "record", "-p", str(pid), "-o", str(raw), "-f", "raw", "-r", "100", "--threads"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)  # py-spy attaches
        load, cpu, wall, before = os.getloadavg(), cpu_seconds(pid), time.perf_counter(), len(runs(log))
        for text in texts:
            paste(page, text)
        cpu, wall, ran = cpu_seconds(pid) - cpu, time.perf_counter() - wall, runs(log)[before:]
        if spying is not None:
            spying.send_signal(2)  # SIGINT: py-spy writes its file
            spying.wait(60)
        print(
            f"{a.pastes} pastes of {a.chars:,} characters, tab {a.panel or 'as opened'}: server CPU "
            f"{cpu:.2f} s, {cpu / a.pastes:.3f} s per paste; wall {wall / a.pastes:.2f} s per paste; "
            f"{len(ran) / a.pastes:.1f} script runs per paste "
            f"({sum(r['end'] - r['start'] for r in ran) / a.pastes:.2f} s); "
            f"env {a.env or 'as is'}; "
            f"load {load[0]:.1f} -> {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs ({cpu_model()})"
        )
        if spying is not None and raw.exists():
            report(stacks(raw), a.top)


if __name__ == "__main__":
    main()
