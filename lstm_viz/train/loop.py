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
from dataclasses import asdict, dataclass, field, fields
from itertools import islice
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn import functional
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


@dataclass
class Progress:
    """Where a run stands: the resume state's counters (OUT/resume/state.json), so that `--resume`
    goes on from here."""

    epoch: int = 0  # epochs finished
    step: int = 0  # steps into the current epoch
    global_step: int = 0  # steps over all epochs
    chars: int = 0  # training characters seen, over all processes
    best_val: float = math.inf  # the best validation loss so far, nats per character
    bad_evals: int = 0  # validations since the last better one
    wall_s: float = 0.0  # seconds of training, over the runs this one resumes
    history: list = field(default_factory=list)  # one entry per validation
    snapshot_loss: list = field(default_factory=lambda: [0.0, 0])  # training loss sum and count since the last snapshot

    @classmethod
    def of(cls, saved: dict) -> Progress:
        """The progress a resume state holds (a state saved before a counter existed starts it at its default)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in names})


@dataclass
class Run:
    """What a training run holds fixed: its arguments, data, model and optimizer, and where it runs."""

    args: TrainArgs
    corpus: dict  # name and sha256 of the corpus file
    part: dict  # split name -> its character ids
    train_data: torch.Tensor  # (B, N) this process's streams of training characters
    val_sample: torch.Tensor  # the validation characters every validation reads
    model: CharLSTM
    net: torch.nn.Module  # the model, wrapped in DistributedDataParallel under torchrun
    opt: torch.optim.Optimizer
    schedule: list  # characters seen at which snapshots are saved
    device: torch.device
    world: int
    rank: int
    quiet: bool
    start: float = 0.0  # time.time() at which the run would have begun, had it never stopped


@dataclass
class Losses:
    """The training loss summed since the last validation and since the last snapshot (tensors on
    the device once training runs: reading one waits for the GPU)."""

    total: object = 0.0
    count: int = 0
    since: float = field(default_factory=time.time)  # when the last validation ended
    snap_total: object = 0.0
    snap_count: int = 0

    def add(self, summed, n: int) -> None:
        self.total, self.count = self.total + summed, self.count + n
        self.snap_total, self.snap_count = self.snap_total + summed, self.snap_count + n

    def mean(self) -> float:
        return float(self.total) / max(self.count, 1)

    def restart(self) -> None:
        self.total, self.count, self.since = 0.0, 0, time.time()


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
        return _train(setup(args, quiet, world, rank, device))
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(run: Run) -> dict:
    """The training loop: epochs of truncated BPTT windows, validating, saving and snapshotting."""
    args, world = run.args, run.world
    p, carried = Progress(), None
    if args.resume and (saved := load_state(args.out, run.model, run.opt, run.rank)):
        p, carried = Progress.of(saved[0]), saved[1]
    run.start = time.time() - p.wall_s
    losses = Losses(snap_total=p.snapshot_loss[0], snap_count=p.snapshot_loss[1])
    steps = math.ceil((run.train_data.shape[1] - 1) / args.seq_len)
    next_snap = sum(point <= p.chars for point in run.schedule) if p.chars else 0
    if run.schedule and next_snap == 0:
        snapshot(run, p, losses, 0)  # the untrained weights
        next_snap = 1
    stop, last_save = Stop(), time.time()
    losses.restart()
    budget_spent = False
    for epoch in range(p.epoch, args.epochs):
        if p.bad_evals >= args.patience or budget_spent or stop.asked:
            break
        run.model.train()
        state = carried if p.step else None
        bar = epoch_bar(run, epoch, p.step, steps)
        for x, y in bar:
            if args.max_chars and p.chars >= args.max_chars:
                budget_spent = True
                break
            state = train_step(run, x, y, state, learning_rate(args, epoch, p.chars), losses)
            p.step, p.global_step, p.chars = p.step + 1, p.global_step + 1, p.chars + y.numel() * world
            if next_snap < len(run.schedule) and p.chars >= run.schedule[next_snap]:
                snapshot(run, p, losses, next_snap)
                next_snap += 1
            if bar.n % 50 == 0:  # reading the loss waits for the GPU: not every step
                chars_s = losses.count * world / (time.time() - losses.since)
                bar.set_postfix(
                    loss=f"{losses.mean():.3f}", chars=f"{p.chars:,}", chars_s=f"{chars_s:,.0f}", refresh=False
                )
            if args.val_every and p.chars % args.val_every < y.numel() * world:  # crossed a multiple
                validate(run, p, losses, epoch_end=False)
                run.model.train()
                if p.bad_evals >= args.patience:
                    break
            if agreed(time.time() - last_save > args.save_minutes * 60 or stop.asked, world):
                save_resume(run, p, losses, state)
                last_save = time.time()
                stop.asked = agreed(stop.asked, world)  # every process stops, or none
                if stop.asked:
                    break
        if stop.asked:  # saved in the loop above
            break
        if budget_spent or p.bad_evals >= args.patience and p.step < steps:
            if losses.count:
                validate(run, p, losses, epoch_end=False)
            save_resume(run, p, losses, state)
            break
        last = p.history[-1] if p.history else None
        if losses.count or last is None or last["chars"] != p.chars:
            validate(run, p, losses, epoch_end=True)
        else:  # validated at this very character already (nothing trained since): that entry ends the epoch
            last["epoch"] = epoch + 1
        p.epoch, p.step = epoch + 1, 0
        save_resume(run, p, losses, None)
        if args.max_minutes and p.wall_s + (time.time() - losses.since) > args.max_minutes * 60:
            break  # another epoch like this one would end past the time limit
    stop.restore()
    if world > 1:
        dist.barrier()
    done = run.rank == 0 and p.history and not stop.asked  # a signal only saves: --resume goes on
    if done and 0 < next_snap < len(run.schedule) and p.chars > run.schedule[next_snap - 1]:
        snapshot(run, p, losses, next_snap, final=True)  # the weights training ended with, short of the planned total
    return finish(run, p) if done else {}


def setup(args: TrainArgs, quiet: bool, world: int, rank: int, device: torch.device) -> Run:
    """Read the corpus, split it, build the vocabulary, the model and the optimizer."""
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
    planned = args.max_chars or args.epochs * (train_data.shape[1] - 1) * args.batch * world
    schedule = snapshot_schedule(args.snapshots, planned, args.batch * args.seq_len * world)
    return Run(args, corpus, part, train_data, val_sample, model, net, opt, schedule, device, world, rank, quiet)


def epoch_bar(run: Run, epoch: int, done: int, steps: int) -> tqdm:
    """The epoch's windows from step `done` on (a resumed epoch skips those trained), with a progress bar."""
    args = run.args
    rng = random.Random(args.seed * 1000 + epoch)
    return tqdm(
        islice(windows(run.train_data, args.seq_len, rng.randrange(args.seq_len)), done, None),
        initial=done,
        total=steps,
        desc=f"epoch {epoch + 1}/{args.epochs}",
        disable=run.quiet or run.rank != 0,
        leave=False,
        mininterval=2.0,
    )


