"""How fast the causal tools run on a shipped 2 x 512 model, next to a plain trace.

    .venv/bin/python benchmarks/intervene_bench.py [--model warpeace] [--chars 2000] [--repeats 5]
        [--corpus ../shared/corpora/warpeace_input.txt] [--skip-ablation | --only-ablation] [--exact-ranking]

Times (best of --repeats, interleaved): a plain `model.trace`; an intervened re-trace (a clamp
of one layer-2 cell, then of one layer-1 cell, over the whole text), from scratch and reusing
the plain trace's lower layers; a scale by 0.5 (the one edit stepped by hand); the
step-by-step reference loop. Then one ablation ranking of
every cell (bfloat16 recurrent matmuls) with the closers of the text as target, and the exact
float32 deltas of its top 3 and 3 random cells from one intervened trace each, to show the
ranking's error; with --exact-ranking also the float32 ranking of every cell and the overlap of
the two top 20s. Every figure is printed with the CPU's model name and the load average.
Targets: re-trace <= 1.5x a plain trace; ranking <= 30 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lstm_viz
from lstm_viz.causal.ablation import closing_positions
from lstm_viz.core import reference
from lstm_viz.train.data import held_out
from lstm_viz.train.loop import cpu_model


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(job):
    """(wall seconds, CPU seconds of this process, result): CPU time well below wall time x threads
    means the process waited for cores other jobs held."""
    start, cpu = time.perf_counter(), time.process_time()
    result = job()
    return time.perf_counter() - start, time.process_time() - cpu, result


def best_of(repeats: int, jobs: dict) -> dict:
    """name -> best seconds, running the jobs interleaved so that load hits them alike."""
    best = {name: float("inf") for name in jobs}
    for _ in range(repeats):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="warpeace")
    ap.add_argument(
        "--corpus", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpora" / "warpeace_input.txt")
    )
    ap.add_argument("--chars", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-ablation", action="store_true")
    ap.add_argument("--only-ablation", action="store_true", help="skip the trace timings")
    ap.add_argument("--exact-ranking", action="store_true", help="also rank in float32 and compare the top 20s")
    ap.add_argument(
        "--threads",
        type=int,
        help="torch threads (default: torch's own choice); on a machine "
        "busier than its cores, 1 thread avoids OpenMP's waits for a descheduled partner",
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = lstm_viz.load(args.model)
    text, _, warm = held_out(args.corpus, 20 * args.chars)
    text = text[warm : warm + args.chars]
    print(
        f"{args.model}, {len(text):,} held-out characters, {torch.get_num_threads()} torch threads, "
        f"{cpu_model()}, {os.cpu_count()} cores; load average before: {load_average()}"
    )
    plain = model.trace(text)
    if not args.only_ablation:
        trace_timings(model, text, plain, args.repeats)
    if not args.skip_ablation:
        ablation(model, text, plain, args.exact_ranking)


def trace_timings(model, text, plain, repeats: int) -> None:
    top, low, half = lstm_viz.Clamp(1, 429, -2.0), lstm_viz.Clamp(0, 31, -1.0), lstm_viz.Scale(1, 429, 0.5)
    times = best_of(
        repeats,
        {
            "plain trace": lambda: model.trace(text),
            "clamp layer 2, from scratch": lambda: model.trace(text, interventions=[top]),
            "clamp layer 2, reusing layer 1": lambda: model.trace(text, interventions=[top], base=plain),
            "clamp layer 1": lambda: model.trace(text, interventions=[low]),
            "scale layer 2 by 0.5 (stepped by hand), reusing layer 1": lambda: model.trace(
                text, interventions=[half], base=plain
            ),
        },
    )
    times.update(best_of(1, {"step-by-step reference loop": lambda: reference.run(model, text)}))
    print("| | seconds | / plain trace |\n|---|---|---|")
    for name, secs in times.items():
        print(f"| {name} | {secs:.3f} | {secs / times['plain trace']:.2f}x |")
    print(f"(best of {repeats}, interleaved; reference once); load average after: {load_average()}")


def ablation(model, text, plain, exact_ranking: bool) -> None:
    positions = closing_positions(text)
    print(
        f"\nablation ranking, {len(positions)} closers as target (the last at {positions.max()}); "
        f"load average before: {load_average()}"
    )
    wall, cpu, table = timed(lambda: lstm_viz.ablation_ranking(model, text, batch=512))
    print(f"all {len(table):,} cells, bfloat16: {wall:.1f} s ({cpu:.1f} s CPU); load average after: {load_average()}")
    if exact_ranking:
        wall, cpu, exact = timed(lambda: lstm_viz.ablation_ranking(model, text, precision="float32", batch=512))
        print(
            f"all {len(exact):,} cells, float32: {wall:.1f} s ({cpu:.1f} s CPU); load average after: {load_average()}"
        )
        top = lambda t: set(zip(t.layer[:20], t.cell[:20]))  # noqa: E731
        diff = (table.set_index(["layer", "cell"]).delta - exact.set_index(["layer", "cell"]).delta).abs()
        print(
            f"top 20 shared by the bfloat16 and float32 rankings: {len(top(table) & top(exact))}; "
            f"largest delta difference over all cells: {diff.max():.4f} nats"
        )
    rng = np.random.default_rng(0)
    rows = table.head(3).index.tolist() + rng.choice(np.arange(3, len(table)), 3, replace=False).tolist()
    score = lambda tr: float(np.mean(tr.log_probs[positions - 1, tr.ids[positions]]))  # noqa: E731
    print("| rank | layer:cell | bfloat16 delta | exact delta |\n|---|---|---|---|")
    for row in table.loc[rows].itertuples():
        truth = score(model.trace(text, interventions=[lstm_viz.Scale(row.layer, row.cell, 0.0)], base=plain)) - score(
            plain
        )
        print(f"| {row.rank} | {row.layer + 1}:{row.cell} | {row.delta:+.4f} | {truth:+.4f} |")


if __name__ == "__main__":
    main()
