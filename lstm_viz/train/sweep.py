"""Train several configurations side by side (one process each, sharing the machine), then
compare them by validation loss and copy the best into place.

A configuration is NAME:key=value,key=value with TrainArgs field names, e.g.
`deep:layers=3,hidden=512,dropout=0.1`. Each run writes OUT/NAME (with OUT/NAME/resume/ every
epoch, so `--resume` continues all of them) and logs to OUT/NAME.log.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

from .loop import TrainArgs

FIELDS = {f.name: type(f.default) for f in fields(TrainArgs) if f.name not in ("corpus", "out", "resume")}


def parse_config(spec: str) -> tuple[str, dict]:
    """("deep", {"layers": 3, ...}) from "deep:layers=3,..."; ValueError naming what is wrong."""
    name, _, body = spec.partition(":")
    if not name.isidentifier():
        raise ValueError(f"config {spec!r}: start with a name, as NAME:key=value,...")
    settings = {}
    for item in filter(None, body.split(",")):
        key, eq, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or key not in FIELDS:
            raise ValueError(f"config {spec!r}: {item!r} is not key=value with a key among {', '.join(FIELDS)}")
        try:
            settings[key] = FIELDS[key](value)
        except ValueError:
            raise ValueError(f"config {spec!r}: {key} needs a {FIELDS[key].__name__}, not {value!r}") from None
    return name, settings


def command(corpus: str, out: Path, settings: dict, resume: bool) -> list[str]:
    """The `python -m lstm_viz train` command line of one configuration."""
    cmd = [sys.executable, "-m", "lstm_viz", "train", "--corpus", corpus, "--out", str(out)]
    for key, value in settings.items():
        cmd += ["--" + key.replace("_", "-"), str(value)]
    return cmd + (["--resume"] if resume else [])


def run(corpus: str, out, configs: list[str], common: dict, resume: bool = False) -> list[dict]:
    """Train every configuration at once; their results (name, card) best first by validation."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parsed = [parse_config(spec) for spec in configs]
    if len({name for name, _ in parsed}) != len(parsed):
        raise ValueError("give every configuration its own name")
    runs = []  # (name, log, process) of every run started
    try:
        for name, settings in parsed:
            log = open(out / f"{name}.log", "a")  # noqa: SIM115 (the child writes it; closed in finally)
            try:
                proc = subprocess.Popen(
                    command(corpus, out / name, {**common, **settings}, resume), stdout=log, stderr=subprocess.STDOUT
                )
            except BaseException:
                log.close()
                raise
            runs.append((name, log, proc))
        codes = [proc.wait() for _, _, proc in runs]
    finally:
        stop(runs)
    results = []
    for (name, _, _), code in zip(runs, codes):
        card = out / name / "card.json"
        if code == 0 and card.is_file():
            results.append({"name": name, "card": json.loads(card.read_text())})
        else:
            print(f"{name}: training failed (exit {code}); see {out / f'{name}.log'}", file=sys.stderr)
    return sorted(results, key=lambda r: r["card"]["loss"]["val"]["nats"])


def stop(runs) -> None:
    """Terminate the runs still going (after a failed start or an interrupt) and close every log."""
    for _, _, proc in runs:
        if proc.poll() is None:
            proc.terminate()
    for _, log, proc in runs:
        proc.wait()
        log.close()


def table(results: list[dict]) -> str:
    """A Markdown table of the runs, best first."""
    rows = [
        "| config | layers x cells | dropout | seq | val nats | test nats | train nats | epochs | minutes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c, loss, t = r["card"]["config"], r["card"]["loss"], r["card"]["training"]
        rows.append(
            f"| {r['name']} | {c['layers']} x {c['hidden']} | {c['dropout']} | {t['seq_len']} | "
            f"{loss['val']['nats']:.4f} | {loss['test']['nats']:.4f} | {loss['train']['nats']:.4f} | "
            f"{r['card']['epochs']} | {r['card']['wall_time_s'] / 60:.1f} |"
        )
    return "\n".join(rows)


def pick(out, best: str, dest) -> Path:
    """Copy OUT/BEST (card and weights, not its resume state) to `dest`, replacing what is there."""
    src, dest = Path(out) / best, Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("model.safetensors", "card.json"):
        shutil.copyfile(src / name, dest / name)
    return dest
