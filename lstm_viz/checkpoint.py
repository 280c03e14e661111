"""lstm-viz's own model format: a folder with weights in safetensors (never pickle) and a card.json.

The one place models are saved and loaded. The same checkpoint sent as one zip (the app's
upload) is read by `lstm_viz.archive`; models of other frameworks become checkpoints through
`lstm_viz.importers`.

Nothing is allocated for a model before its card's sizes are checked against LIMITS and every
tensor's dtype and shape, read from the safetensors header alone, is the one the card's config
implies: a card cannot make the loader build a model its weights do not hold.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_bytes
from safetensors.torch import load_file, save_file

from .checks import check_choice
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
DTYPES = ("F32", "F16", "BF16")  # safetensors dtypes a checkpoint may hold: each widens to float32 exactly
LIMITS = {"vocab_size": 65_536, "layers": 16, "hidden": 8_192, "embed": 8_192}  # the most a card's config may claim
MAX_HEADER = 1 << 20  # bytes of a safetensors header read from bytes (an LSTM's is a few KB)


def save(model: CharLSTM, folder, card: dict, storage: str = "float32") -> Path:
    """Write `model`'s weights (as `storage`) and `card` (plus alphabet and config) into `folder`.

    float16 halves the file; `load` widens it to float32 exactly, so a trace is exact to the
    weights it loads.
    """
    check_choice("storage", storage, STORAGE)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().to(STORAGE[storage]).contiguous() for k, v in model.state_dict().items()}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"format": FORMAT})
    os.replace(tmp, folder / WEIGHTS)
    card = {
        **card,
        "format": FORMAT,
        "config": model.config.to_dict(),
        "alphabet": model.vocab.chars,
        "storage": storage,
    }
    (folder / (CARD + ".tmp")).write_text(json.dumps(card, indent=1, ensure_ascii=True))
    os.replace(folder / (CARD + ".tmp"), folder / CARD)
    return folder


def read_card(folder) -> dict:
    """The parsed card.json of a checkpoint folder."""
    path = Path(folder) / CARD
    if not path.is_file():
        raise CheckpointError(f"{path}: missing (every checkpoint folder needs a card.json)")
    return parse_card(path.read_bytes(), str(path))


def parse_card(raw: bytes, where: str = CARD) -> dict:
    """A card from the bytes of a card.json; `where` names it in errors."""
    try:
        card = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{where}: not valid JSON ({e})") from None
    missing = (
        [k for k in ("format", "config", "alphabet") if k not in card] if isinstance(card, dict) else ["everything"]
    )
    if missing:
        raise CheckpointError(f"{where}: lacks {', '.join(missing)}")
    if card["format"] != FORMAT:
        raise CheckpointError(f"{where}: format {card['format']!r} is not {FORMAT!r}")
    return card


def describe(card: dict, where: str = CARD, max_cells: int | None = None) -> tuple[Config, Vocab]:
    """The Config and Vocab a card claims, each size within LIMITS (and layers x hidden within
    `max_cells`, if given); nothing of the model's size is allocated."""

    def refuse(why: str):
        return CheckpointError(f"{where}: config does not describe a model ({why})")

    if not isinstance(card["config"], dict):
        raise refuse("it is not a JSON object")
    try:
        config = Config(**card["config"])
    except TypeError as e:
        raise refuse(e) from None
    for key, most in LIMITS.items():
        value = getattr(config, key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
            raise refuse(f"{key} is {value!r}; it must be a whole number from 1 to {most:,}")
    for key, low, high in (("dropout", 0, 1), ("forget_bias", -1e6, 1e6)):
        value = getattr(config, key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
            raise refuse(f"{key} is {value!r}; it must be a number from {low:,} to {high:,}")
    if max_cells is not None and config.layers * config.hidden > max_cells:
        raise CheckpointError(
            f"{where}: {config.layers} layers x {config.hidden} cells is more than the "
            f"{max_cells:,} cells in all allowed here"
        )
    alphabet = card["alphabet"]
    if not isinstance(alphabet, (list, str)) or len(alphabet) + 1 != config.vocab_size:
        raise refuse(
            f"the alphabet is not a list of {config.vocab_size - 1} characters (vocab_size "
            f"{config.vocab_size} less the unknown slot)"
        )
    try:
        return config, Vocab(list(alphabet))
    except (TypeError, ValueError) as e:
        raise refuse(e) from None


def shapes(config: Config) -> dict[str, tuple[int, ...]]:
    """Every tensor of a CharLSTM with `config`, named as in its state_dict, and its shape (nothing allocated)."""
    V, H, E = config.vocab_size, config.hidden, config.embed
    out = {"embedding.weight": (V, E)}
    for i in range(config.layers):
        out |= {
            f"lstm.weight_ih_l{i}": (4 * H, E if i == 0 else H),
            f"lstm.weight_hh_l{i}": (4 * H, H),
            f"lstm.bias_ih_l{i}": (4 * H,),
            f"lstm.bias_hh_l{i}": (4 * H,),
        }
    return out | {"head.weight": (V, H), "head.bias": (V,)}


def header(data: bytes, where: str = WEIGHTS) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Each tensor's (dtype, shape) from the header of safetensors bytes (an 8-byte little-endian
    length, then that many bytes of JSON), without reading any tensor."""
    size = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not 0 < size <= min(MAX_HEADER, len(data) - 8):
        raise CheckpointError(f"{where}: truncated or corrupt (no safetensors header of at most {MAX_HEADER:,} bytes)")
    try:
        entries = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{where}: truncated or corrupt (its header is not JSON: {e})") from None
    if not isinstance(entries, dict):
        raise CheckpointError(f"{where}: truncated or corrupt (its header is not a JSON object)")
    found = {}
    for name, entry in entries.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not (
            isinstance(shape, list)
            and isinstance(entry.get("dtype"), str)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        ):
            raise CheckpointError(
                f"{where}: truncated or corrupt (its header's entry for {name!r} has no dtype and shape)"
            )
        found[name] = (entry["dtype"], tuple(shape))
    return found


def _file_header(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Each tensor's (dtype, shape) in a safetensors file, read with safe_open: no tensor is loaded."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: (f.get_slice(k).get_dtype(), tuple(f.get_slice(k).get_shape())) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: truncated or corrupt ({e})") from None


def check_tensors(found: dict[str, tuple[str, tuple[int, ...]]], config: Config, where: str = WEIGHTS) -> None:
    """Refuse a header whose tensors, dtypes or shapes are not the ones `config` implies."""
    expected = shapes(config)
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{where}: tensors do not match the card's config (missing {missing[:3]}, unexpected {extra[:3]})"
        )
    for key, shape in expected.items():
        dtype, got = found[key]
        if got != shape:
            raise CheckpointError(f"{where}: {key} has shape {got}, the card's config needs {shape}")
        if dtype not in DTYPES:
            raise CheckpointError(f"{where}: {key} is stored as {dtype}; a checkpoint holds {', '.join(DTYPES)}")


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
    return sorted(
        {p.name for folder in model_dirs() if folder.is_dir() for p in folder.glob("*") if (p / CARD).is_file()}
    )


def load(name_or_path, device: str = "cpu") -> CharLSTM:
    """Load a CharLSTM from pretrained/NAME or any checkpoint folder, in eval mode."""
    folder = resolve(name_or_path)
    weights = folder / WEIGHTS
    if not weights.is_file():
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLES)
        if pickles:
            raise CheckpointError(
                f"{folder / pickles[0]}: pickle checkpoints are never loaded (they can run code); "
                f"convert it to {WEIGHTS}"
            )
        raise CheckpointError(f"{weights}: missing")
    card = read_card(folder)
    config, vocab = describe(card, str(folder / CARD))
    check_tensors(_file_header(weights), config, str(weights))
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights}: truncated or corrupt ({e})") from None
    return _model(card, config, vocab, state, str(weights)).to(device).eval()


def from_bytes(card: dict, weights: bytes, max_cells: int | None = None) -> CharLSTM:
    """A CharLSTM, in eval mode, from a parsed card and the bytes of its model.safetensors (no file
    is written); with `max_cells`, a card claiming more layers x hidden cells is refused."""
    config, vocab = describe(card, CARD, max_cells)
    check_tensors(header(weights), config)
    try:
        state = load_bytes(weights)
    except (SafetensorError, ValueError) as e:
        raise CheckpointError(f"{WEIGHTS}: truncated or corrupt ({e})") from None
    return _model(card, config, vocab, state, WEIGHTS).eval()


def _model(card: dict, config: Config, vocab: Vocab, state: dict, where: str) -> CharLSTM:
    """The model of a checked card and state dict whose shapes are checked; refused if a weight is not finite."""
    for key, tensor in state.items():
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"{where}: {key} holds NaN or infinite values")
    model = CharLSTM(config, vocab)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.card = card
    return model
