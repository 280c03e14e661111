"""The `analyse` command's report: every analysis of `lstm_viz.analysis` run on the held-out test
split of a model's corpus (an LSTM, GRU or RNN), written as figures (`lstm_viz.views.figures`), JSON and
Markdown; and the `compare` command's: several models side by side on the same held-out text.

`python -m lstm_viz analyse --model NAME --corpus FILE --out DIR` runs `analyse` then `write`;
`python -m lstm_viz compare --models A B C --corpus FILE --out DIR` runs `compare` then
`write_comparison` (gate saturation beside each other, the long-memory test of quotes, the error
breakdown of each). The text is traced in pieces with the state carried across, so the whole test
split fits in memory.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.kernel import NAMED
from ..io import checkpoint
from ..train.data import read_corpus, sha256, split_bounds
from ..views import figures
from . import analysis
from .ngram import load_ngram

# The paper's best test cross-entropies (nats/char), by corpus file (Karpathy et al. 2015, table 2 and section 4.3)
PAPER = {
    "warpeace_input.txt": {"lstm": 1.077, "ngram": 1.195},
    "linux_kernel_input.txt": {"lstm": 0.84, "ngram": 0.889},
}
FIGURES = ("gate_saturation", "error_breakdown", "closing_distance", "character_advantage")


def trace_losses(model, text: str, chunk: int = 10_000) -> tuple[np.ndarray, list[pd.DataFrame]]:
    """((T,) the model's loss per character, per-layer gate saturation tables (none for a vanilla
    RNN, which has no gates)) of a long text, traced in pieces: the last character of each piece
    is scored with the next piece's first."""
    L = model.config.layers if analysis.SATURATION_GATES_OF[model.kind] else 0
    loss = np.full(len(text), np.nan, dtype=np.float32)
    ids = model.vocab.encode(text)
    sums = [None] * L
    for start, piece in model.trace_chunks(text, chunk):
        n = len(piece.text)
        loss[start : start + n] = piece.loss_per_char
        if start + n < len(text) and ids[start + n] != 0:
            loss[start + n - 1] = -piece.log_probs[-1, ids[start + n]]
        for layer in range(L):
            table = analysis.gate_saturation(piece, layer)
            part = table[["left", "right"]] * n
            sums[layer] = part if sums[layer] is None else sums[layer] + part
            if start == 0:
                sums[layer].attrs["keys"] = table[["gate", "cell"]]
    tables = [pd.concat([s.attrs["keys"], s / len(text)], axis=1) for s in sums]
    return loss, tables


def held_out_part(corpus, split: str, max_chars: int | None, order: int = 1) -> tuple[str, int, int]:
    """(text, start, end) of a corpus split, cut to `max_chars` (at least `order` characters)."""
    text = read_corpus(corpus)
    lo, hi = split_bounds(len(text))[split]
    if max_chars is not None:
        if max_chars < order:
            raise ValueError(f"--max-chars must be at least the n-gram's order ({order})")
        hi = min(hi, lo + max_chars)
    return text[lo:hi], lo, hi


def saturation_summary(tables: list[pd.DataFrame]) -> list[dict]:
    """Per layer and gate: mean fractions, and how many cells are saturated most of the time."""
    out = []
    for layer, table in enumerate(tables):
        for gate, rows in table.groupby("gate", sort=False):
            out.append(
                {
                    "layer": layer + 1,
                    "gate": gate,
                    "cells": len(rows),
                    "mean_left": round(float(rows["left"].mean()), 4),
                    "mean_right": round(float(rows["right"].mean()), 4),
                    "cells_left_over_half": int((rows["left"] > 0.5).sum()),
                    "cells_right_over_half": int((rows["right"] > 0.5).sum()),
                    "cells_never_saturated": int(((rows["left"] + rows["right"]) < 0.01).sum()),
                }
            )
    return out


def nats(x) -> float:
    return round(float(np.nanmean(x)), 5)


