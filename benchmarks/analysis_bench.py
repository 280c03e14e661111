"""How fast the n-gram trains and scores, and how fast each analysis runs on 10,000 characters.

    .venv/bin/python benchmarks/analysis_bench.py --corpus ../shared/corpora/warpeace_input.txt [--model warpeace]

Trains a 20-gram on the corpus' training split (pruned as the shipped one is), scores 10,000
held-out characters with it, traces them with the model (timed apart: the app caches the trace)
and times every analysis on that trace. Targets: training under 2 minutes on this 2-core
machine, scoring under 0.5 s, each analysis under 3 s. Prints best-of-N times and the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lstm_viz
from lstm_viz import analysis
from lstm_viz.paper import ngram
from lstm_viz.train.data import read_corpus, split_bounds


def best_of(n: int, f) -> tuple[float, object]:
    times, out = [], None
    for _ in range(n):
        start = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - start)
    return min(times), out


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True)
    p.add_argument("--model", default="warpeace")
    p.add_argument("--chars", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--skip-training", action="store_true", help="use the shipped n-gram instead of training one")
    a = p.parse_args()
    model = lstm_viz.load(a.model)
    text = read_corpus(a.corpus)
    bounds = split_bounds(len(text))
    print(f"{os.cpu_count()} CPUs, {load()}")
    if a.skip_training:
        ng = lstm_viz.load_ngram(a.model)
    else:
        min_count = model.card.get("ngram", {}).get("min_count", 3)
        train = text[slice(*bounds["train"])]
        seconds, ng = best_of(1, lambda: ngram.train(train, model.vocab, ngram.ORDER, min_count=min_count))
        print(
            f"n-gram training, order {ng.order}, min count {min_count}, {len(train):,} chars: {seconds:.1f} s "
            f"({ng.entries():,} n-grams; {load()})"
        )
    lo = bounds["test"][0]
    sample = text[lo : lo + a.chars]
    seconds, _ = best_of(a.repeats, lambda: ng.loss_per_char(sample))
    print(f"n-gram scoring of {len(sample):,} chars: {seconds * 1000:.0f} ms ({load()})")
    seconds, tr = best_of(1, lambda: model.trace(sample))
    print(f"trace of {len(sample):,} chars (cached by the app, not part of the analyses): {seconds:.2f} s")
    runs = {
        "gate_saturation, every layer": lambda: [analysis.gate_saturation(tr, layer) for layer in range(tr.shape[0])],
        "loss_difference (n-gram scoring included)": lambda: analysis.loss_difference(tr, ng),
        "error_breakdown (n-gram scoring included)": lambda: analysis.error_breakdown(tr, ng),
        "closing_distance (n-gram scoring included)": lambda: analysis.closing_distance(tr, ng),
    }
    for name, f in runs.items():
        seconds, _ = best_of(a.repeats, f)
        print(f"{name}: {seconds * 1000:.0f} ms")
    print(f"done; {load()}")


if __name__ == "__main__":
    main()
