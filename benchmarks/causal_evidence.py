"""Evidence that the finder's cells are causes: clamp them and watch the predictions they explain.

    .venv/bin/python benchmarks/causal_evidence.py [--corpora ../shared/corpora] [--chars 2000]

On held-out text (the test split, `lstm_viz.train.data.held_out`) of each shipped model, the passage
of `--chars` characters with the most closers (closing quotes for War and Peace, closing braces
for Linux) is traced; the finder's best cell for the hypothesis (quotes, bracket_depth) is
clamped over the whole passage to its "outside" value (its mean raw c_t where the hypothesis is
off: outside quotes, at bracket depth 0), and the mean log p of the closers at the positions
where they close is compared with the plain run. Three random cells of the same model, each
clamped to its own outside value, are the control. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lstm_viz
from lstm_viz.causal.ablation import closing_positions
from lstm_viz.core import features
from lstm_viz.find.finder import find_cells
from lstm_viz.train.data import held_out

CASES = (  # model, corpus file, hypothesis, closers scored, "outside": where the hypothesis is off
    ("warpeace", "warpeace_input.txt", "quotes", '"', lambda values: values == 0),
    ("linux", "linux_kernel_input.txt", "bracket_depth", "}", lambda values: values == 0),
)


def passage(text: str, closers: str, chars: int, stride: int = 250) -> tuple[str, np.ndarray]:
    """The window of `chars` characters with the most closers in `closers`, and their positions in it."""
    best, best_count = 0, -1
    for start in range(0, max(1, len(text) - chars), stride):
        piece = text[start : start + chars]
        count = sum(piece[j] in closers for j in closing_positions(piece))
        if count > best_count:
            best, best_count = start, count
    piece = text[best : best + chars]
    return piece, np.array([j for j in closing_positions(piece) if piece[j] in closers])


def mean_log_p(trace, positions: np.ndarray) -> float:
    return float(np.mean(trace.log_probs[positions - 1, trace.ids[positions]]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpora"))
    ap.add_argument("--chars", type=int, default=2000, help="length of the passage")
    ap.add_argument("--search", type=int, default=100_000, help="held-out characters searched for the passage")
    ap.add_argument("--seed", type=int, default=0, help="picks the random control cells")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        "| model | cell (layer:cell, from 1) | role | clamped to (raw c) | closers scored | "
        "mean log p plain | clamped | change (nats) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, corpus, hypothesis, closers, outside in CASES:
        model = lstm_viz.load(name)
        text, _, warm = held_out(Path(args.corpora) / corpus, args.search)
        piece, positions = passage(text[warm:], closers, args.chars)
        plain = model.trace(piece)
        where_off = outside(features.compute(hypothesis, piece))
        best = find_cells(plain, hypothesis, top=1).iloc[0]
        L, H = model.config.layers, model.config.hidden
        cells = [("finder's best", int(best["layer"]), int(best["cell"]))]
        cells += [("random control", int(k // H), int(k % H)) for k in rng.choice(L * H, 3, replace=False)]
        base = mean_log_p(plain, positions)
        for role, layer, cell in cells:
            value = float(plain.raw_cells(layer)[where_off, cell].mean())
            clamped = model.trace(piece, interventions=[lstm_viz.Clamp(layer, cell, value)], base=plain)
            after = mean_log_p(clamped, positions)
            print(
                f"| {name} | {layer + 1}:{cell} | {role} | {value:+.3f} | {len(positions)} `{closers}` | "
                f"{base:.3f} | {after:.3f} | **{after - base:+.3f}** |"
            )
    print(
        f"\n{args.chars}-character passages of the held-out test split; load average "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
