"""Checkpoints: a folder with weights in safetensors (never pickle) and a card.json."""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .model import CharLSTM, Config
from .vocab import Vocab

WEIGHTS, CARD = "model.safetensors", "card.json"
FORMAT = "lstm-viz/1"
PICKLES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")


def _shipped() -> Path:
    """pretrained/ beside lstm_viz/ in a checkout, or in the installed app package (pip install .)."""
    root = Path(__file__).resolve().parent.parent
    installed = root / "lstm_viz_app" / "pretrained"
    return installed if not (root / "pretrained").is_dir() and installed.is_dir() else root / "pretrained"


PRETRAINED = Path(os.environ.get("LSTM_VIZ_PRETRAINED", _shipped()))


class CheckpointError(Exception):
    """A checkpoint that is missing, truncated, corrupt or does not match its card."""


STORAGE = {"float32": torch.float32, "float16": torch.float16}  # how weights may be stored; loading gives float32


def save(model: CharLSTM, folder, card: dict, storage: str = "float32") -> Path:
    """Write `model`'s weights (as `storage`) and `card` (plus alphabet and config) into `folder`.

    float16 halves the file; `load` widens it to float32 exactly, so a trace is exact to the
    weights it loads.
    """
    if storage not in STORAGE:
        raise ValueError(f"storage must be one of {', '.join(STORAGE)}, not {storage!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().to(STORAGE[storage]).contiguous() for k, v in model.state_dict().items()}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"format": FORMAT})
    os.replace(tmp, folder / WEIGHTS)
    card = {**card, "format": FORMAT, "config": model.config.to_dict(), "alphabet": model.vocab.chars,
            "storage": storage}
    (folder / (CARD + ".tmp")).write_text(json.dumps(card, indent=1, ensure_ascii=True))
    os.replace(folder / (CARD + ".tmp"), folder / CARD)
    return folder


def read_card(folder) -> dict:
    """The parsed card.json of a checkpoint folder."""
    path = Path(folder) / CARD
    if not path.is_file():
        raise CheckpointError(f"{path}: missing (every checkpoint folder needs a card.json)")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from None
    missing = [k for k in ("format", "config", "alphabet") if k not in card] if isinstance(card, dict) else ["everything"]
    if missing:
        raise CheckpointError(f"{path}: lacks {', '.join(missing)}")
    if card["format"] != FORMAT:
        raise CheckpointError(f"{path}: format {card['format']!r} is not {FORMAT!r}")
    return card


def resolve(name_or_path) -> Path:
    """A checkpoint folder from a path, or from a name under pretrained/."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    for folder in model_dirs() if str(name_or_path) else []:
        if (folder / str(name_or_path)).is_dir():
            return folder / str(name_or_path)
    known = ", ".join(available()) or "none"
    raise CheckpointError(f"{name_or_path}: no such model folder (shipped models: {known})")


def model_dirs() -> list[Path]:
    """Where models are looked up by name: pretrained/, then each folder in LSTM_VIZ_MODELS
    (separated by os.pathsep; `lstm-viz app --models DIR` sets it)."""
    return [PRETRAINED] + [Path(p) for p in os.environ.get("LSTM_VIZ_MODELS", "").split(os.pathsep) if p]


def available() -> list[str]:
    """Names of the model folders under pretrained/ and the LSTM_VIZ_MODELS folders."""
    return sorted({p.name for folder in model_dirs() if folder.is_dir() for p in folder.glob("*")
                   if (p / CARD).is_file()})


def load(name_or_path, device: str = "cpu") -> CharLSTM:
    """Load a CharLSTM from pretrained/NAME or any checkpoint folder, in eval mode."""
    folder = resolve(name_or_path)
    weights = folder / WEIGHTS
    if not weights.is_file():
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLES)
        if pickles:
            raise CheckpointError(f"{folder / pickles[0]}: pickle checkpoints are never loaded (they can run code); "
                                  f"convert it to {WEIGHTS}")
        raise CheckpointError(f"{weights}: missing")
    card = read_card(folder)
    try:
        config = Config(**card["config"])
        vocab = Vocab(list(card["alphabet"]))
        model = CharLSTM(config, vocab)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{folder / CARD}: config does not describe a model ({e})") from None
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights}: truncated or corrupt ({e})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{weights}: tensors do not match the card's config "
                              f"(missing {missing[:3]}, unexpected {extra[:3]})")
    for key, tensor in expected.items():
        if state[key].shape != tensor.shape:
            raise CheckpointError(f"{weights}: {key} has shape {tuple(state[key].shape)}, "
                                  f"the card's config needs {tuple(tensor.shape)}")
        if not torch.isfinite(state[key]).all():
            raise CheckpointError(f"{weights}: {key} holds NaN or infinite values")
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.card = card
    return model.to(device).eval()