def analyse(name_or_path, corpus, max_chars: int | None = None, split: str = "test") -> dict:
    """Every analysis of a model on its corpus' held-out split: a dict of tables and summaries."""
    folder = checkpoint.resolve(name_or_path)
    model = checkpoint.load(folder)
    ngram = load_ngram(folder)
    part, lo, hi = held_out_part(corpus, split, max_chars, ngram.order)
    started = time.perf_counter()
    lstm_loss, saturation = trace_losses(model, part)
    traced = time.perf_counter() - started
    ngram_loss = ngram.loss_per_char(part)
    breakdown = analysis.error_breakdown_from(part, lstm_loss, ngram)
    try:
        closers = analysis.closing_distance_from(part, lstm_loss, ngram)
        bins = analysis.distance_bins(closers)
    except ValueError:
        closers = bins = None
    digest = sha256(corpus)
    card = model.card
    return {
        "model": {
            "name": folder.name,
            "kind": model.kind,
            "card_test_nats": card.get("loss", {}).get("test", {}).get("nats"),
            "ngram": {k: v for k, v in card.get("ngram", {}).items() if k != "pruning_trials"},
            "ngram_pruning": card.get("ngram", {}).get("pruning_trials", []),
        },
        "corpus": {
            "name": Path(corpus).name,
            "sha256": digest,
            "split": split,
            "start": lo,
            "end": hi,
            "trained_on": card.get("corpus", {}).get("sha256") == digest,
        },
        "chars": len(part),
        "loss": {"lstm": nats(lstm_loss), "ngram": nats(ngram_loss), "paper": PAPER.get(Path(corpus).name)},
        "saturation": saturation,
        "saturation_summary": saturation_summary(saturation),
        "saturation_problem": None if saturation else analysis.NO_SATURATION.format(NAMED[model.kind]),
        "error_breakdown": breakdown,
        "closing": closers,
        "closing_bins": bins,
        "advantage": analysis.advantage_by_character(part, lstm_loss, ngram_loss),
        "seconds": {"trace": round(traced, 1), "total": round(time.perf_counter() - started, 1)},
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
        },
    }


def records(frame: pd.DataFrame | None) -> list | None:
    if frame is None:
        return None
    return json.loads(frame.to_json(orient="records", double_precision=5))


