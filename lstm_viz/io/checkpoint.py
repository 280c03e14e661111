"""lstm-viz's own model format: a folder with weights in safetensors (never pickle) and a card.json.

The one place models are saved and loaded. The same checkpoint sent as one zip (the app's
upload) is read by `lstm_viz.io.archive`; models of other frameworks become checkpoints through
`lstm_viz.io.importers`.

Nothing is allocated for a model before its card's sizes are checked against LIMITS and every
tensor's dtype and shape, read from the safetensors header alone, is the one the card's config
implies: a card cannot make the loader build a model its weights do not hold.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_bytes
from safetensors.torch import load_file, save_file

from ..core.checks import check_choice, quoted
from ..core.model import GATE_ROWS, KINDS, CharLSTM, Config
from ..core.vocab import Vocab

WEIGHTS, CARD = "model.safetensors", "card.json"
SNAPSHOTS = "snapshots"  # OUT/snapshots/NN/: checkpoints saved during training (`train --snapshots`)
FORMAT = "lstm-viz/1"
PICKLES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")


def _shipped() -> Path:
    """pretrained/ beside lstm_viz/ in a checkout, or in the installed app package (pip install .)."""
    root = Path(__file__).resolve().parents[2]
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
        "kind": model.config.kind,
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


NUMBER, WHOLE, TEXT = "number", "whole number", "text"
LOSS = {"nats": NUMBER, "bits": NUMBER, "chars": WHOLE}
SCHEMA = {  # every card field the library, app or CLI reads, with its type; other fields are kept unread
    "format": TEXT,
    "kind": TEXT,
    "config": {},
    "alphabet": ["text"],
    "corpus": {"name": TEXT, "sha256": TEXT},
    "loss": {"train": LOSS, "val": LOSS, "test": LOSS},
    "epochs": WHOLE,
    "best_epoch": WHOLE,
    "chars_seen": WHOLE,
    "wall_time_s": NUMBER,
    "hardware": TEXT,
    "processes": WHOLE,
    "training": {},
    "history": [{"epoch": WHOLE, "chars": WHOLE, "train": NUMBER, "val": NUMBER, "lr": NUMBER, "chars_s": NUMBER}],
    "storage": TEXT,
    "ngram": {"file": TEXT, "model": TEXT, "order": WHOLE, "pruning_trials": [{}]},
}
REQUIRED = ("format", "config", "alphabet")
MAX_DEPTH = 32  # JSON nesting a card or a safetensors header may have (a card needs 4)


def parse_json(raw: bytes, where: str, form: str = "{}") -> object:
    """The JSON value in `raw`, refused in one line (`where: ` and the problem put in `form`) if it is not UTF-8 JSON or
    is nested deeper than MAX_DEPTH (counted on the bytes first, so a hostile file never reaches
    the parser's recursion)."""
    depth = deepest = 0
    quoted = escaped = False
    for byte in raw:
        if quoted:
            quoted, escaped = (escaped or byte != 0x22), (not escaped and byte == 0x5C)
        elif byte == 0x22:
            quoted = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    if deepest > MAX_DEPTH:
        raise CheckpointError(f"{where}: " + form.format(f"nested more than {MAX_DEPTH} levels deep"))
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{where}: " + form.format(f"not valid JSON ({e})")) from None


def check_fields(value, spec, path: str, where: str) -> None:
    """Refuse `value` in one line naming the field if it does not have the type `spec` gives:
    a dict spec is an object whose listed fields (when present) follow their specs, a one-item
    list a list of such items, else NUMBER (finite), WHOLE or TEXT."""
    if isinstance(spec, dict):
        ok, kind = isinstance(value, dict), "an object"
    elif isinstance(spec, list):
        ok, kind = isinstance(value, list), "a list"
    elif spec == TEXT:
        ok, kind = isinstance(value, str), "text"
    elif spec == WHOLE:
        ok, kind = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        kind = "a finite number"
    if not ok:
        raise CheckpointError(f"{where}: {path} must be {kind}, not {quoted(value)}")
    if isinstance(spec, dict):
        for key, inner in spec.items():
            if key in value:
                check_fields(value[key], inner, f"{path}.{key}" if path else key, where)
    elif isinstance(spec, list):
        for i, item in enumerate(value):
            check_fields(item, spec[0], f"{path}[{i}]", where)


def parse_card(raw: bytes, where: str = CARD) -> dict:
    """A card from the bytes of a card.json, its fields checked against SCHEMA; `where` names it in errors."""
    card = parse_json(raw, where)
    missing = [k for k in REQUIRED if k not in card] if isinstance(card, dict) else ["everything"]
    if missing:
        raise CheckpointError(f"{where}: lacks {', '.join(missing)}")
    if card["format"] != FORMAT:
        raise CheckpointError(f"{where}: format {quoted(card['format'])} is not {FORMAT!r}")
    check_fields(card, SCHEMA, "", where)
    return card


def describe(card: dict, where: str = CARD, max_cells: int | None = None) -> tuple[Config, Vocab]:
    """The Config and Vocab a card claims, each size within LIMITS (and layers x hidden within
    `max_cells`, if given); nothing of the model's size is allocated."""

    def refuse(why: str):
        return CheckpointError(f"{where}: config does not describe a model ({why})")

    if not isinstance(card["config"], dict):
        raise refuse("it is not a JSON object")
    kind = card["config"].get("kind", card.get("kind", "lstm"))  # a card from before GRUs and RNNs: an LSTM
    if kind not in KINDS:
        raise refuse(f"kind is {quoted(kind)}; it must be one of {', '.join(KINDS)}")
    if card.get("kind", kind) != kind:
        raise refuse(f"the card says kind {quoted(card['kind'])} but its config says {kind!r}")
    try:
        config = Config(**{**card["config"], "kind": kind})
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
    """Every tensor of a CharLSTM with `config`, named as in its state_dict, and its shape (nothing
    allocated): the recurrent weights are named after the kind (lstm., gru., rnn.), with 4, 3 or 1
    blocks of H rows."""
    V, H, E, k = config.vocab_size, config.hidden, config.embed, config.kind
    G = GATE_ROWS[k] * H
    out = {"embedding.weight": (V, E)}
    for i in range(config.layers):
        out |= {
            f"{k}.weight_ih_l{i}": (G, E if i == 0 else H),
            f"{k}.weight_hh_l{i}": (G, H),
            f"{k}.bias_ih_l{i}": (G,),
            f"{k}.bias_hh_l{i}": (G,),
        }
    return out | {"head.weight": (V, H), "head.bias": (V,)}


def header(data: bytes, where: str = WEIGHTS) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Each tensor's (dtype, shape) from the header of safetensors bytes (an 8-byte little-endian
    length, then that many bytes of JSON), without reading any tensor."""
    size = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not 0 < size <= min(MAX_HEADER, len(data) - 8):
        raise CheckpointError(f"{where}: truncated or corrupt (no safetensors header of at most {MAX_HEADER:,} bytes)")
    entries = parse_json(data[8 : 8 + size], where, "truncated or corrupt (its header is {})")
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


def snapshots(name_or_path) -> list[dict]:
    """The snapshots saved while a model trained (`train --snapshots`), in order: each a dict of
    its index, path, step, chars_seen and loss ({"val": {"nats", "bits"}, "train": ...}; the
    first, the untrained weights, has no train loss). An empty list for a model without any."""
    root = resolve(name_or_path) / SNAPSHOTS
    found = []
    for folder in sorted(root.iterdir() if root.is_dir() else [], key=lambda p: p.name):
        if folder.name.isdigit() and (folder / CARD).is_file() and (folder / WEIGHTS).is_file():
            card = read_card(folder)
            found.append(
                {
                    "index": int(folder.name),
                    "path": folder,
                    "step": card.get("step"),
                    "chars_seen": card.get("chars_seen"),
                    "loss": card.get("loss", {}),
                    "final": bool(card.get("final", False)),
                }
            )
    return sorted(found, key=lambda s: s["index"])


def snapshot_folder(name_or_path, snapshot: int) -> Path:
    """The folder of snapshot `snapshot` (a position in `snapshots`, -1 the last) of a model."""
    found = snapshots(name_or_path)
    if not isinstance(snapshot, int) or isinstance(snapshot, bool) or not -len(found) <= snapshot < len(found):
        raise CheckpointError(f"{name_or_path}: no snapshot {snapshot!r} (it has {len(found)})")
    return found[snapshot]["path"]


def load(name_or_path, device: str = "cpu", snapshot: int | None = None) -> CharLSTM:
    """Load a CharLSTM from pretrained/NAME or any checkpoint folder, in eval mode; with `snapshot`,
    that snapshot of its training instead (a position in `snapshots(name_or_path)`, -1 the last)."""
    folder = resolve(name_or_path) if snapshot is None else snapshot_folder(name_or_path, snapshot)
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
