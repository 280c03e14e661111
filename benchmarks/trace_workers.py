"""How a batch of traces uses the cores (`lstm_viz.core.batch.trace_batch`): on one thread, on torch's
OpenMP threads (which share each step's matrix product and meet at a barrier after it), or on
workers that never wait for one another within a step (layers pipelined, or groups of texts),
on the idle machine and with one core kept busy by another process (as the browsers or another
job keep it in a class on one machine).

    .venv/bin/python benchmarks/trace_workers.py [--texts 1 2 4 8 16] [--chars 2000] [--repeats 3]

The texts differ (service_bench.person_text); each figure is the best wall time of --repeats.
The service (`lstm_viz.serve.service`) picks OpenMP when no other thread wants a core as a batch
starts, and the workers otherwise. Every way's traces are checked against one thread's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lstm_viz
from benchmarks.service_bench import TOLERANCE, on_threads, person_text
from lstm_viz.core.batch import trace_batch


def best(fn, texts: list[str], repeats: int) -> tuple[float, list]:
    """The shortest of `repeats` wall times of fn(texts), and its last result."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn(texts)
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    ap.add_argument("--chars", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    model = lstm_viz.load("warpeace")
    n = a.cores
    ways = {
        "one thread": lambda texts: on_threads(1, trace_batch, model, texts),
        f"OpenMP, {n} threads": lambda texts: on_threads(n, trace_batch, model, texts),
        f"{n} workers": lambda texts: trace_batch(model, texts, n),
    }
    print(f"| texts of {a.chars:,} chars | machine | " + " | ".join(ways) + " | load (1 min) |")
    print("|---|---|" + "---|" * len(ways) + "---|")
    for machine in ("idle", "one core busy"):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if machine != "idle" else None
        try:
            for k in a.texts:
                texts = [person_text(a.chars, i) for i in range(k)]
                times, reference = [], None
                for name, way in ways.items():
                    seconds, traces = best(way, texts, a.repeats)
                    reference = reference or traces
                    worst = max(float(np.abs(t.cell - r.cell).max()) for t, r in zip(traces, reference))
                    assert worst <= TOLERANCE, f"{name}: tanh(c) {worst:.2e} from one thread's"
                    times.append(f"{seconds:.3f} s")
                print(f"| {k} | {machine} | " + " | ".join(times) + f" | {os.getloadavg()[0]:.1f} |", flush=True)
        finally:
            if busy is not None:
                busy.kill()


if __name__ == "__main__":
    main()
