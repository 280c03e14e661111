"""Trace speed of the three kinds: ms per 2,000 characters for an LSTM, a GRU and a vanilla RNN of one size.

    .venv/bin/python benchmarks/kinds_bench.py [--layers 2] [--hidden 512] [--chars 2000] [--repeats 5]

Each model (random weights, the shipped alphabet's size) traces the same text on one torch thread;
the best of --repeats runs is printed, wall-clock and CPU time of this process (the machine is
shared: CPU time is the figure that repeats), with the load average. The GRU and the RNN are timed
twice: through ONNX Runtime's kernels (what `trace` runs on the CPU, `lstm_viz.core.onnx_layers`)
and through torch's (torch.gru and torch.rnn_tanh, what nn.GRU and nn.RNN call).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

import lstm_viz
from lstm_viz.core import kernel, trace


def model(kind: str, layers: int, hidden: int) -> lstm_viz.CharLSTM:
    torch.manual_seed(0)
    vocab = lstm_viz.Vocab([chr(c) for c in range(32, 32 + 84)])
    return lstm_viz.CharLSTM(lstm_viz.Config(len(vocab), layers, hidden, 64, kind=kind), vocab).eval()


def timed(run, repeats: int) -> tuple[float, float]:
    """(wall, cpu) ms, each the best of `repeats` runs."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        run()
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall * 1000, cpu * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--chars", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(1)
    words = 'the cat said, "so it is (over)" and ran; ' * (a.chars // 40 + 1)
    text = words[: a.chars]
    models = {kind: model(kind, a.layers, a.hidden) for kind in ("lstm", "gru", "rnn")}

    def through_torch(kind):
        trace.plain_layer = kernel.torch_plain_layer
        try:
            models[kind].trace(text)
        finally:
            trace.plain_layer = kernel.plain_layer

    runs = {kind: (lambda m=m: m.trace(text)) for kind, m in models.items()}
    runs["gru (torch.gru)"] = lambda: through_torch("gru")
    runs["rnn (torch.rnn)"] = lambda: through_torch("rnn")
    for run in runs.values():
        run()  # warm up
    best = {name: (float("inf"), float("inf")) for name in runs}
    for _ in range(a.repeats):  # interleaved, so a busy spell of the machine hits every kind alike
        for name, run in runs.items():
            best[name] = tuple(map(min, best[name], timed(run, 1)))
    print(f"{a.layers} x {a.hidden}, {a.chars:,} characters, one thread; load average {os.getloadavg()}")
    for name, (wall, cpu) in best.items():
        per = 2000 / a.chars
        print(f"  {name:16} {wall * per:7.0f} ms wall  {cpu * per:7.0f} ms CPU  per 2,000 characters")


if __name__ == "__main__":
    main()
