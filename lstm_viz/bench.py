"""The library's `python -m lstm_viz bench` command: trace vs plain nn.LSTM forward, the step-by-step
reference loop, memory, training speed. Installed with the package, so it runs on any machine
(e.g. `--train-only --device cuda` before a sweep); the scripts in `benchmarks/` (not installed)
measure the other figures of docs/performance.md (browser, finder, interventions, analyses)."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.nn import functional

from .core import reference
from .core.model import CharLSTM, Config
from .core.vocab import Vocab

ALPHABET = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"()[]{}<>=+-*/&|#_\n\t"))


def best_of(fn, repeats: int) -> float:
    """Fastest of `repeats` wall-clock runs, in seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def train_speed(
    model: CharLSTM, batch: int = 32, seq: int = 128, steps: int = 5, device: str = "cpu"
) -> tuple[float, float]:
    """Chars/s of our training step (embedding, dropout, carried state, clipping, Adam as train.py
    sets it up) and of a bare nn.LSTM (cuDNN on a GPU) + linear + Adam step of the same shape."""
    V, E, H, L = model.config.vocab_size, model.config.embed, model.config.hidden, model.config.layers
    device = torch.device(device)
    fused = device.type == "cuda"
    model = model.to(device).train()
    ids = torch.randint(1, V, (batch, seq + 1), device=device)
    opt = torch.optim.Adam(model.parameters(), 1e-3, fused=fused)
    state = None

    def ours():
        nonlocal state
        logits, state = model(ids[:, :-1], state)
        state = tuple(s.detach() for s in state)
        loss = functional.cross_entropy(logits.flatten(0, 1), ids[:, 1:].flatten())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    lstm = torch.nn.LSTM(E, H, L, batch_first=True).to(device)
    head = torch.nn.Linear(H, V).to(device)
    x = torch.randn(batch, seq, E, device=device)
    bare_opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], 1e-3, fused=fused)

    def bare():
        loss = functional.cross_entropy(head(lstm(x)[0]).flatten(0, 1), ids[:, 1:].flatten())
        bare_opt.zero_grad()
        loss.backward()
        bare_opt.step()

    def timed(step, n):
        step()  # warm-up: cuDNN plans, allocator
        if fused:
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        if fused:
            torch.cuda.synchronize(device)
        return (time.perf_counter() - t0) / n

    n = 20 if fused else 1
    t_ours = min(timed(ours, n) for _ in range(steps))
    t_bare = min(timed(bare, n) for _ in range(steps))
    model.cpu().eval()
    return batch * seq / t_ours, batch * seq / t_bare


def train_report(model: CharLSTM, batch: int, seq: int, device: str, steps: int = 5) -> None:
    """Print our training step's chars/s against the bare nn.LSTM step's."""
    ours, bare = train_speed(model, batch, seq, steps, device)
    where = torch.cuda.get_device_name(device) if device.startswith("cuda") else "CPU"
    print(
        f"training step (batch {batch} x {seq}, {where}): {ours:,.0f} chars/s vs bare nn.LSTM step "
        f"{bare:,.0f} chars/s = {ours / bare:.2f}x"
    )


def bench_model(model_name: str | None, layers: int = 2, hidden: int = 512) -> CharLSTM:
    """A shipped or saved model, or a random one of the given shape."""
    from .io import checkpoint

    if model_name:
        return checkpoint.load(model_name)
    torch.manual_seed(0)
    vocab = Vocab(ALPHABET)
    return CharLSTM(Config(len(vocab), layers=layers, hidden=hidden, embed=64), vocab).eval()


def run(model_name: str | None = None, quick: bool = False) -> None:
    model = bench_model(model_name)
    c = model.config
    repeats = 2 if quick else 7
    rng = np.random.default_rng(0)
    print(
        f"model: {model_name or 'random'} {c.layers} x {c.hidden}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; best of {repeats} runs"
    )
    for n in (1_000, 10_000):
        text = "".join(rng.choice(model.vocab.chars, n))
        ids = torch.as_tensor(model.vocab.encode(text))

        def forward(ids=ids):
            with torch.no_grad():
                model(ids[None])

        pairs = [
            (best_of(forward, 1), best_of(lambda text=text: model.trace(text), 1))  # interleaved: load hits both
            for _ in range(repeats)
        ]
        t_fwd, t_trace = min(f for f, _ in pairs), min(t for _, t in pairs)
        paired = float(np.median([t / f for f, t in pairs]))
        t_naive = best_of(lambda text=text: reference.run(model, text), 1 if n > 1000 or quick else 2)
        print(
            f"{n:>6,} chars: nn.LSTM forward {t_fwd * 1e3:7.1f} ms | trace {t_trace * 1e3:7.1f} ms "
            f"= {t_trace / t_fwd:.2f}x (median of paired runs {paired:.2f}x) | "
            f"step-by-step reference loop {t_naive * 1e3:7.1f} ms = {t_naive / t_fwd:.2f}x"
        )
    before = rss_mb()
    tr = model.trace("".join(rng.choice(model.vocab.chars, 10_000)))
    held = sum(a.nbytes for a in (tr.cell, tr.hidden, tr.log_probs, tr.ids)) / 2**20
    print(f"10,000-char trace holds {held:.1f} MiB of activations; process RSS grew {rss_mb() - before:.1f} MiB")
    train_report(model, 32, 128, "cpu", steps=2 if quick else 5)
