"""Training: truncated BPTT with carried state, clipping, lr decay, early stopping, DDP.

A run can stop anywhere (a character budget, a signal, a killed session) and `--resume`
continues from the last saved step: weights, optimizer, carried state, RNG and the position
in the epoch are saved every `--save-minutes`.
"""

from __future__ import annotations

import math
import os
import platform
import random
import signal
import time
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from ..core.checks import check_choice
from ..core.model import KINDS, CharLSTM, Config, detach_state
from ..core.vocab import Vocab
from ..io import checkpoint
from .data import read_corpus, sample, sha256, split_bounds, streams, windows
from .evaluate import bits, evaluate
from .resume import load_state, save_state


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
    patience: int = 3  # stop after this many validations without a better loss
    min_count: int = 5
    seed: int = 0
    max_minutes: float = 0.0  # stop before an epoch that would end past this (0: no limit)
    max_chars: int = 0  # stop after this many training characters, mid-epoch if need be (0: no budget)
    decay_chars: int = 0  # over the last N characters of --max-chars the lr falls linearly to lr * --final-lr
    final_lr: float = 0.1
    threads: int = 0  # CPU threads for torch (0: torch's default)
    save_minutes: float = 5.0  # write the resume state this often within an epoch
    val_chars: int = 0  # validate on a fixed sample of this many validation characters (0: the whole split)
    val_every: int = 0  # also validate every N training characters (0: at epoch ends only)
    eval_chars: int = 0  # the card's final train/val/test losses on samples of this size (0: whole splits)
    storage: str = "float32"  # float16 halves the weights file (loading widens it exactly)
    kind: str = "lstm"  # lstm, gru or rnn (a tanh RNN)
    optimizer: str = "adam"  # adam, or rmsprop (squared-gradient average decay 0.95, as Karpathy et al.)
    init: float = 0.0  # draw every weight uniformly from [-init, init] (0: PyTorch's default initialisation)
    snapshots: int = 0  # save this many snapshots in OUT/snapshots/, spaced by characters seen, denser early
    resume: bool = False


