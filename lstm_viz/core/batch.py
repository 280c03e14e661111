"""Tracing several texts at once: one fused kernel call per layer and span of steps for all of them.

An LSTM is causal, so texts laid side by side in the kernel's batch and run from the start each
get exactly their own result. The batch runs span by span, cut where a text ends (shortest
first): a text that has ended leaves the batch, so no step is spent on padding and each text's
final state is the state after its own last character. Each text's tanh(c) is then recovered
from its own h as in a single trace (`kernel.cells_from_hidden`), so a batched trace equals
`model.trace(text)` to float rounding (tests check 1e-5). On CUDA the matmuls run in full
float32, as in `trace` (`kernel.float32_matmuls`).

With `workers` > 1 the work is spread over that many threads, each running torch on one thread,
so that no step ever waits for another thread. (Two OpenMP threads share each step's matrix
product and meet at a barrier after it; when another program holds one of the cores, every step
waits for a thread that is not running.) A batch of at least `GROUP` texts per worker is cut into
`workers` groups of texts, each traced side by side on its own thread; a smaller one runs as a
pipeline, each layer on its own thread `CHUNK` steps behind the layer below it. The traces equal
those of `workers=1` to float rounding (tests check 1e-5; with the shipped models on this
machine's CPU, a pipeline's were bitwise those of one thread).
"""

from __future__ import annotations

import queue
from contextlib import nullcontext

import numpy as np
import torch

from .kernel import cells_from_hidden, float32_matmuls, plain_layer
from .threads import in_threads, torch_threads
from .trace import Trace, trace, trace_weights
from .vocab import normalise

CHUNK = 128  # steps a layer hands to the layer above at a time, in a pipeline
GROUP = 8  # texts per worker, at least, before a batch is cut into groups (below it the pipeline was faster)


def spans(lengths: list[int], chunk: int | None = None) -> list[tuple[int, int, int]]:
    """(start, stop, running) over the steps of texts of these lengths, longest first: cut where a
    text ends and, with `chunk`, every `chunk` steps; the first `running` texts go on over the span."""
    cuts = set(lengths) | (set(range(chunk, max(lengths), chunk)) if chunk else set())
    out, start = [], 0
    for stop in sorted(cuts):
        out.append((start, stop, sum(n >= stop for n in lengths)))
        start = stop
    return out


class Layers:
    """Every layer of a model over texts x (B, T, E) padded at the end, longest first, from the zero state."""

    def __init__(self, x: torch.Tensor, lengths: list[int], params: list, kind: str = "lstm"):
        B, T, _ = x.shape
        L, H = len(params), params[0][1].shape[1]
        self.x, self.lengths, self.params, self.kind = x, lengths, params, kind
        self.out = [x.new_empty(B, T, H) for _ in range(L)]  # each (B, T, H): h_t of that layer
        self.h, self.c = x.new_zeros(L, B, H), x.new_zeros(L, B, H)  # the state after each text's last step

    def run(self, layer: int, start: int, stop: int, running: int) -> None:
        """Steps start..stop of one layer for the first `running` texts."""
        below = self.x if layer == 0 else self.out[layer - 1]
        h, c = self.h[layer : layer + 1, :running], self.c[layer : layer + 1, :running]
        if self.kind != "lstm":  # a GRU or an RNN: h alone
            seg, h_n = plain_layer(self.kind, below[:running, start:stop], h[0], self.params[layer])
            self.out[layer][:running, start:stop], self.h[layer, :running] = seg, h_n
            return
        seg, h_n, c_n = torch.lstm(
            below[:running, start:stop], (h, c), list(self.params[layer]), True, 1, 0.0, False, False, True
        )
        self.out[layer][:running, start:stop], self.h[layer, :running], self.c[layer, :running] = seg, h_n[0], c_n[0]

    @torch.no_grad()  # grad mode is per thread: a pipeline's threads set it themselves
    def all(self, layers: range, chunk: int | None = None, inbox=None, outbox=None) -> None:
        """Run `layers` over every span; with an `inbox`, each span once the layer below has sent it."""
        todo = iter(inbox.get, None) if inbox is not None else spans(self.lengths, chunk)
        try:
            for span in todo:
                for layer in layers:
                    self.run(layer, *span)
                if outbox is not None:
                    outbox.put(span)
        finally:
            if outbox is not None:
                outbox.put(None)  # the end, also when this stage failed: the next one stops waiting

    def pipeline(self, stages: int) -> None:
        """The layers cut into `stages` consecutive groups, each on its own thread, one torch thread each."""
        L = len(self.params)
        cuts = [round(k * L / stages) for k in range(stages + 1)]
        boxes = [None] + [queue.SimpleQueue() for _ in range(stages - 1)] + [None]
        in_threads([(self.all, range(cuts[k], cuts[k + 1]), CHUNK, boxes[k], boxes[k + 1]) for k in range(stages)])


