"""Cross-entropy of a model on a text, in nats and bits per character."""

from __future__ import annotations

import math

import torch
from torch.nn import functional

from ..core.model import eval_mode
from .data import streams, windows


@torch.no_grad()
def evaluate(model, ids: torch.Tensor, n_streams: int = 32, seq_len: int = 512) -> float:
    """Mean nats per character of predicting ids (N,), read as parallel streams with state carried."""
    device = model.head.weight.device
    data = streams(ids, max(1, min(n_streams, len(ids) // 1000))).to(device)
    total, count, state = 0.0, 0, None
    with eval_mode(model):
        for x, y in windows(data, seq_len):
            logits, state = model(x, state)
            total += functional.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
            count += y.numel()
    return total / count


def bits(nats: float) -> float:
    return nats / math.log(2)
