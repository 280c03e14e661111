"""The targets for `lstm_viz.explain`, printed (never asserted on time).

    .venv/bin/python benchmarks/explain_bench.py                          # tables, targets, cell page
    .venv/bin/python benchmarks/explain_bench.py --time --page-threads 1  # + trace_batch, all cells, 1 and 2 processes

From the shipped `pretrained/NAME/explain.json` (built by `python -m lstm_viz explain`): coverage
per layer (median over every cell and over the cells that vary); War and Peace cell 2:429 (layer
1 counted from 0) and its label; the best line-position cell; on Linux the best bracket or
parenthesis depth label; the causal check of the 50 best-explained cells. Then the cell page on
a warm server (model and table loaded once): the seconds of `entry + writes + drivers` per cell, and of `steer` (3 x 200
characters). With --time: the CPU time per character of `model.trace_batch` for batches of 1 to
16 texts, and `python -m lstm_viz explain --max-chars 200000` on War and Peace with 1
and then 2 processes (torchrun) and no causal check, the seconds of its statistics pass (family,
traces, sums, scores: every cell's label and score) and of the build, with the load average (the
shipped tables' own build times, causal check included, are printed with their targets). With
--windows 2:429: that War and Peace cell's r with its label on each half of the table's text and
by window, where its held-out score comes from. Every run prints the CPU and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_viz import load
from lstm_viz.find import cellpage, explainer, hypotheses
from lstm_viz.train.data import held_out
from lstm_viz.train.loop import cpu_model

ROOT = Path(__file__).resolve().parents[1]


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def targets(name: str) -> None:
    record = cellpage.load(name)
    if record is None:
        print(f"{name}: no explain.json; run python -m lstm_viz explain --model {name} --corpus ...")
        return
    table = cellpage.table(record)
    c = record["corpus"]
    print(
        f"\n{name}: {record['chars']:,} chars of {c['name']} {c['split']} split, {len(record['family'])} hypotheses, "
        f"built with {record['processes']} process(es): statistics pass {record['seconds']['statistics']} s, "
        f"all {record['seconds']['total']} s"
    )
    for row in record["coverage"]:
        layer = row["layer"]
        part = table[table.layer == layer]
        print(
            f"  layer {layer + 1}: {row['cells']} cells, {row['constant']} constant; match >= 0.5 {row['>=0.5']:.1%}, "
            f">= 0.7 {row['>=0.7']:.1%}, >= 0.9 {row['>=0.9']:.1%}; median {row['median']:.3f} of the cells that "
            f"vary, {part.score.fillna(0).median():.3f} of all (constant as 0)"
        )
    if name == "warpeace":
        e = cellpage.entry(record, 1, 429)
        print(
            f"  target 2:429 labelled inside double quotes, score >= 0.95: {e['label']!r} {e['score']:.3f} "
            f"(fit on the first half {e['fit']:.3f}; runner-up {e['runner_up']!r} {e['runner_up_score']:.3f})"
        )
        line = table[table.key.str.contains("since:\n", regex=False) | table.key.str.contains("line_position")]
        if len(line):
            r = line.iloc[0]
            print(f"  target line position >= 0.85: {r.layer + 1}:{r.cell} {r.label!r} {r.score:.3f}")
    depth = table[table.key.str.contains("depth") & table.label.str.contains(r"[(\[{]")]
    if len(depth):
        r = depth.iloc[0]
        print(
            f"  best bracket/parenthesis depth label (target >= 0.7 on Linux): {r.layer + 1}:{r.cell} {r.label!r} "
            f"{r.score:.3f}"
        )
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


def page(name: str, cells: int = 20) -> None:
    """A cell page on a warm server: the model and the table are loaded (and cached) once."""
    model, record = load(name), cellpage.load(name)
    if record is None:
        return
    table = cellpage.table(record)
    picked = list(zip(table.layer, table.cell))[: cells // 2] + list(zip(table.layer, table.cell))[-cells // 2 :]
    seconds = []
    for layer, cell in picked:
        t0 = time.perf_counter()
        cellpage.entry(record, layer, cell)
        cellpage.writes(model, record, layer, cell)
        cellpage.drivers(model, record, layer, cell)
        seconds.append(time.perf_counter() - t0)
    layer, cell = picked[0]
    e = cellpage.entry(record, layer, cell)
    t0, c0 = time.perf_counter(), time.process_time()
    cellpage.steer(model, "\n\n", layer, cell, e["c_low"], e["c_high"], 200)
    steer_s, steer_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"\n{name} cell page, warm ({torch.get_num_threads()} torch threads): entry + writes + drivers "
        f"median {1000 * np.median(seconds):.1f} ms, max {1000 * max(seconds):.1f} ms over {len(picked)} cells; "
        f"steer (plain, low, high x 200 chars) {steer_s:.2f} s ({steer_cpu:.2f} CPU s); load average {load_average()}"
    )


def batches(corpus: Path, length: int = 6_000) -> None:
    """CPU seconds per character of `model.trace_batch` on B held-out texts of `length` characters."""
    model = load("warpeace")
    text, _, _ = held_out(corpus, 16 * length)
    line = []
    for B in (1, 4, 8, 16):
        texts = [text[i * length : (i + 1) * length] for i in range(B)]
        c0 = time.process_time()
        model.trace_batch(texts)
        line.append(f"batch {B}: {1e6 * (time.process_time() - c0) / (B * length):.0f}")
    print(
        f"\ntrace_batch of {length:,}-char texts, CPU microseconds per character ({torch.get_num_threads()} torch "
        f"threads): {', '.join(line)}; load average {load_average()}"
    )


def windows(name: str, layer: int, cell: int, corpora: Path, size: int = 20_000) -> None:
    """The Pearson r of a cell's tanh(c) with each hypothesis of its label on each half of the
    table's text and on windows of `size` characters: where the held-out score comes from."""
    record, model = cellpage.load(name), load(name)
    e, c = cellpage.entry(record, layer, cell), record["corpus"]
    text, _, warm = held_out(corpora / c["name"], record["chars"], c["split"])
    parts = explainer.segments(len(text), warm, record["segment"])
    spans = explainer.windows(parts, record["warmup"])
    y, batch = [], record.get("batch", explainer.BATCH)
    for i in range(0, len(parts), batch):
        y += [
            cells[layer, :, cell]
            for cells, _ in explainer.trace_block(model, text, parts[i : i + batch], spans[i : i + batch])
        ]
    y = np.concatenate(y).astype(np.float64)
    family = {h.key: h for h in hypotheses.generate(text[warm:], model.vocab.chars)}
    half = len(y) // 2
    print(f"\n{name} {layer + 1}:{cell} {e['label']!r}: score {e['score']}, fit {e['fit']}")
    for key in e["key"].split(" + "):
        z = family[key](text)[warm:].astype(np.float64)
        shown = ", ".join(f"{a // 1000}k {r(z, y, a, a + size):.2f}" for a in range(0, len(y), size))
        print(
            f"  r with {key!r}: first half {r(z, y, 0, half):.3f}, second half {r(z, y, half, len(y)):.3f}; "
            f"by {size:,} chars: {shown}"
        )


