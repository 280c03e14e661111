"""Code models side by side: loss on a corpus's whole test split, loss on C code from
outside the training tree, and each model's best cells for the code hypotheses on that outside code.

    .venv/bin/python benchmarks/code_model.py --models pretrained/linux NEW_DIR \
        --corpus ../shared/corpora/linux_large_input.txt.xz --outside lua-5.4.4.c.txt

`--outside` is a text file of C sources (e.g. a Debian package's `src/*.c *.h` concatenated in
sorted order); its name and sha256 are printed so the figure can be reproduced. Best cells are the
finder's (`lstm_viz.find.finder.find_cells`, Pearson r of tanh(c) with the hypothesis) on the first
`--cells-chars` characters of the outside code.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_viz.find.finder import find_cells, trace_activations
from lstm_viz.io import checkpoint
from lstm_viz.train.data import read_corpus, split_bounds
from lstm_viz.train.evaluate import evaluate
from lstm_viz.train.loop import cpu_model

HYPOTHESES = ("bracket_depth", "paren_depth", "if_condition", "comment")


def loss(model, text: str) -> float:
    """Nats per character of `text` under `model`."""
    return evaluate(model, torch.as_tensor(model.vocab.encode(text)))


def best_cells(model, text: str) -> dict[str, str]:
    """Hypothesis -> `layer:cell (statistic score)` of the model's best cell on `text` (layers from 1,
    as in the app; depths are scored by |Pearson r|, spans by AUC)."""
    acts = trace_activations(model, text)
    best = {}
    for name in HYPOTHESES:
        row = find_cells(acts, name, top=1).iloc[0]
        sign = "-" if row["sign"] < 0 else ""
        best[name] = f"{int(row['layer']) + 1}:{int(row['cell'])} ({sign}{row['statistic']} {row['score']:.3f})"
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", required=True, help="model folders or shipped names")
    ap.add_argument("--corpus", required=True, help="the corpus whose test split is scored")
    ap.add_argument("--outside", required=True, help="C sources from outside the corpus, one text file")
    ap.add_argument("--cells-chars", type=int, default=200_000, help="outside characters the cell search reads")
    ap.add_argument("--test-chars", type=int, default=0, help="score only the first N test characters (0: all)")
    a = ap.parse_args()

    print(f"# {cpu_model()}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f} at start")
    text = read_corpus(a.corpus)
    lo, hi = split_bounds(len(text))["test"]
    test = text[lo:hi] if a.test_chars <= 0 else text[lo : min(hi, lo + a.test_chars)]
    outside = read_corpus(a.outside)
    digest = hashlib.sha256(Path(a.outside).read_bytes()).hexdigest()
    print(
        f"# test split of {Path(a.corpus).name}: {len(test):,} chars; outside C {Path(a.outside).name}: "
        f"{len(outside):,} chars, sha256 {digest}"
    )
    header = ["model", "test nats/char", "outside C nats/char", *HYPOTHESES]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in a.models:
        start = time.perf_counter()
        model = checkpoint.load(name)
        cells = best_cells(model, outside[: a.cells_chars])
        row = [name, f"{loss(model, test):.4f}", f"{loss(model, outside):.4f}"]
        row += list(cells.values())
        print(
            "| " + " | ".join(row) + f" |  <!-- {time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.1f} -->"
        )


if __name__ == "__main__":
    main()
