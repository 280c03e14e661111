"""Training: truncated BPTT with carried state, clipping, lr decay, early stopping, DDP."""
from __future__ import annotations

import math
import os
import platform
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from . import checkpoint
from .data import read_corpus, sha256, split_bounds, streams, windows
from .evaluate import bits, evaluate
from .model import CharLSTM, Config
from .resume import load_state, save_state
from .vocab import Vocab


@dataclass
class TrainArgs:
    corpus: str
    out: str
    layers: int = 2
    hidden: int = 512
    embed: int = 64
    dropout: float = 0.25
    forget_bias: float = 1.0
    epochs: int = 30
    batch: int = 64
    seq_len: int = 128
    lr: float = 2e-3
    lr_decay: float = 0.9  # multiply the lr by this after every epoch from --decay-after on
    decay_after: int = 5
    clip: float = 5.0
    patience: int = 3  # stop after this many epochs without a better validation loss
    min_count: int = 5
    seed: int = 0
    max_minutes: float = 0.0  # stop before an epoch that would end past this (0: no limit)
    storage: str = "float32"  # float16 halves the weights file (loading widens it exactly)
    resume: bool = False


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def train(args: TrainArgs, quiet: bool = False) -> dict:
    """Train a CharLSTM on args.corpus; the best-on-validation model ends up in args.out."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if args.storage not in checkpoint.STORAGE:
        raise ValueError(f"--storage must be one of {', '.join(checkpoint.STORAGE)}, not {args.storage!r}")
    torch.manual_seed(args.seed)
    text = read_corpus(args.corpus)
    bounds = split_bounds(len(text))
    vocab = Vocab.from_text(text[slice(*bounds["train"])], args.min_count)
    ids = torch.as_tensor(vocab.encode(text))
    part = {k: ids[a:b] for k, (a, b) in bounds.items()}
    train_data = streams(part["train"], args.batch * world)[rank::world].to(device)  # (B, N)
    config = Config(len(vocab), args.layers, args.hidden, args.embed, args.dropout, args.forget_bias)
    model = CharLSTM(config, vocab).to(device)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, fused=device.type == "cuda")  # one kernel per step on GPU
    counters = {"epoch": 0, "best_val": math.inf, "bad_epochs": 0, "wall_s": 0.0, "history": []}
    if args.resume:
        counters = load_state(args.out, model, opt) or counters
    start = time.time() - counters["wall_s"]
    steps = math.ceil((train_data.shape[1] - 1) / args.seq_len)
    for epoch in range(counters["epoch"], args.epochs):
        if counters["bad_epochs"] >= args.patience:
            break
        model.train()
        rng = random.Random(args.seed * 1000 + epoch)
        state, total, count, t0 = None, 0.0, 0, time.time()
        bar = tqdm(windows(train_data, args.seq_len, rng.randrange(args.seq_len)), total=steps,
                   desc=f"epoch {epoch + 1}/{args.epochs}", disable=quiet or rank != 0, leave=False,
                   mininterval=2.0)
        for x, y in bar:
            logits, state = net(x, state)
            state = tuple(s.detach() for s in state)
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            total, count = total + loss.detach() * y.numel(), count + y.numel()
            if bar.n % 50 == 0:  # reading the loss waits for the GPU: not every step
                bar.set_postfix(loss=f"{total.item() / count:.3f}",
                                chars_s=f"{count * world / (time.time() - t0):,.0f}", refresh=False)
        total = total.item()
        val = evaluate(model, part["val"].to(device))
        improved = val < counters["best_val"]
        counters["history"].append({"epoch": epoch + 1, "train": total / count, "val": val,
                                    "lr": opt.param_groups[0]["lr"], "chars_s": count * world / (time.time() - t0)})
        counters.update(epoch=epoch + 1, best_val=min(val, counters["best_val"]),
                        bad_epochs=0 if improved else counters["bad_epochs"] + 1, wall_s=time.time() - start)
        if epoch + 1 >= args.decay_after:
            for group in opt.param_groups:
                group["lr"] *= args.lr_decay
        if rank == 0:
            if improved:
                checkpoint.save(model, args.out, card(args, counters, device), args.storage)
            save_state(args.out, model, opt, counters)
            if not quiet:
                tqdm.write(f"epoch {epoch + 1}: train {total / count:.4f} val {val:.4f} nats/char"
                           f"{' (best)' if improved else ''} [{time.time() - t0:.0f} s]")
        if args.max_minutes and counters["wall_s"] + (time.time() - t0) > args.max_minutes * 60:
            break  # another epoch like this one would end past the time limit
    if world > 1:
        dist.barrier()
    result = finish(args, part, device, counters) if rank == 0 else {}
    if world > 1:
        dist.destroy_process_group()
    return result


def card(args: TrainArgs, counters: dict, device, losses: dict | None = None) -> dict:
    """The card.json of the best model so far: data, split, figures, hardware, versions."""
    best = min(counters["history"], key=lambda h: h["val"])
    return {
        "corpus": {"name": Path(args.corpus).name, "sha256": sha256(args.corpus)},
        "split": {"fractions": [0.8, 0.1, 0.1], "contiguous": True, "order": ["train", "val", "test"]},
        "loss": losses or {"val": {"nats": best["val"], "bits": bits(best["val"])}},
        "epochs": counters["epoch"], "best_epoch": best["epoch"], "wall_time_s": round(counters["wall_s"], 1),
        "hardware": hardware(torch.device(device)), "processes": int(os.environ.get("WORLD_SIZE", "1")),
        "training": {k: v for k, v in asdict(args).items() if k not in ("corpus", "out", "resume", "storage")},
        "history": counters["history"],
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
    }


def finish(args: TrainArgs, part: dict, device, counters: dict) -> dict:
    """Reload the best model and write its train, val and test losses into its card."""
    model = checkpoint.load(args.out, device=str(device))
    losses = {}
    for name in ("train", "val", "test"):
        nats = evaluate(model, part[name].to(device))
        losses[name] = {"nats": round(nats, 5), "bits": round(bits(nats), 5)}
    result = card(args, counters, device, losses)
    checkpoint.save(model, args.out, result, args.storage)
    return result