def r(z: np.ndarray, y: np.ndarray, a: int, b: int) -> float:
    """Pearson r of z and y over [a, b) (NaN where either is constant there)."""
    return float(np.corrcoef(z[a:b], y[a:b])[0, 1]) if np.ptp(z[a:b]) and np.ptp(y[a:b]) else float("nan")


def timed(corpus: Path, processes: int, threads: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        cmd = ["-m", "lstm_viz", "explain", "--model", "warpeace", "--corpus", str(corpus), "--max-chars", "200000"]
        cmd += ["--out", out, "--quiet", "--threads", str(threads), "--causal-cells", "0"]
        if processes > 1:
            cmd = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)] + cmd
        before = load_average()
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable] + cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        record = json.loads((Path(out) / explainer.FILE).read_text())
    s = record["seconds"]
    print(
        f"all {record['layers'] * record['cells_per_layer']} cells over {record['chars']:,} chars, {processes} "
        f"process(es) of {threads} thread(s), {record['segment']}-char segments in blocks of {record['batch']}: "
        f"statistics pass (every cell labelled and scored) {s['statistics']} s ({s['statistics_cpu']} CPU s in "
        f"process 0); with the pages' data (no causal check) {s['total']} s; load average {before} before, "
        f"{load_average()} after"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora", help="with warpeace_input.txt")
    p.add_argument("--time", action="store_true", help="time all cells over 200,000 chars, 1 and 2 processes")
    p.add_argument("--windows", default=None, help="LAYER:CELL (from 1) of War and Peace: r by window of its text")
    p.add_argument("--page-threads", type=int, default=None, help="torch threads for the cell page (default: torch's)")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per process in --time and --windows (1: on a loaded machine a second thread waits)",
    )
    a = p.parse_args()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; load average {load_average()}")
    if a.windows:
        torch.set_num_threads(a.threads)
        layer, cell = (int(v) for v in a.windows.split(":"))
        windows("warpeace", layer - 1, cell, a.corpora)
        return
    for name in ("warpeace", "linux"):
        targets(name)
    if a.page_threads:
        torch.set_num_threads(a.page_threads)
    page("warpeace")
    if a.time:
        batches(a.corpora / "warpeace_input.txt")
        print()
        for processes in (1, 2):
            timed(a.corpora / "warpeace_input.txt", processes, a.threads)


if __name__ == "__main__":
    main()