def cpu_model() -> str:
    """The CPU's model name as lscpu gives it (from /proc/cpuinfo), else what platform knows."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_model()} CPU, {torch.get_num_threads()} threads"


def learning_rate(args: TrainArgs, epoch: int, chars: int) -> float:
    """The lr of a step: per-epoch decay from --decay-after on, then the linear tail of --max-chars."""
    lr = args.lr * args.lr_decay ** max(0, epoch - args.decay_after + 1)
    if args.max_chars and args.decay_chars:
        into_tail = chars - (args.max_chars - args.decay_chars)
        if into_tail > 0:
            lr *= 1 - (1 - args.final_lr) * min(1.0, into_tail / args.decay_chars)
    return lr


class Stop:
    """Set by SIGTERM or SIGINT: the loop saves its state after the current step and ends."""

    def __init__(self):
        self.asked = False
        self.previous = {s: signal.signal(s, self.ask) for s in (signal.SIGTERM, signal.SIGINT)}

    def ask(self, *_):
        self.asked = True

    def restore(self):
        for s, handler in self.previous.items():
            signal.signal(s, handler)


OPTIMIZERS = ("adam", "rmsprop")


def snapshot_schedule(n: int, total: int, per_step: int, first: int = 4096) -> list[int]:
    """The characters seen at which `train --snapshots n` saves: 0 (the untrained weights), then n - 1
    points spaced geometrically from max(first, one step) to `total` (denser early, where most
    changes), each at least a step beyond the one before so no two fall in one step. A snapshot is
    saved after the first step that reaches its point. A pure function of the run's arguments, so
    a resumed run saves exactly the snapshots of an uninterrupted one."""
    if n <= 0:
        return []
    start = max(first, per_step)
    total = max(total, start)
    out = [0]
    for k in range(n - 1):
        point = round(start * (total / start) ** (k / (n - 2))) if n > 2 else total
        out.append(max(point, out[-1] + per_step))
    return out


def train(args: TrainArgs, quiet: bool = False) -> dict:
    """Train a CharLSTM on args.corpus; the best-on-validation model ends up in args.out.

    Under torchrun the process group is left on every path (the end, an error, a signal).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    check_choice("--storage", args.storage, checkpoint.STORAGE)
    check_choice("--kind", args.kind, KINDS)
    check_choice("--optimizer", args.optimizer, OPTIMIZERS)
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        return _train(args, quiet, world, rank, device)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(args: TrainArgs, quiet: bool, world: int, rank: int, device: torch.device) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    text = read_corpus(args.corpus)
    corpus = {"name": Path(args.corpus).name, "sha256": sha256(args.corpus)}
    bounds = split_bounds(len(text))
    vocab = Vocab.from_text(text[slice(*bounds["train"])], args.min_count)
    ids = torch.as_tensor(vocab.encode(text))
    del text
    part = {k: ids[a:b] for k, (a, b) in bounds.items()}
    val_sample = sample(part["val"], args.val_chars).to(device)
    train_data = streams(part["train"], args.batch * world)[rank::world].to(device)  # (B, N)
    config = Config(len(vocab), args.layers, args.hidden, args.embed, args.dropout, args.forget_bias, args.kind)
    model = CharLSTM(config, vocab).to(device)
    if args.init:
        model.init_uniform(args.init)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    if args.optimizer == "rmsprop":
        opt = torch.optim.RMSprop(model.parameters(), lr=args.lr, alpha=0.95, foreach=True)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=args.lr, fused=device.type == "cuda")  # one kernel a step on GPU
    counters = {"epoch": 0, "step": 0, "chars": 0, "best_val": math.inf, "bad_evals": 0, "wall_s": 0.0, "history": []}
    carried = None
    if args.resume:
        saved = load_state(args.out, model, opt, rank)
        if saved:
            counters, carried = saved
    counters.setdefault("global_step", 0)  # steps over all epochs (a resume state from before snapshots lacks it)
    start = time.time() - counters["wall_s"]
    steps = math.ceil((train_data.shape[1] - 1) / args.seq_len)
    per_step = args.batch * args.seq_len * world
    planned = args.max_chars or args.epochs * (train_data.shape[1] - 1) * args.batch * world
    schedule = snapshot_schedule(args.snapshots, planned, per_step)
    next_snap = sum(point <= counters["chars"] for point in schedule) if counters["chars"] else 0
    snap_total, snap_count = counters.get("snapshot_loss", [0.0, 0])  # training loss since the last snapshot

    def snapshot(index: int, final: bool = False) -> None:
        """Save snapshot `index` (rank 0; never over one already saved, so a resumed run rewrites none)."""
        nonlocal snap_total, snap_count
        train_loss = float(snap_total) / snap_count if snap_count else None
        snap_total, snap_count = 0.0, 0
        folder = Path(args.out) / checkpoint.SNAPSHOTS / f"{index:02d}"
        if rank != 0 or (folder / checkpoint.CARD).is_file():
            return
        val = evaluate(model, val_sample)
        loss = {"val": {"nats": val, "bits": bits(val), "chars": len(val_sample)}}
        if train_loss is not None:
            loss["train"] = {"nats": train_loss, "bits": bits(train_loss)}
        info = {
            "corpus": corpus,
            "snapshot": index,
            "step": counters["global_step"],
            "chars_seen": counters["chars"],
            "epochs": counters["epoch"],
            "loss": loss,
            "lr": opt.param_groups[0]["lr"],
            "final": final,
            "schedule": schedule,
            "training": {k: v for k, v in asdict(args).items() if k not in ("corpus", "out", "resume", "storage")},
        }
        checkpoint.save(model, folder, info, args.storage)

    if schedule and next_snap == 0:
        snapshot(0)  # the untrained weights
        next_snap = 1
    stop, last_save = Stop(), time.time()
    total, count, t0 = 0.0, 0, time.time()

    def validate(epoch_end: bool) -> None:
        nonlocal total, count, t0
        val = evaluate(model, val_sample)
        improved = val < counters["best_val"]
        counters["history"].append(
            {
                "epoch": counters["epoch"] + (1 if epoch_end else 0),
                "chars": counters["chars"],
                "train": float(total) / max(count, 1),
                "val": val,
                "lr": opt.param_groups[0]["lr"],
                "chars_s": count * world / max(time.time() - t0, 1e-9),
            }
        )
        counters.update(
            best_val=min(val, counters["best_val"]),
            bad_evals=0 if improved else counters["bad_evals"] + 1,
            wall_s=time.time() - start,
        )
        if rank == 0:
            if improved:
                checkpoint.save(model, args.out, card(args, corpus, counters, device), args.storage)
            if not quiet:
                tqdm.write(
                    f"{counters['chars']:,} chars: train {float(total) / max(count, 1):.4f} "
                    f"val {val:.4f} nats/char{' (best)' if improved else ''} [{time.time() - t0:.0f} s]"
                )
        total, count, t0 = 0.0, 0, time.time()

    def save(state) -> None:
        counters["wall_s"] = time.time() - start
        counters["snapshot_loss"] = [float(snap_total), snap_count]
        save_state(args.out, model, opt, counters, state, rank, world)

    budget_spent = False
    for epoch in range(counters["epoch"], args.epochs):
        if counters["bad_evals"] >= args.patience or budget_spent or stop.asked:
            break
        model.train()
        rng = random.Random(args.seed * 1000 + epoch)
        state = carried if counters["step"] else None
        bar = tqdm(
            islice(windows(train_data, args.seq_len, rng.randrange(args.seq_len)), counters["step"], None),
            initial=counters["step"],
            total=steps,
            desc=f"epoch {epoch + 1}/{args.epochs}",
            disable=quiet or rank != 0,
            leave=False,
            mininterval=2.0,
        )
        for x, y in bar:
            if args.max_chars and counters["chars"] >= args.max_chars:
                budget_spent = True
                break
            for group in opt.param_groups:
                group["lr"] = learning_rate(args, epoch, counters["chars"])
            logits, state = net(x, state)
            state = detach_state(state)
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            total, count = total + loss.detach() * y.numel(), count + y.numel()
            snap_total, snap_count = snap_total + loss.detach() * y.numel(), snap_count + y.numel()
            counters["step"] += 1
            counters["global_step"] += 1
            counters["chars"] += y.numel() * world
            if next_snap < len(schedule) and counters["chars"] >= schedule[next_snap]:
                snapshot(next_snap)
                next_snap += 1
            if bar.n % 50 == 0:  # reading the loss waits for the GPU: not every step
                bar.set_postfix(
                    loss=f"{float(total) / count:.3f}",
                    chars=f"{counters['chars']:,}",
                    chars_s=f"{count * world / (time.time() - t0):,.0f}",
                    refresh=False,
                )
            if args.val_every and counters["chars"] % args.val_every < y.numel() * world:  # crossed a multiple
                validate(epoch_end=False)
                model.train()
                if counters["bad_evals"] >= args.patience:
                    break
            if agreed(time.time() - last_save > args.save_minutes * 60 or stop.asked, world):
                save(state)
                last_save = time.time()
                stop.asked = agreed(stop.asked, world)  # every process stops, or none
                if stop.asked:
                    break
        if stop.asked:  # saved in the loop above
            break
        if budget_spent or counters["bad_evals"] >= args.patience and counters["step"] < steps:
            if count:
                validate(epoch_end=False)
            save(state)
            break
        last = counters["history"][-1] if counters["history"] else None
        if count or last is None or last["chars"] != counters["chars"]:
            validate(epoch_end=True)
        else:  # validated at this very character already (nothing trained since): that entry ends the epoch
            last["epoch"] = epoch + 1
        counters.update(epoch=epoch + 1, step=0)
        save(None)
        if args.max_minutes and counters["wall_s"] + (time.time() - t0) > args.max_minutes * 60:
            break  # another epoch like this one would end past the time limit
    stop.restore()
    if world > 1:
        dist.barrier()
    done = rank == 0 and counters["history"] and not stop.asked  # a signal only saves: --resume goes on
    if done and 0 < next_snap < len(schedule) and counters["chars"] > schedule[next_snap - 1]:
        snapshot(next_snap, final=True)  # the weights training ended with, short of the planned total
    return finish(args, corpus, part, device, counters) if done else {}