def train_step(run: Run, x: torch.Tensor, y: torch.Tensor, state, lr: float, losses: Losses):
    """One optimizer step on a window (x, y), (B, seq_len) each, from the carried `state`; the
    state to carry into the next window."""
    for group in run.opt.param_groups:
        group["lr"] = lr
    logits, state = run.net(x, state)
    loss = functional.cross_entropy(logits.flatten(0, 1), y.flatten())
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.args.clip)
    run.opt.step()
    losses.add(loss.detach() * y.numel(), y.numel())
    return detach_state(state)


def validate(run: Run, p: Progress, losses: Losses, epoch_end: bool) -> None:
    """Validate, add the result to the history, and save the model (rank 0) when it is the best yet."""
    val = evaluate(run.model, run.val_sample)
    improved = val < p.best_val
    p.history.append(
        {
            "epoch": p.epoch + (1 if epoch_end else 0),
            "chars": p.chars,
            "train": losses.mean(),
            "val": val,
            "lr": run.opt.param_groups[0]["lr"],
            "chars_s": losses.count * run.world / max(time.time() - losses.since, 1e-9),
        }
    )
    p.best_val, p.bad_evals = min(val, p.best_val), 0 if improved else p.bad_evals + 1
    p.wall_s = time.time() - run.start
    if run.rank == 0:
        if improved:
            checkpoint.save(run.model, run.args.out, card(run, p), run.args.storage)
        if not run.quiet:
            tqdm.write(
                f"{p.chars:,} chars: train {losses.mean():.4f} "
                f"val {val:.4f} nats/char{' (best)' if improved else ''} [{time.time() - losses.since:.0f} s]"
            )
    losses.restart()


