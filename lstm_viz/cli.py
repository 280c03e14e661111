"""Command line: python -m lstm_viz
{train,sweep,eval,sample,bench,find,explain,analyse,compare,dynamics,table,import,app} ..."""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import fields
from pathlib import Path

from .core.checks import WHOLE, quoted
from .io.checkpoint import CheckpointError
from .train.data import CorpusError


class UsageError(Exception):
    """A bad argument, reported as one line."""


class Parser(argparse.ArgumentParser):
    """argparse, reporting a bad command line in one line (exit 2) instead of usage and error."""

    def error(self, message):
        self.exit(2, f"error: {message}\n")


BIG = 10**13  # more characters than any corpus here
# The range of every number the command line takes, by option: (least, most, least excluded).
NUMBERS = {
    "layers": (1, 16, False),
    "hidden": (1, 8_192, False),
    "embed": (1, 8_192, False),
    "dropout": (0, 1, False),
    "forget_bias": (-100, 100, False),
    "epochs": (1, 100_000, False),
    "batch": (1, 65_536, False),
    "seq_len": (1, 1_000_000, False),
    "lr": (0, 10, True),
    "lr_decay": (0, 1, True),
    "decay_after": (0, 100_000, False),
    "clip": (0, 1e9, True),
    "patience": (1, 100_000, False),
    "min_count": (1, BIG, False),
    "seed": (0, 2**63 - 1, False),
    "max_minutes": (0, 1e9, False),
    "max_chars": (0, BIG, False),
    "decay_chars": (0, BIG, False),
    "final_lr": (0, 1, False),
    "threads": (0, 4_096, False),
    "save_minutes": (0, 1e9, True),
    "val_chars": (0, BIG, False),
    "val_every": (0, BIG, False),
    "eval_chars": (0, BIG, False),
    "snapshots": (0, 10_000, False),
    "snapshot": (-10_000, 10_000, False),
    "threshold": (-1, 1, False),
    "init": (0, 1, False),
    "n": (0, 10_000_000, False),
    "temperature": (0, 1_000, True),
    "top": (1, 1_000_000, False),
    "segment": (1_000, BIG, False),
    "causal_cells": (0, 1_000_000, False),
    "ngram_chars": (1, BIG, False),
    "port": (1, 65_535, False),
}
# Where one command reads an option more narrowly.
NUMBERS_OF = {
    ("explain", "max_chars"): (100, BIG, False),
    ("explain", "threads"): (1, 4_096, False),
    ("analyse", "max_chars"): (1, BIG, False),
    ("compare", "max_chars"): (1, BIG, False),
    ("dynamics", "max_chars"): (100, BIG, False),
}


def whole(text: str) -> int:
    """argparse type: a whole number, its digits counted before int() reads them."""
    if not WHOLE.fullmatch(text.strip()) or len(text.strip()) > 20:
        raise argparse.ArgumentTypeError(f"not a whole number: {quoted(text)}")
    return int(text)


def real(text: str) -> float:
    """argparse type: a finite number."""
    try:
        value = float(text) if len(text) <= 40 else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {quoted(text)}")
    return value


def check_numbers(a: argparse.Namespace) -> None:
    """Every number given within its range (NUMBERS), else a UsageError naming the option."""
    for dest, value in vars(a).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        least, most, excluded = NUMBERS_OF.get((a.command, dest), NUMBERS[dest])
        flag = ("-" if len(dest) == 1 else "--") + dest.replace("_", "-")
        if value < least or excluded and value == least:
            raise UsageError(f"{flag} must be {'more than' if excluded else 'at least'} {least:,}, not {value:,}")
        if value > most:
            raise UsageError(f"{flag} must be at most {most:,}, not {value:,}")


