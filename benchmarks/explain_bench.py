"""Issue 19's targets for `lstm_viz.explain`, printed (never asserted on time).

    python benchmarks/explain_bench.py --corpora ../shared/corpora         # the shipped tables' targets
    python benchmarks/explain_bench.py --corpora ../shared/corpora --time  # + all cells, 200,000 chars, 1 and 2 procs

From the shipped `pretrained/NAME/explain.json` (built by `python -m lstm_viz explain`): War and
Peace cell 2:429 (layer 1 counted from 0) and its label; the best line-position cell; on Linux
the best bracket or parenthesis depth label; the median score per layer beside the 9-hypothesis
atlas; the causal check of the 50 best-explained cells. With --time: `python -m lstm_viz explain
--max-chars 200000` on War and Peace with 1 and then 2 processes (torchrun), the seconds of its
statistics pass (family, traces, sums, scores) and the load average with each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from lstm_viz import atlas, cellpage

ATLAS_MEDIAN = {"warpeace": 0.124, "linux": 0.119}  # today's 9-hypothesis atlases (README)


def targets(name: str) -> None:
    record = cellpage.load(name)
    if record is None:
        print(f"{name}: no explain.json; run python -m lstm_viz explain --model {name} --corpus ...")
        return
    table = cellpage.table(record)
    c = record["corpus"]
    print(
        f"\n{name}: {record['chars']:,} chars of {c['name']} {c['split']} split, {len(record['family'])} hypotheses, "
        f"built with {record['processes']} process(es) in {record['seconds']['statistics']} s (statistics)"
    )
    held = atlas.load_atlas(name)
    for row in record["coverage"]:
        layer = row["layer"]
        old = (
            [e["explanation"]["score"] for e in held["cells"] if e["layer"] == layer and e["explanation"]]
            if held
            else []
        )
        every = table[table.layer == layer].score.fillna(0).median()
        atlas_median = np.median(old) if old else float("nan")
        print(
            f"  layer {layer + 1}: {row['constant']} constant cells; >= 0.5 {row['>=0.5']:.1%}  >= 0.7 "
            f"{row['>=0.7']:.1%}  >= 0.9 {row['>=0.9']:.1%}  median {row['median']:.3f} of the cells that vary, "
            f"{every:.3f} of all (constant as 0)  (atlas, 9 hypotheses: median {atlas_median:.3f})"
        )
    if name == "warpeace":
        e = cellpage.entry(record, 1, 429)
        print(
            f"  target 2:429 labelled inside double quotes, score >= 0.95: {e['label']!r} {e['score']:.3f} "
            f"(runner-up {e['runner_up']!r} {e['runner_up_score']:.3f})"
        )
        line = table[table.key.str.contains("since:\n", regex=False) | (table.key == "line_position")]
        if len(line):
            r = line.iloc[0]
            print(f"  target line position >= 0.85: {r.layer + 1}:{r.cell} {r.label!r} {r.score:.3f}")
    if name == "linux":
        depth = table[table.label.str.contains("depth") & table.label.str.contains(r"[(\[{]")]
        if len(depth):
            r = depth.iloc[0]
            print(f"  target bracket/parenthesis depth >= 0.7: {r.layer + 1}:{r.cell} {r.label!r} {r.score:.3f}")
    checked = table.dropna(subset=["change_low"])
    moved = (np.maximum(checked.change_low.abs(), checked.change_high.abs()) >= 0.1).mean() if len(checked) else 0
    print(
        f"  causal check, {len(checked)} best-explained cells: {moved:.0%} move log p of their characters by >= 0.1 "
        f"nats when clamped low or high; median |change| low {checked.change_low.abs().median():.3f}, "
        f"high {checked.change_high.abs().median():.3f}"
    )
    for r in checked.head(8).itertuples():
        print(
            f"    {r.layer + 1}:{r.cell} {r.score:.3f} {r.label!r}: low {r.change_low:+.3f}, high {r.change_high:+.3f}"
        )


def timed(corpus: Path, processes: int, threads: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            "-m",
            "lstm_viz",
            "explain",
            "--model",
            "warpeace",
            "--corpus",
            str(corpus),
            "--max-chars",
            "200000",
            "--out",
            out,
            "--quiet",
        ]
        if processes > 1:
            cmd = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)] + cmd
        load = os.getloadavg()[0]
        subprocess.run([sys.executable] + cmd, check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        record = json.loads((Path(out) / cellpage.FILE).read_text())
    print(
        f"all {record['layers'] * record['cells_per_layer']} cells over {record['chars']:,} chars, {processes} "
        f"process(es) of {threads} thread(s): {record['seconds']['statistics']} s statistics pass "
        f"({record['seconds']['statistics_cpu']} CPU s in process 0; {record['seconds']['total']} s with "
        f"the causal check); load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--corpora", type=Path, required=True, help="folder with warpeace_input.txt")
    p.add_argument("--time", action="store_true")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per process (on a loaded machine more "
        "than one thread per process spins waiting for the other)",
    )
    a = p.parse_args()
    for name in ("warpeace", "linux"):
        targets(name)
    if a.time:
        for processes in (1, 2):
            timed(a.corpora / "warpeace_input.txt", processes, a.threads)


if __name__ == "__main__":
    main()