def agreed(flag: bool, world: int) -> bool:
    """True on every process when it is true on any (time-based saves happen everywhere at once)."""
    if world == 1:
        return flag
    t = torch.tensor([float(flag)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def card(args: TrainArgs, corpus: dict, counters: dict, device, losses: dict | None = None) -> dict:
    """The card.json of the best model so far: data, split, figures, hardware, versions."""
    best = min(counters["history"], key=lambda h: h["val"])
    return {
        "corpus": corpus,
        "split": {"fractions": [0.8, 0.1, 0.1], "contiguous": True, "order": ["train", "val", "test"]},
        "loss": losses or {"val": {"nats": best["val"], "bits": bits(best["val"])}},
        "epochs": counters["epoch"],
        "best_epoch": best["epoch"],
        "chars_seen": best["chars"],
        "wall_time_s": round(counters["wall_s"], 1),
        "hardware": hardware(torch.device(device)),
        "processes": int(os.environ.get("WORLD_SIZE", "1")),
        "training": {k: v for k, v in asdict(args).items() if k not in ("corpus", "out", "resume", "storage")},
        "history": counters["history"],
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
    }


def finish(args: TrainArgs, corpus: dict, part: dict, device, counters: dict) -> dict:
    """Reload the best model and write its train, val and test losses into its card."""
    model = checkpoint.load(args.out, device=str(device))
    losses = {}
    for name in ("train", "val", "test"):
        nats = evaluate(model, sample(part[name], args.eval_chars).to(device))
        losses[name] = {
            "nats": round(nats, 5),
            "bits": round(bits(nats), 5),
            "chars": min(len(part[name]), args.eval_chars or len(part[name])),
        }
    result = card(args, corpus, counters, device, losses)
    checkpoint.save(model, args.out, result, args.storage)
    return result
