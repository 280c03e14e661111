"""Tracing several texts at once: one fused kernel call per layer and length segment for all of them.

An LSTM is causal, so texts laid side by side in the kernel's batch and run from the start each
get exactly their own result. The batch runs segment by segment between the texts' lengths
(shortest first): a text that has ended leaves the batch, so no step is spent on padding and
each text's final state is the state after its own last character. Each text's tanh(c) is then
recovered from its own h as in a single trace (`kernel.cells_from_hidden`), so a batched trace
equals `model.trace(text)` to float rounding (tests check 1e-5). On CUDA the matmuls run in full
float32, as in `trace` (`kernel.float32_matmuls`).
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch

from .kernel import cells_from_hidden, float32_matmuls
from .trace import Trace, trace
from .vocab import normalise


def batch_layer(xs: list[torch.Tensor], params) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """One layer over texts xs (each (T_b, in), T_b > 0) from the zero state, through the fused kernel.

    Returns each text's h (T_b, H) and the final h, c (B, H) after each text's own last character.
    """
    B, H = len(xs), params[1].shape[1]
    lengths = [len(x) for x in xs]
    order = sorted(range(B), key=lambda b: -lengths[b])  # longest first: those still running lead
    x = torch.nn.utils.rnn.pad_sequence([xs[b] for b in order], batch_first=True)  # (B, T_max, in)
    out = x.new_empty(B, x.shape[1], H)  # (B, T_max, H)
    h, c = x.new_zeros(B, H), x.new_zeros(B, H)
    start = 0
    for stop in sorted(set(lengths)):
        running = sum(lengths[b] >= stop for b in order)  # the first `running` of `order`
        seg, h_n, c_n = torch.lstm(
            x[:running, start:stop],
            (h[None, :running], c[None, :running]),
            list(params),
            True,
            1,
            0.0,
            False,
            False,
            True,
        )
        out[:running, start:stop], h[:running], c[:running] = seg, h_n[0], c_n[0]
        start = stop
    back = [0] * B
    for i, b in enumerate(order):
        back[b] = i
    back = torch.as_tensor(back)
    return [out[back[b], : lengths[b]] for b in range(B)], h[back], c[back]


@torch.no_grad()
def trace_batch(model, texts: list[str]) -> list[Trace]:
    """`model.trace(text)` of every text (from the zero state, no interventions), run as one batch."""
    texts = [normalise(t) for t in texts]
    ids = [model.vocab.encode(t) for t in texts]
    live = [b for b, i in enumerate(ids) if len(i)]  # empty texts are traced on their own (nothing to run)
    L, H = model.config.layers, model.config.hidden
    device = model.head.weight.device
    xs = [model.embedding(torch.as_tensor(ids[b], device=device)) for b in live]  # each (T_b, E)
    cells = {b: np.empty((L, len(ids[b]), H), dtype=np.float32) for b in live}
    hiddens = {b: np.empty((L, len(ids[b]), H), dtype=np.float32) for b in live}
    finals = {b: (np.empty((L, H), dtype=np.float32), np.empty((L, H), dtype=np.float32)) for b in live}
    zero = torch.zeros(H, device=device)
    with float32_matmuls() if device.type == "cuda" else nullcontext():
        for layer in range(L if live else 0):
            params = model.layer_weights(layer)
            outs, h_n, c_n = batch_layer(xs, params)
            for k, b in enumerate(live):
                into = torch.from_numpy(cells[b][layer]) if device.type == "cpu" else None  # written in place
                tanh_c = cells_from_hidden(xs[k], outs[k], zero, zero, params, into)
                if into is None:
                    cells[b][layer] = tanh_c.cpu().numpy()
                hiddens[b][layer] = outs[k].cpu().numpy()
                finals[b][0][layer], finals[b][1][layer] = h_n[k].cpu().numpy(), c_n[k].cpu().numpy()
            xs = outs
        log_probs = torch.log_softmax(model.head(torch.cat(xs)), -1).cpu().numpy() if live else None  # (sum T_b, V)
    bounds = np.cumsum([0] + [len(ids[b]) for b in live])
    weights = [
        tuple(w.detach().cpu().numpy() for w in (p[0], p[1], p[2] + p[3])) for p in map(model.layer_weights, range(L))
    ]
    embedding = model.embedding.weight.detach().cpu().numpy()
    zeros = np.zeros((L, H), dtype=np.float32)
    traces = {
        b: Trace(
            text=texts[b],
            ids=ids[b],
            cell=cells[b],
            hidden=hiddens[b],
            log_probs=log_probs[bounds[k] : bounds[k + 1]].copy(),
            initial=(zeros, zeros),
            final=finals[b],
            vocab=model.vocab,
            weights=weights,
            embedding=embedding,
        )
        for k, b in enumerate(live)
    }
    return [traces[b] if b in traces else trace(model, texts[b]) for b in range(len(texts))]