def markdown_table(frame: pd.DataFrame, floats: str = "{:.3f}") -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [floats.format(v) if isinstance(v, float) else str(v).replace("|", "\\|") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write(result: dict, out) -> list[Path]:
    """Write every figure (PNG and SVG), report.json and report.md into `out`; returns the files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    model = result["model"].get("kind", "lstm").upper()
    if result["saturation"]:
        files += figures.save(figures.gate_saturation(result["saturation"], model), out, "gate_saturation")
    files += figures.save(figures.error_breakdown(result["error_breakdown"], model), out, "error_breakdown")
    if result["closing"] is not None:
        files += figures.save(figures.closing_distance(result["closing"], model), out, "closing_distance")
    files += figures.save(figures.character_advantage(result["advantage"], model), out, "character_advantage")
    data = {k: v for k, v in result.items() if k not in ("saturation", "closing")}
    for key in ("error_breakdown", "closing_bins", "advantage"):
        data[key] = records(result[key])
    data["error_breakdown_totals"] = dict(result["error_breakdown"].attrs)
    data["closing_pairs"] = None if result["closing"] is None else int(len(result["closing"]))
    (out / "report.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))
    (out / "report.md").write_text(to_markdown(result))
    return files + [out / "report.json", out / "report.md"]


def to_markdown(r: dict) -> str:
    """The report as Markdown, with the paper's figures beside ours."""
    c, loss, paper = r["corpus"], r["loss"], r["loss"]["paper"] or {}
    bits = lambda x: x / math.log(2)  # noqa: E731
    ng = r["model"]["ngram"]
    kind = r["model"].get("kind", "lstm")
    name = kind.upper()
    lines = [
        f"# Analyses of `{r['model']['name']}` on the {c['split']} split of {c['name']}",
        "",
        f"{r['chars']:,} characters (corpus characters {c['start']:,} to {c['end']:,}), traced in one pass "
        f"with the state carried across 10,000-character pieces"
        + ("" if c["trained_on"] else " (note: not the corpus this model was trained on)")
        + ".",
        "",
        f"## Loss: {name} against the n-gram",
        "",
        "| model | this report, nats/char | bits/char | paper's best LSTM, nats/char |",
        "|---|---|---|---|",
        f"| {name} | {loss['lstm']:.4f} | {bits(loss['lstm']):.4f} | {paper.get('lstm', '-')} |",
        f"| {ng.get('order', '?')}-gram ({ng.get('smoothing', '?')}, min count {ng.get('min_count', '?')}) | "
        f"{loss['ngram']:.4f} | {bits(loss['ngram']):.4f} | {paper.get('ngram', '-')} |",
        "",
    ]
    if r["model"]["ngram_pruning"]:
        lines += [
            "Pruning the n-gram (n-grams seen fewer than `min_count` times dropped from order 3 up) "
            "against its test loss over the whole test split:",
            "",
            markdown_table(pd.DataFrame(r["model"]["ngram_pruning"]), "{:.4f}"),
            "",
        ]
    lines += [
        f"## Where the {name}'s memory pays",
        "",
        f"Next characters on which the {name} saves the most nats over the n-gram, summed over the text:",
        "",
        "![](character_advantage.svg)",
        "",
        markdown_table(r["advantage"].drop(columns="char")),
        "",
        "## Gate saturation (paper's figure 3)",
        "",
    ]
    if r["saturation"]:
        lines += [
            "A gate is left-saturated below 0.1 and right-saturated above 0.9; each dot is one cell. "
            "The paper (as our notes summarise it): some forget gates are right-saturated almost all the time "
            "(cells that remember for long), first-layer gates are rarely saturated, and no output gate is "
            "strongly saturated.",
            "",
            "![](gate_saturation.svg)",
            "",
            markdown_table(pd.DataFrame(r["saturation_summary"]), "{:.4f}"),
            "",
        ]
    else:
        lines += [f"{r['saturation_problem'][0].upper()}{r['saturation_problem'][1:]}.", ""]
    lines += [
        "## Error breakdown (paper's section 4.4)",
        "",
        f"{r['error_breakdown'].attrs['errors']:,} errors (p(correct next char) < 0.5) among "
        f"{r['error_breakdown'].attrs['characters']:,} scored characters; each oracle in turn takes the errors "
        "it explains that no earlier one took. The paper (figure 6) shows these shares for a War and Peace "
        "LSTM and finds that a larger model mostly removes the n-gram errors.",
        "",
        "![](error_breakdown.svg)",
        "",
        markdown_table(r["error_breakdown"]),
        "",
    ]
    if r["closing_bins"] is not None:
        lines += [
            "## Closing braces and quotes against distance (paper's section 4.3)",
            "",
            f"{len(r['closing']):,} matched pairs: the figure shows the probability each model gave each closer, the "
            "table its mean per distance bin. "
            "The paper (Linux): an LSTM keeps p(}) high far beyond the n-gram's 20-character window.",
            "",
            "![](closing_distance.svg)",
            "",
            markdown_table(r["closing_bins"].drop(columns="bin")),
            "",
        ]
    m = r["machine"]
    lines += [
        f"Traced in {r['seconds']['trace']} s, everything in {r['seconds']['total']} s on {m['cpus']} CPUs "
        f"(load average {m['load_average']}).",
        "",
    ]
    return "\n".join(lines)


def compare(names_or_paths, corpus, max_chars: int | None = None, split: str = "test") -> dict:
    """Several models (LSTM, GRU, RNN) side by side on the same held-out text: each one's loss, gate
    saturation per layer (none for an RNN), the long-memory test of quotes
    (`analysis.quote_memory_from`) and its error breakdown (with its own n-gram, or the first
    of the models that has one; none if no model has one)."""
    folders = [checkpoint.resolve(m) for m in names_or_paths]
    names = [f.name for f in folders]
    if len(set(names)) < len(names):
        raise ValueError(f"two models share a folder name ({', '.join(names)}): give folders of different names")
    ngrams = {}
    for folder in folders:
        with contextlib.suppress(ValueError):  # a model without an n-gram
            ngrams[folder.name] = load_ngram(folder)
    fallback = next(iter(ngrams.values()), None)
    part, lo, hi = held_out_part(corpus, split, max_chars, fallback.order if fallback else 1)
    started = time.perf_counter()
    models = {}
    for folder in folders:
        model = checkpoint.load(folder)
        loss, saturation = trace_losses(model, part)
        ngram = ngrams.get(folder.name, fallback)
        try:
            quotes = analysis.quote_memory_from(part, loss)
        except ValueError:
            quotes = None
        models[folder.name] = {
            "kind": model.kind,
            "layers": model.config.layers,
            "hidden": model.config.hidden,
            "nats": nats(loss),
            "saturation": saturation,
            "saturation_summary": saturation_summary(saturation),
            "quote_memory": quotes,
            "error_breakdown": None if ngram is None else analysis.error_breakdown_from(part, loss, ngram),
        }
    return {
        "corpus": {"name": Path(corpus).name, "sha256": sha256(corpus), "split": split, "start": lo, "end": hi},
        "chars": len(part),
        "models": models,
        "seconds": round(time.perf_counter() - started, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def write_comparison(result: dict, out) -> list[Path]:
    """Write the comparison's figures (PNG and SVG), compare.json and compare.md into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    models = result["models"]
    label = {name: f"{name} ({m['kind'].upper()})" for name, m in models.items()}
    files = []
    gated = {label[n]: m["saturation"] for n, m in models.items() if m["saturation"]}
    if gated:
        files += figures.save(figures.gate_saturation(gated), out, "gate_saturation")
    quotes = {label[n]: m["quote_memory"] for n, m in models.items() if m["quote_memory"] is not None}
    if quotes:
        files += figures.save(figures.quote_memory(quotes), out, "quote_memory")
    broken = {label[n]: m["error_breakdown"] for n, m in models.items() if m["error_breakdown"] is not None}
    if broken:
        files += figures.save(figures.error_breakdown(broken), out, "error_breakdown")
    data = {**result, "models": {}}
    for name, m in models.items():
        data["models"][name] = {
            **{k: m[k] for k in ("kind", "layers", "hidden", "nats", "saturation_summary")},
            "quote_memory": records(m["quote_memory"]),
            "error_breakdown": records(m["error_breakdown"]),
            "errors": None if m["error_breakdown"] is None else m["error_breakdown"].attrs["errors"],
        }
    (out / "compare.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))
    (out / "compare.md").write_text(comparison_markdown(result, label))
    return files + [out / "compare.json", out / "compare.md"]


def comparison_markdown(r: dict, label: dict) -> str:
    """The comparison as Markdown: losses, then each analysis with its figure and tables."""
    c, models = r["corpus"], r["models"]
    lines = [
        f"# {', '.join(label.values())} on the {c['split']} split of {c['name']}",
        "",
        f"{r['chars']:,} characters (corpus characters {c['start']:,} to {c['end']:,}); traced in {r['seconds']} s "
        f"(load average {r['load_average']}).",
        "",
        "| model | kind | layers | hidden | nats/char |",
        "|---|---|---|---|---|",
        *(f"| {n} | {m['kind']} | {m['layers']} | {m['hidden']} | {m['nats']:.4f} |" for n, m in models.items()),
        "",
        "## Gate saturation (paper's figure 3, the LSTM's and the GRU's panels)",
        "",
        "A gate is left-saturated below 0.1 and right-saturated above 0.9; each dot is one cell.",
        "",
    ]
    if any(m["saturation"] for m in models.values()):
        lines += ["![](gate_saturation.svg)", ""]
    for n, m in models.items():
        if m["saturation"]:
            lines += [f"{label[n]}:", "", markdown_table(pd.DataFrame(m["saturation_summary"]), "{:.4f}"), ""]
        else:
            lines += [f"{label[n]}: {NAMED[m['kind']]} has no gates.", ""]
    lines += [
        "## The long-memory test: closing quotes against their distance from the opening quote",
        "",
        "The mean probability each model gave the closing double quote, by how many characters back the "
        "quote opened (the paper's closing-brace figure, section 4.3, applied to quotes).",
        "",
    ]
    if any(m["quote_memory"] is not None for m in models.values()):
        lines += ["![](quote_memory.svg)", ""]
    for n, m in models.items():
        if m["quote_memory"] is not None:
            lines += [f"{label[n]}:", "", markdown_table(m["quote_memory"]), ""]
    lines += ["## Error breakdown (paper's section 4.4)", ""]
    if any(m["error_breakdown"] is not None for m in models.values()):
        lines += ["![](error_breakdown.svg)", ""]
        for n, m in models.items():
            if m["error_breakdown"] is not None:
                b = m["error_breakdown"]
                lines += [
                    f"{label[n]}: {b.attrs['errors']:,} errors among {b.attrs['characters']:,} characters.",
                    "",
                    markdown_table(b.drop(columns="definition")),
                    "",
                ]
    else:
        lines += ["No model has an n-gram (ngram.npz): run `analyse --train-ngram` on one first.", ""]
    return "\n".join(lines)
