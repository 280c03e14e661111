"""Resumable training state: weights, optimizer moments, carried state, RNG and counters, with no pickle."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

FOLDER = "resume"


def save_state(out, model, optimizer, counters: dict, carried=None, rank: int = 0, world: int = 1) -> None:
    """Write everything `--resume` needs into OUT/resume/, replacing the previous save.

    `carried` is the state carried into the next window of this process: an LSTM's (h, c), a
    GRU's or RNN's h (None at an epoch's start). Every process writes its own carried state and
    RNG; rank 0 writes the rest, the json last: it marks a complete save.
    """
    folder = Path(out) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    own = {"rng": torch.get_rng_state()}
    if torch.cuda.is_available():
        own["cuda_rng"] = torch.cuda.get_rng_state()
    if torch.is_tensor(carried):
        own.update(h=carried)
    elif carried is not None:
        own.update(h=carried[0], c=carried[1])
    save_file({k: v.detach().cpu().contiguous() for k, v in own.items()}, str(folder / f"rank{rank}.tmp"))
    os.replace(folder / f"rank{rank}.tmp", folder / f"rank{rank}.safetensors")
    if world > 1:
        torch.distributed.barrier()
    if rank != 0:
        return
    opt = optimizer.state_dict()
    tensors = {
        f"{i}.{k}": v.detach().cpu().contiguous()
        for i, s in opt["state"].items()
        for k, v in s.items()
        if torch.is_tensor(v)
    }
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(folder / "model.tmp"))
    save_file(tensors, str(folder / "optim.tmp"))
    (folder / "state.tmp").write_text(json.dumps({**counters, "param_groups": opt["param_groups"]}))
    for name in ("model", "optim", "state"):
        os.replace(folder / f"{name}.tmp", folder / (f"{name}.json" if name == "state" else f"{name}.safetensors"))


def load_state(out, model, optimizer, rank: int = 0):
    """Restore model, optimizer and this process's RNG from OUT/resume/.

    Returns (counters, carried) with carried the saved (h, c) (an LSTM's), h (a GRU's or an
    RNN's) or None; or None if nothing is saved.
    """
    folder = Path(out) / FOLDER
    if not (folder / "state.json").is_file():
        return None
    counters = json.loads((folder / "state.json").read_text())
    device = next(model.parameters()).device
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    flat = load_file(str(folder / "optim.safetensors"))
    state: dict = {}
    for key, value in flat.items():
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": counters.pop("param_groups")})
    carried = None
    own_file = folder / f"rank{rank}.safetensors"
    if own_file.is_file():
        own = load_file(str(own_file))
        torch.set_rng_state(own["rng"])
        if "cuda_rng" in own and torch.cuda.is_available():
            torch.cuda.set_rng_state(own["cuda_rng"])
        if "c" in own:
            carried = (own["h"].to(device), own["c"].to(device))
        elif "h" in own:
            carried = own["h"].to(device)
    return counters, carried
