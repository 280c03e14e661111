"""Every cell's page, as data: the explanation record read, and the plain functions a page calls.

`load` reads a model's `explain.json` (written by `lstm_viz.find.explainer.build_for_corpus` and
`write`), `table`, `entry` and `search` read the record, and `writes`, `drivers` and `steer`
compute the rest of a page from the weights.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import torch

from ..core.edits import Clamp
from ..core.kernel import GATES_OF
from ..core.vocab import normalise
from ..io import checkpoint
from . import explainer


def load(model_folder) -> dict | None:
    """The explanation record of a model folder (or shipped model name); None if it has none.

    The dict gains "stale": True when the weights changed since it was built. A file that is
    not an explanation record raises ValueError.
    """
    folder = checkpoint.resolve(model_folder)
    path = folder / explainer.FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(record, dict) or record.get("format") != explainer.FORMAT:
        raise ValueError(f"{path}: not a {explainer.FORMAT} file")
    recorded = record.get("model", {}).get("weights_sha256")
    weights = folder / checkpoint.WEIGHTS
    record["stale"] = bool(recorded) and weights.is_file() and recorded != explainer.weights_sha256(folder)
    return record


def table(record: dict) -> pd.DataFrame:
    """The record as `lstm_viz.explain`'s DataFrame (best score first), with the causal changes."""
    rows = [
        {
            k: c[k]
            for k in (
                "layer",
                "cell",
                "label",
                "score",
                "runner_up",
                "runner_up_score",
                "key",
                "runner_up_key",
                "about",
                "sign",
                "fit",
                "pair",
            )
        }
        | {"change_low": (c["causal"] or {}).get("change_low"), "change_high": (c["causal"] or {}).get("change_high")}
        for c in record["cells"]
    ]
    frame = pd.DataFrame(rows).astype(
        {"score": float, "runner_up_score": float, "change_low": float, "change_high": float}
    )
    return frame.sort_values("score", ascending=False, kind="stable", na_position="last").reset_index(drop=True)


def entry(record: dict, layer: int, cell: int) -> dict:
    """One cell's entry; a ValueError of one line for a cell the model does not have."""
    L, H = record["layers"], record["cells_per_layer"]
    if not (0 <= layer < L and 0 <= cell < H):
        raise ValueError(f"no cell {cell} in layer {layer}: the model has {L} layers of {H} cells (from 0)")
    return record["cells"][layer * H + cell]


def search(record: dict, words: str) -> pd.DataFrame:
    """Cells whose label holds every word of `words` (case-insensitive), best score first."""
    found = table(record)
    for word in words.lower().split():
        found = found[found.label.str.lower().str.contains(word, regex=False)]
    return found.reset_index(drop=True)


def h_rms(record: dict) -> np.ndarray:
    """(L, H) typical |h| of every cell (0 where unknown)."""
    return np.array([c["h_rms"] or 0.0 for c in record["cells"]]).reshape(record["layers"], record["cells_per_layer"])


@torch.no_grad()
def writes(model, record: dict, layer: int, cell: int, k: int = 8) -> dict:
    """What the cell writes at its typical h (its RMS; the signs flip when h is negative).

    Last layer: the characters whose next-character logits it raises and lowers most (its column
    of the output weights times typical h): {"raises": [(char, logit)], "lowers": [...]}. Earlier
    layers: the next layer's cells it feeds most, |weight| x typical h summed over the kind's
    gates (`weight_blocks`): {"feeds": [(cell, amount, {gate: weight x h})]}.
    """
    typical = h_rms(record)[layer, cell]
    L, H = model.config.layers, model.config.hidden
    if layer == L - 1:
        push = model.head.weight[:, cell].cpu().numpy() * typical  # (V,)
        order = np.argsort(push)
        name = model.vocab.symbol
        return {
            "raises": [(name(int(i)), float(push[i])) for i in order[::-1][:k]],
            "lowers": [(name(int(i)), float(push[i])) for i in order[:k]],
        }
    blocks = weight_blocks(model.kind)
    w = model.layer_weights(layer + 1)[0][:, cell].cpu().numpy().reshape(len(blocks), H) * typical  # (gate, next cell)
    amount = np.abs(w).sum(axis=0)
    return {
        "feeds": [(int(j), float(amount[j]), dict(zip(blocks, map(float, w[:, j])))) for j in np.argsort(-amount)[:k]]
    }


def weight_blocks(kind: str) -> tuple[str, ...]:
    """The blocks of rows of a layer's weights, in order: an LSTM's and a GRU's gates; an RNN's one
    block, its state itself ("state")."""
    return GATES_OF[kind] or ("state",)


@torch.no_grad()
def drivers(model, record: dict, layer: int, cell: int, k: int = 8) -> list[tuple]:
    """The inputs that drive the cell's gates most: |weight| x typical activation, summed over the
    kind's gates (`weight_blocks`), best first: (source, index, amount, {gate: weight x activation}). source is
    "layer L" (the same layer's h at t - 1, or the layer below's h at t) or "character" (layer 0's
    input: the character's embedding through the input weights)."""
    H = model.config.hidden
    typical = h_rms(record)
    blocks = weight_blocks(model.kind)
    gates = np.arange(len(blocks)) * H + cell
    w_ih, w_hh = (w.cpu().numpy() for w in model.layer_weights(layer)[:2])
    found = [(f"layer {layer}", j, w_hh[gates, j] * typical[layer, j]) for j in range(H)]
    if layer > 0:
        found += [(f"layer {layer - 1}", j, w_ih[gates, j] * typical[layer - 1, j]) for j in range(H)]
    else:
        push = model.embedding.weight.cpu().numpy() @ w_ih[gates].T  # (V, G)
        found += [("character", model.vocab.symbol(v), push[v]) for v in range(1, len(push))]
    found.sort(key=lambda f: -np.abs(f[2]).sum())
    return [(s, j, float(np.abs(g).sum()), dict(zip(blocks, map(float, g)))) for s, j, g in found[:k]]


def steer(
    model,
    prime: str,
    layer: int,
    cell: int,
    low: float,
    high: float,
    n: int = 200,
    temperature: float = 0.8,
    seed: int = 0,
) -> dict:
    """{"plain", "low", "high"}: `n` characters after `prime` with the cell's memory (an LSTM's raw
    c, a GRU's or RNN's h) held at `low` and at `high` over the prime and the whole generation, and
    with no edit, all from one seed."""
    prime = normalise(prime) or "\n"
    return {
        "plain": model.sample(prime, n, temperature, seed),
        **{
            name: model.sample(prime, n, temperature, seed, interventions=[Clamp(layer, cell, value)])
            for name, value in (("low", low), ("high", high))
        },
    }