def numbers_checked(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`p` with every int and float option of every command read by `whole` and `real`; an option
    with no range in NUMBERS is a programming error, caught here (and by the tests)."""
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                numbers_checked(command)
        elif action.type in (int, float):
            if action.dest not in NUMBERS:
                raise LookupError(f"{action.dest}: a number option with no range in cli.NUMBERS")
            action.type = whole if action.type is int else real
    return p


def note_other_corpus(corpus, trained_on: bool) -> None:
    """Say on stderr when a command reads a corpus other than the one the model was trained on."""
    if not trained_on:
        print(f"note: {corpus} is not the corpus this model was trained on (sha256 differs)", file=sys.stderr)


def cmd_train(a) -> None:
    from .train.loop import TrainArgs, train

    args = TrainArgs(**{f.name: getattr(a, f.name) for f in fields(TrainArgs)})
    result = train(args)
    if result:
        print(" ".join(f"{k} {v['nats']:.4f} nats ({v['bits']:.4f} bits)/char" for k, v in result["loss"].items()))


def cmd_eval(a) -> None:
    import torch

    from .io import checkpoint
    from .train.data import read_corpus, sha256, split_bounds
    from .train.evaluate import bits, evaluate

    model = checkpoint.load(a.model, snapshot=a.snapshot)
    text = read_corpus(a.corpus)
    expected = model.card.get("corpus", {}).get("sha256")
    note_other_corpus(a.corpus, not expected or expected == sha256(a.corpus))
    ids = torch.as_tensor(model.vocab.encode(text))
    for name in a.splits:
        lo, hi = split_bounds(len(text))[name]
        nats = evaluate(model, ids[lo:hi])
        print(f"{name}: {nats:.4f} nats/char, {bits(nats):.4f} bits/char ({hi - lo:,} chars)")


def cmd_sample(a) -> None:
    from .io import checkpoint

    model = checkpoint.load(a.model, snapshot=a.snapshot)
    print(a.prime + model.sample(a.prime, a.n, a.temperature, a.seed))


def cmd_bench(a) -> None:
    import torch

    from .bench import bench_model, run, train_report

    if a.device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {a.device}: no CUDA device here")
    if a.train_only:
        train_report(bench_model(a.model, a.layers, a.hidden), a.batch, a.seq_len, a.device)
    else:
        run(a.model, a.quick)


def cmd_sweep(a) -> None:
    from .train import sweep

    common = {k: v for k, v in (("epochs", a.epochs), ("max_minutes", a.max_minutes)) if v is not None}
    results = sweep.run(a.corpus, a.out, a.config, common, a.resume)
    if not results:
        raise UsageError("no configuration finished; see the logs in " + a.out)
    print(sweep.table(results))
    if a.pick:
        print(f"best on validation: {results[0]['name']} -> {sweep.pick(a.out, results[0]['name'], a.pick)}")


def read_text_file(path) -> str:
    """The text of a file for `find`; a UsageError of one line if it cannot be read."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such text file")
    text = path.read_bytes().decode("utf-8", errors="replace")
    if not text:
        raise UsageError(f"{path}: the text file is empty")
    return text


