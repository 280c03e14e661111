"""Resumable training state: weights, optimizer moments and counters, with no pickle."""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

FOLDER = "resume"


def save_state(out, model, optimizer, counters: dict) -> None:
    """Write everything `--resume` needs into OUT/resume/, replacing the previous epoch's."""
    folder = Path(out) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    opt = optimizer.state_dict()
    tensors = {f"{i}.{k}": v.detach().cpu().contiguous()
               for i, s in opt["state"].items() for k, v in s.items() if torch.is_tensor(v)}
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
              str(folder / "model.tmp"))
    save_file(tensors, str(folder / "optim.tmp"))
    (folder / "state.tmp").write_text(json.dumps({**counters, "param_groups": opt["param_groups"]}))
    for name in ("model", "optim", "state"):  # the json goes last: it marks a complete save
        os.replace(folder / f"{name}.tmp", folder / (f"{name}.json" if name == "state" else f"{name}.safetensors"))


def load_state(out, model, optimizer) -> dict | None:
    """Restore model and optimizer from OUT/resume/; the saved counters, or None if nothing is saved."""
    folder = Path(out) / FOLDER
    if not (folder / "state.json").is_file():
        return None
    counters = json.loads((folder / "state.json").read_text())
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    flat = load_file(str(folder / "optim.safetensors"))
    state: dict = {}
    for key, value in flat.items():
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": counters.pop("param_groups")})
    return counters
