"""How fast cells are ranked: every hypothesis against every cell of a 2 x 512 model.

    .venv/bin/python benchmarks/finder_bench.py [--chars 100000] [--repeats 3]
    .venv/bin/python benchmarks/finder_bench.py --model warpeace --corpus ../shared/corpora/warpeace_input.txt
    .venv/bin/python benchmarks/finder_bench.py --model linux --text-file PATH

By default the activations are synthetic (random walks squashed by tanh, about a fifth of them
saturated at +-1 so that ties occur as in real cells) over a synthetic text that mixes C and
prose, and the output says so. With --model the real model's trace is ranked instead: of
--text-file, or of the held-out test split of --corpus, or of the synthetic text; the trace's
own time is printed apart. Every run prints the CPU's model name and the load average.
Target: 100,000 characters x 1,024 cells x all hypotheses in a few seconds on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_viz import load
from lstm_viz.core import features
from lstm_viz.find.finder import Activations, find_cells, score_all, trace_activations
from lstm_viz.train.data import held_out
from lstm_viz.train.loop import cpu_model

CODE = 'static int f(struct s *p)\n{\n\tif (p->n > (m + 1)) {\n\t\tg(p, "x");\n\t}\n\treturn 0; /* done */\n}\n'
PROSE = '"Well, Prince," said she, "so Genoa and Lucca are now\njust family estates." He smiled.\n\n'


def synthetic_text(n: int) -> str:
    return ((CODE + PROSE) * (n // len(CODE + PROSE) + 1))[:n]


def synthetic_activations(text: str, layers: int = 2, hidden: int = 512, seed: int = 0) -> Activations:
    rng = np.random.default_rng(seed)
    values = np.empty((layers, len(text), hidden), dtype=np.float32)  # (L, T, H)
    for layer in range(layers):
        walk = np.cumsum(rng.normal(0, 0.1, (len(text), hidden)).astype(np.float32), axis=0)
        walk[:, : hidden // 5] *= 20  # saturated cells: many values exactly +-1
        values[layer] = np.clip(np.tanh(walk), -1, 1)
    return Activations(text, values)


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def best_of(fn, repeats: int) -> tuple[str, object]:
    """("wall s (CPU s)" of the fastest of `repeats` runs, the result): CPU time beyond wall time
    shows the cores at work; wall time well beyond CPU / cores shows other jobs on the machine."""
    times, result = [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    wall, cpu = min(times)
    return f"{wall:.2f} s ({cpu:.2f} s CPU)", result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chars", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--model", default=None, help="rank this model's trace instead of synthetic activations")
    p.add_argument("--text-file", default=None, help="the text (default: synthetic C and prose)")
    p.add_argument("--corpus", default=None, help="take the text from this corpus's held-out test split")
    a = p.parse_args()
    if a.text_file:
        text, source = Path(a.text_file).read_text(errors="replace")[: a.chars], a.text_file
    elif a.corpus:
        whole, _, warm = held_out(a.corpus, a.chars)
        text, source = whole[warm:], f"the held-out test split of {a.corpus}"
    else:
        text, source = synthetic_text(a.chars), "synthetic C and prose"
    print(f"{cpu_model()}, {os.cpu_count()} cores; load average before: {load_average()}")
    if a.model:
        t0 = time.perf_counter()
        acts = trace_activations(load(a.model), text)
        print(f"activations: {a.model}'s trace of {source} (trace: {time.perf_counter() - t0:.2f} s)")
    else:
        acts = synthetic_activations(text)
        print(f"activations: SYNTHETIC (tanh of random walks, a fifth saturated), not a model's; text: {source}")
    L, T, H = acts.shape
    print(f"{T:,} characters x {L} x {H} cells")
    seconds, feats = best_of(lambda: features.compute_all(acts.text), a.repeats)
    print(f"all {len(feats)} hypotheses computed from the text: {seconds}")
    seconds, scores = best_of(lambda: score_all(acts, feats), a.repeats)
    print(f"every cell ranked against all {len(feats)} hypotheses: {seconds}")
    for name in ("quotes", "bracket_depth"):
        seconds, table = best_of(lambda name=name: find_cells(acts, name, top=5), a.repeats)
        print(f"find_cells {name}: {seconds} (best cell {table.layer[0]}:{table.cell[0]}, match {table.match[0]:.3f})")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