def cmd_find(a) -> None:
    import pandas as pd

    from .core import features
    from .find.finder import check_signal, find_cells, trace_activations
    from .io import checkpoint

    hypothesis = a.hypothesis or ("regex" if a.regex is not None else None)
    if hypothesis is None:
        raise UsageError(f"give --hypothesis (one of {', '.join(features.FEATURES)}) or --regex")
    features.get(hypothesis)
    if hypothesis == "regex":
        features.compile_regex(a.regex)
    check_signal(a.signal)
    text = read_text_file(a.text_file)
    model = checkpoint.load(a.model, snapshot=a.snapshot)
    table = find_cells(trace_activations(model, text, a.signal), hypothesis, a.signal, a.top, a.regex)
    with pd.option_context("display.max_rows", None, "display.width", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def wrote(path: Path, record: dict, corpus) -> str:
    """The start of the line reporting an explain file just written; first a note if the
    model was not trained on `corpus`."""
    note_other_corpus(corpus, record["corpus"]["trained_on"])
    return f"{path}: {record['layers']} x {record['cells_per_layer']} cells"


def cmd_explain(a) -> None:
    import os

    from .find import cellpage, explainer

    if a.threads is not None:
        import torch

        torch.set_num_threads(a.threads)
    folder, record = explainer.build_for_corpus(
        a.model, a.corpus, a.max_chars, a.split, a.segment, not a.quiet, a.batch, a.causal_cells
    )
    if record is None:  # a process other than the first under torchrun
        return
    path = explainer.write(a.out or folder, record)
    c = record["corpus"]
    print(
        wrote(path, record, a.corpus) + f", {len(record['family'])} hypotheses, "
        f"{record['chars']:,} chars of the {c['split']} split ({path.stat().st_size / 1e6:.2f} MB); "
        f"{record['processes']} process(es): statistics {record['seconds']['statistics']} s "
        f"({record['seconds']['statistics_cpu']} CPU s in this process), "
        f"all {record['seconds']['total']} s; load average {os.getloadavg()[0]:.1f}"
    )
    for row in record["coverage"]:
        print(
            f"  layer {row['layer'] + 1}: {row['constant']} constant cells; match >= 0.5 {row['>=0.5']:.1%}, "
            f">= 0.7 {row['>=0.7']:.1%}, "
            f">= 0.9 {row['>=0.9']:.1%}, median {row['median']:.3f}"
        )
    best = cellpage.table(record).head(10)
    for r in best.itertuples():
        print(
            f"  {r.layer + 1}:{r.cell}  match {r.score:.3f}  {r.label}  "
            f"(low {r.change_low:+.3f}, high {r.change_high:+.3f} nats)"
        )


def cmd_analyse(a) -> None:
    from .paper import analysis_report, ngram

    if a.train_ngram:
        built = ngram.build_for_model(a.model, a.corpus, train_chars=a.ngram_chars)
        print(
            f"{built['file']}: order {built['order']}, min count {built['min_count']}, {built['entries']:,} n-grams, "
            f"{built['bytes'] / 1e6:.1f} MB from {built['train_chars']:,} training chars, "
            f"test {built['test']['nats']:.4f} nats/char, trained in {built['train_seconds']} s"
        )
    result = analysis_report.analyse(a.model, a.corpus, a.max_chars, a.split)
    note_other_corpus(a.corpus, result["corpus"]["trained_on"])
    files = analysis_report.write(result, a.out)
    loss = result["loss"]
    print(
        f"{a.out}: {len(files)} files on {result['chars']:,} chars of the {a.split} split; "
        f"{result['model']['kind'].upper()} {loss['lstm']:.4f}, n-gram {loss['ngram']:.4f} nats/char"
    )


def cmd_compare(a) -> None:
    from .paper import analysis_report

    result = analysis_report.compare(a.models, a.corpus, a.max_chars, a.split)
    files = analysis_report.write_comparison(result, a.out)
    losses = ", ".join(f"{name} ({m['kind'].upper()}) {m['nats']:.4f}" for name, m in result["models"].items())
    print(f"{a.out}: {len(files)} files on {result['chars']:,} chars of the {a.split} split; nats/char: {losses}")


def cmd_table(a) -> None:
    from .paper import runs

    text = runs.markdown(runs.read_runs(a.runs), paper=a.paper)
    print(text, end="")
    if a.out:
        Path(a.out).write_text(text)


def cmd_dynamics(a) -> None:
    from .io.checkpoint import resolve
    from .paper import dynamics

    record = dynamics.build(a.model, a.corpus, a.max_chars, a.split, a.threshold)
    path = dynamics.write(a.out or resolve(a.model), record)
    print(
        f"{path}: {len(record['snapshots'])} snapshots on {record['chars']:,} chars of the {a.split} split "
        f"(after {record['warmup']:,} of warm-up)"
    )
    print(
        f"\nWhen each cell learnt its label: the best cell of the last snapshot, match >= {a.threshold:g} from then on"
    )
    print(f"  {'feature':<14} {'cell':>6} {'first':>7} {'last':>7}  from snapshot (characters seen)")
    for r in record["first_above"]:
        when = "never" if r["snapshot"] is None else f"{r['snapshot']} ({r['chars_seen']:,})"
        print(f"  {r['feature']:<14} {r['layer'] + 1:>2}:{r['cell']:<3} {r['first']:>7.3f} {r['last']:>7.3f}  {when}")
    shown = [r["feature"] for r in record["first_above"]]
    print(f"\n  {'snapshot':>8} {'chars seen':>12} {'val':>6} " + " ".join(f"{f[:12]:>12}" for f in shown))
    for s in record["snapshots"]:
        matches = {r["feature"]: r["match"] for r in record["emergence"] if r["snapshot"] == s["snapshot"]}
        val = "" if s["val"] is None else f"{s['val']:.3f}"
        print(
            f"  {s['snapshot']:>8} {s['chars_seen']:>12,} {val:>6} " + " ".join(f"{matches[f]:>12.3f}" for f in shown)
        )
    if record["dynamics"] is None:
        print("\nNo n-gram beside the model: no training dynamics (build one with analyse --train-ngram)")
        return
    orders = record["orders"]
    for measure, title in (
        ("kl", "symmetric KL divergence between the model's and the n-gram's next-character distributions (nats)"),
        ("gain", "the n-gram's mean loss minus the model's (nats per character; positive: the model predicts better)"),
        ("overlap", "errors in common: characters both get wrong / characters either gets wrong"),
    ):
        print(f"\nTraining dynamics, {title}")
        print(f"  {'snapshot':>8} {'errors':>7} " + " ".join(f"{f'{n}-gram':>8}" for n in orders))
        for s in record["snapshots"]:
            rows = {r["order"]: r for r in record["dynamics"] if r["snapshot"] == s["snapshot"]}
            errors = rows[orders[0]]["model_errors"]
            print(f"  {s['snapshot']:>8} {errors:>7.1%} " + " ".join(f"{rows[n][measure]:>8.3f}" for n in orders))
    errors = {r["order"]: r["ngram_errors"] for r in record["dynamics"]}
    print("  n-gram error rates: " + ", ".join(f"{n}-gram {errors[n]:.1%}" for n in orders))


def add_analyse(sub) -> None:
    an = sub.add_parser("analyse", help="the paper's analyses on the held-out split: figures, JSON and Markdown")
    an.add_argument("--model", required=True)
    an.add_argument("--corpus", required=True, help="the corpus the model was trained on")
    an.add_argument("--out", required=True, help="folder for the figures (PNG, SVG) and report.json / report.md")
    an.add_argument("--split", default="test", choices=["val", "test"])
    an.add_argument("--max-chars", type=int, default=None, help="analyse only the first N characters of the split")
    an.add_argument(
        "--train-ngram",
        action="store_true",
        help="first train the 20-gram on the training split and save it beside the model (ngram.npz)",
    )
    an.add_argument(
        "--ngram-chars",
        type=int,
        default=None,
        help="train the 20-gram on only the first N characters of the training split (a split too big to count)",
    )
    an.set_defaults(run=cmd_analyse)
    co = sub.add_parser(
        "compare",
        help="several models (LSTM, GRU, RNN) on one held-out text: gate saturation, the long-memory test of "
        "quotes and the error breakdown side by side",
    )
    co.add_argument("--models", nargs="+", required=True, help="model folders or shipped names")
    co.add_argument("--corpus", required=True, help="the corpus the models were trained on")
    co.add_argument("--out", required=True, help="folder for the figures (PNG, SVG) and compare.json / compare.md")
    co.add_argument("--split", default="test", choices=["val", "test"])
    co.add_argument("--max-chars", type=int, default=None, help="only the first N characters of the split")
    co.set_defaults(run=cmd_compare)
    dy = sub.add_parser(
        "dynamics",
        help="a model over its training (its snapshots): when each cell learnt its label and how its "
        "predictions compare with n-gram models of several orders; writes dynamics.json",
    )
    dy.add_argument("--model", required=True, help="a model folder or shipped name with snapshots")
    dy.add_argument("--corpus", required=True, help="the corpus the model was trained on")
    dy.add_argument("--split", default="test", choices=["val", "test"])
    dy.add_argument("--max-chars", type=int, default=10_000, help="held-out characters to measure on")
    dy.add_argument("--threshold", type=float, default=0.5, help="the match at which a cell has learnt its label")
    dy.add_argument("--out", default=None, help="folder for dynamics.json (default: the model's folder)")
    dy.set_defaults(run=cmd_dynamics)
    ta = sub.add_parser("table", help="the paper's Table 1: test losses of the finished runs under a folder")
    ta.add_argument("--runs", required=True, help="a folder of run folders (checkpoints whose cards have a test loss)")
    ta.add_argument("--out", default=None, help="also write the table to this Markdown file")
    ta.add_argument(
        "--paper", action="store_true", help="add the best finished run beside the paper's best model and 20-gram"
    )
    ta.set_defaults(run=cmd_table)


def cmd_import(a) -> None:
    from .io.importers import import_file

    out = import_file(a.framework, a.file, a.alphabet, a.out)
    from .io.checkpoint import load

    m = load(out)
    print(
        f"{out}: {m.kind.upper()} of {m.config.layers} layers x {m.config.hidden} cells, {len(m.vocab) - 1} characters "
        f"(+1 unknown slot), imported from {a.framework}"
    )


def cmd_app(a) -> None:
    from .serve.launch import LaunchError, run_app

    try:
        status = run_app(a.models, a.port, a.address)
    except LaunchError as e:
        raise UsageError(str(e)) from None
    if status:
        raise SystemExit(status)


def parser() -> argparse.ArgumentParser:
    from .core.model import KINDS
    from .io.checkpoint import STORAGE
    from .train.loop import OPTIMIZERS, TrainArgs

    p = Parser(prog="python -m lstm_viz", description="Look inside character-level LSTMs.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model on a text file")
    t.add_argument("--corpus", required=True)
    t.add_argument("--out", required=True, help="model folder, e.g. pretrained/NAME")
    choices = {"kind": KINDS, "optimizer": OPTIMIZERS, "storage": tuple(STORAGE)}
    for f in fields(TrainArgs):
        if f.name in ("corpus", "out", "resume"):
            continue
        t.add_argument(
            "--" + f.name.replace("_", "-"), type=type(f.default), default=f.default, choices=choices.get(f.name)
        )
    t.add_argument("--resume", action="store_true", help="continue from OUT/resume/")
    t.set_defaults(run=cmd_train)
    e = sub.add_parser("eval", help="validation and test loss on the training split")
    e.add_argument("--model", required=True)
    e.add_argument(
        "--snapshot", type=int, default=None, help="that snapshot of the model's training (0 untrained, -1 the last)"
    )
    e.add_argument("--corpus", required=True)
    e.add_argument("--splits", nargs="+", default=["val", "test"], choices=["train", "val", "test"])
    e.set_defaults(run=cmd_eval)
    s = sub.add_parser("sample", help="generate text")
    s.add_argument("--model", required=True)
    s.add_argument(
        "--snapshot", type=int, default=None, help="that snapshot of the model's training (0 untrained, -1 the last)"
    )
    s.add_argument("--prime", default="\n")
    s.add_argument("-n", type=int, default=500)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(run=cmd_sample)
    b = sub.add_parser("bench", help="trace speed and memory against nn.LSTM")
    b.add_argument("--model", default=None, help="a model folder (default: a random 2 x 512 model)")
    b.add_argument("--quick", action="store_true", help="fewer repeats")
    b.add_argument("--train-only", action="store_true", help="only the training step against a bare nn.LSTM step")
    b.add_argument("--device", default="cpu", help="with --train-only: cpu or cuda")
    b.add_argument("--layers", type=int, default=2, help="with --train-only and no --model: the random model's shape")
    b.add_argument("--hidden", type=int, default=512)
    b.add_argument("--batch", type=int, default=32)
    b.add_argument("--seq-len", type=int, default=128)
    b.set_defaults(run=cmd_bench)
    w = sub.add_parser("sweep", help="train several configurations side by side and compare them on validation")
    w.add_argument("--corpus", required=True)
    w.add_argument("--out", required=True, help="folder for the runs, one subfolder per configuration")
    w.add_argument(
        "--config",
        action="append",
        required=True,
        help="NAME:key=value,... with train options, e.g. deep:layers=3,dropout=0.1 (repeat)",
    )
    w.add_argument("--epochs", type=int, default=None)
    w.add_argument("--max-minutes", type=float, default=None)
    w.add_argument("--resume", action="store_true", help="continue every run from its resume/ state")
    w.add_argument("--pick", default=None, help="copy the best run's model here, e.g. pretrained/linux")
    w.set_defaults(run=cmd_sweep)
    f = sub.add_parser("find", help="rank cells by their match with a hypothesis on a text")
    f.add_argument("--model", required=True)
    f.add_argument(
        "--snapshot", type=int, default=None, help="that snapshot of the model's training (0 untrained, -1 the last)"
    )
    f.add_argument("--text-file", required=True)
    f.add_argument("--hypothesis", default=None, help="quotes, line_position, bracket_depth, ... or regex")
    f.add_argument("--regex", default=None, help="pattern for --hypothesis regex (implies it)")
    f.add_argument("--signal", default="cell", help="cell, hidden, or a gate: input, forget, candidate, output")
    f.add_argument("--top", type=int, default=20)
    f.set_defaults(run=cmd_find)
    ex = sub.add_parser(
        "explain",
        help="label every cell with the best of a generated family of hypotheses; "
        "writes explain.json into the model folder (torchrun shards the text)",
    )
    ex.add_argument("--model", required=True)
    ex.add_argument("--corpus", required=True, help="the corpus the model was trained on")
    ex.add_argument("--max-chars", type=int, default=None, help="at most N characters of the split (default: all)")
    ex.add_argument("--split", default="test", choices=["val", "test"])
    ex.add_argument(
        "--segment",
        type=int,
        default=5_000,
        help="characters traced from a fresh state (after 1,000 characters of warm-up)",
    )
    ex.add_argument(
        "--batch",
        type=int,
        default=8,
        help="segments traced side by side (faster on CPU; memory grows with it): the unit of sharding",
    )
    ex.add_argument(
        "--causal-cells", type=int, default=50, help="the best-explained cells given the causal check (0: none)"
    )
    ex.add_argument("--out", default=None, help="folder for explain.json (default: the model's folder)")
    ex.add_argument("--threads", type=int, default=None, help="torch threads per process (1 on a busy machine)")
    ex.add_argument("--quiet", action="store_true", help="no progress bar")
    ex.set_defaults(run=cmd_explain)
    add_analyse(sub)
    im = sub.add_parser(
        "import", help="convert your own PyTorch or Keras character LSTM, GRU or RNN into a checkpoint folder"
    )
    im.add_argument("--from", dest="framework", required=True, choices=["torch", "keras"])
    im.add_argument(
        "file",
        help="a state dict (.pt/.pth read with weights_only=True, or .safetensors); "
        "or a Keras 3 .keras / .weights.h5 file",
    )
    im.add_argument(
        "--alphabet",
        required=True,
        help="the model's characters in index order: a JSON list or "
        "{char: index}, or a text file of exactly those characters",
    )
    im.add_argument("--out", required=True, help="a new model folder, e.g. pretrained/NAME")
    im.set_defaults(run=cmd_import)
    ap = sub.add_parser("app", help="start the app (needs pip install 'lstm-viz[app]')")
    ap.add_argument(
        "--models",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own model folders, listed beside the shipped ones (repeatable)",
    )
    ap.add_argument("--port", type=int, default=8501)
    ap.add_argument("--address", default="127.0.0.1")
    ap.set_defaults(run=cmd_app)
    return numbers_checked(p)


def main(argv=None) -> int:
    a = parser().parse_args(argv)
    try:
        check_numbers(a)
        a.run(a)
    except (CheckpointError, CorpusError, UsageError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