def groups(lengths: list[int], n: int) -> list[list[int]]:
    """Indices cut into n groups of about equal total length (longest first, each to the lightest group)."""
    out, load = [[] for _ in range(n)], [0] * n
    for b in sorted(range(len(lengths)), key=lambda b: -lengths[b]):
        k = load.index(min(load))
        out[k].append(b)
        load[k] += lengths[b]
    return [g for g in out if g]


@torch.no_grad()
def trace_batch(model, texts: list[str], workers: int = 1) -> list[Trace]:
    """`model.trace(text)` of every text (from the zero state, no interventions), run as one batch,
    on `workers` threads of one torch thread each when > 1 (see the module's docstring)."""
    texts = [normalise(t) for t in texts]
    live = [b for b, t in enumerate(texts) if t]  # empty texts are traced on their own (nothing to run)
    traced: dict[int, Trace] = {}
    if workers > 1 and len(live) >= GROUP * workers:
        parts = [[live[i] for i in g] for g in groups([len(texts[b]) for b in live], workers)]
        found = in_threads([(side_by_side, model, [texts[b] for b in part], 1) for part in parts])
        for part, traces in zip(parts, found):
            traced.update(zip(part, traces))
    elif live:
        with torch_threads(1) if workers > 1 else nullcontext():
            traced.update(zip(live, side_by_side(model, [texts[b] for b in live], workers)))
    return [traced[b] if b in traced else trace(model, texts[b]) for b in range(len(texts))]


@torch.no_grad()
def side_by_side(model, texts: list[str], stages: int = 1) -> list[Trace]:
    """The traces of non-empty, normalised texts run side by side in one batch, its layers in
    `stages` pipelined threads (one: in this thread, layer after layer)."""
    ids = [model.vocab.encode(t) for t in texts]
    L, H = model.config.layers, model.config.hidden
    device = model.head.weight.device
    lengths = [len(i) for i in ids]
    order = sorted(range(len(texts)), key=lambda b: -lengths[b])  # longest first: those still running lead
    params = [model.layer_weights(layer) for layer in range(L)]
    xs = [model.embedding(torch.as_tensor(ids[b], device=device)) for b in order]  # each (T_b, E)
    weights = trace_weights(model, params)
    embedding = model.embedding.weight.detach().cpu().numpy()
    zeros, zero = np.zeros((L, H), np.float32), torch.zeros(H, device=device)
    lstm = model.config.kind == "lstm"
    with float32_matmuls() if device.type == "cuda" else nullcontext():
        x = torch.nn.utils.rnn.pad_sequence(xs, batch_first=True)
        run = Layers(x, [lengths[b] for b in order], params, model.config.kind)
        if stages > 1 and L > 1:
            run.pipeline(min(stages, L))
        else:
            run.all(range(L))
        traces = [None] * len(texts)
        for k, b in enumerate(order):
            hidden = np.empty((L, lengths[b], H), np.float32)
            cell = np.empty((L, lengths[b], H), np.float32) if lstm else hidden  # a GRU's or RNN's memory is h
            below = xs[k]
            for layer in range(L):
                out = run.out[layer][k, : lengths[b]]  # (T_b, H)
                if lstm:
                    into = torch.from_numpy(cell[layer]) if device.type == "cpu" else None  # written in place
                    tanh_c = cells_from_hidden(below, out, zero, zero, params[layer], into)
                    if into is None:
                        cell[layer] = tanh_c.cpu().numpy()
                hidden[layer] = out.cpu().numpy()
                below = out
            log_probs = torch.log_softmax(model.head(below), -1).cpu().numpy()  # (T_b, V)
            final = (run.h[:, k].cpu().numpy(), run.c[:, k].cpu().numpy()) if lstm else (run.h[:, k].cpu().numpy(),)
            traces[b] = Trace(
                text=texts[b],
                ids=ids[b],
                cell=cell,
                hidden=hidden,
                log_probs=log_probs,
                initial=(zeros, zeros) if lstm else (zeros,),
                final=final,
                vocab=model.vocab,
                weights=weights,
                embedding=embedding,
                kind=model.config.kind,
            )
    return traces