def snapshot(run: Run, p: Progress, losses: Losses, index: int, final: bool = False) -> None:
    """Save snapshot `index` (rank 0; never over one already saved, so a resumed run rewrites none)."""
    train_loss = float(losses.snap_total) / losses.snap_count if losses.snap_count else None
    losses.snap_total, losses.snap_count = 0.0, 0
    folder = Path(run.args.out) / checkpoint.SNAPSHOTS / f"{index:02d}"
    if run.rank != 0 or (folder / checkpoint.CARD).is_file():
        return
    val = evaluate(run.model, run.val_sample)
    loss = {"val": {"nats": val, "bits": bits(val), "chars": len(run.val_sample)}}
    if train_loss is not None:
        loss["train"] = {"nats": train_loss, "bits": bits(train_loss)}
    info = {
        "corpus": run.corpus,
        "snapshot": index,
        "step": p.global_step,
        "chars_seen": p.chars,
        "epochs": p.epoch,
        "loss": loss,
        "lr": run.opt.param_groups[0]["lr"],
        "final": final,
        "schedule": run.schedule,
        "training": settings(run.args),
    }
    checkpoint.save(run.model, folder, info, run.args.storage)


def save_resume(run: Run, p: Progress, losses: Losses, carried) -> None:
    """Write the resume state: the progress, and the state carried into the next window."""
    p.wall_s = time.time() - run.start
    p.snapshot_loss = [float(losses.snap_total), losses.snap_count]
    save_state(run.args.out, run.model, run.opt, asdict(p), carried, run.rank, run.world)


def agreed(flag: bool, world: int) -> bool:
    """True on every process when it is true on any (time-based saves happen everywhere at once)."""
    if world == 1:
        return flag
    t = torch.tensor([float(flag)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def settings(args: TrainArgs) -> dict:
    """The arguments a card records: those that shape the model and its training."""
    return {k: v for k, v in asdict(args).items() if k not in ("corpus", "out", "resume", "storage")}


def card(run: Run, p: Progress, losses: dict | None = None) -> dict:
    """The card.json of the best model so far: data, split, figures, hardware, versions."""
    best = min(p.history, key=lambda h: h["val"])
    return {
        "corpus": run.corpus,
        "split": {"fractions": [0.8, 0.1, 0.1], "contiguous": True, "order": ["train", "val", "test"]},
        "loss": losses or {"val": {"nats": best["val"], "bits": bits(best["val"])}},
        "epochs": p.epoch,
        "best_epoch": best["epoch"],
        "chars_seen": best["chars"],
        "wall_time_s": round(p.wall_s, 1),
        "hardware": hardware(run.device),
        "processes": int(os.environ.get("WORLD_SIZE", "1")),
        "training": settings(run.args),
        "history": p.history,
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
    }


def finish(run: Run, p: Progress) -> dict:
    """Reload the best model and write its train, val and test losses into its card."""
    args = run.args
    model = checkpoint.load(args.out, device=str(run.device))
    losses = {}
    for name in ("train", "val", "test"):
        nats = evaluate(model, sample(run.part[name], args.eval_chars).to(run.device))
        losses[name] = {
            "nats": round(nats, 5),
            "bits": round(bits(nats), 5),
            "chars": min(len(run.part[name]), args.eval_chars or len(run.part[name])),
        }
    result = card(run, p, losses)
    checkpoint.save(model, args.out, result, args.storage)
    return result
