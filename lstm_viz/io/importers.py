"""Other frameworks' models as a CharLSTM: PyTorch state dicts (matched by shape) and Keras 3 files (read
with h5py), of any kind lstm-viz runs: LSTM, GRU or vanilla (tanh) RNN layers; `import_file` saves the
result as a checkpoint (`lstm_viz.io.checkpoint`).

Every importer ends in `build`, which adds lstm-viz's unknown slot (id 0) in front of the
model's own alphabet: a zero embedding row in, a zero head row with a -1e4 bias out, so the
probabilities of the model's own characters are exactly the original's.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from datetime import UTC
from pathlib import Path

import numpy as np
import torch

from ..core.model import CharLSTM, Config
from ..core.vocab import Vocab
from . import archive

UNKNOWN_LOGIT = -1e4  # the added unknown slot's logit: exp(-1e4) is 0 in float32 and float64
LSTM_KEY = re.compile(r"^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")
KERAS_CONFIG_LIMIT = (
    16 << 20
)  # bytes of config.json read from a .keras zip (through lstm_viz.io.archive's bounded reader)
KERAS_WEIGHTS_LIMIT = 2 << 30  # bytes of model.weights.h5 read from it
KIND_OF_ROWS = {4: "lstm", 3: "gru", 1: "rnn"}  # rows of W_hh per cell (PyTorch's layout) -> kind
NAME = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}  # each kind in messages
KERAS_KINDS = {"lstm": "lstm", "gru": "gru", "simple_rnn": "rnn"}  # Keras's layer names -> kind


class ModelImportError(ValueError):
    """A model file that cannot become a CharLSTM; the message is one line saying why."""


def alphabet_chars(alphabet) -> list[str]:
    """The model's characters in index order, from a string, a list, or a {char: index} mapping."""
    if isinstance(alphabet, Mapping):
        order = sorted(alphabet.items(), key=lambda kv: kv[1])
        if [i for _, i in order] != list(range(len(order))):
            raise ModelImportError("alphabet mapping: indices must be 0, 1, ..., N-1, each once")
        alphabet = [c for c, _ in order]
    chars = list(alphabet)
    bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
    if bad:
        raise ModelImportError(f"alphabet: every entry must be one character, not {bad[0]!r}")
    if len(set(chars)) != len(chars):
        dup = next(c for c in chars if chars.count(c) > 1)
        raise ModelImportError(f"alphabet: {dup!r} appears more than once")
    if not chars:
        raise ModelImportError("alphabet: empty")
    return chars


def read_alphabet(path) -> list[str]:
    """An alphabet file: JSON (a list of characters, or {char: index}), else the file's characters in order.

    A plain text file is taken exactly as it is: a trailing newline is a character of the alphabet.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelImportError(f"{path}: no such alphabet file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelImportError(f"{path}: the alphabet file is not UTF-8 text") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as e:
            raise ModelImportError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(data, (list, dict)):
            raise ModelImportError(f"{path}: expected a JSON list of characters or a {{char: index}} object")
        return alphabet_chars(data)
    return alphabet_chars(text)


def _array(value, name: str) -> np.ndarray:
    a = np.asarray(value.detach().cpu().float().numpy() if isinstance(value, torch.Tensor) else value, dtype=np.float32)
    if not np.isfinite(a).all():
        raise ModelImportError(f"{name} holds NaN or infinite values")
    return a


def build(chars: list[str], embedding, layers: list[tuple], head_w, head_b, kind: str = "lstm") -> CharLSTM:
    """A CharLSTM from the parts of a character model of `kind`, in PyTorch's layout and gate order
    (an LSTM's i, f, g, o; a GRU's r, z, n; an RNN's one block).

    chars: the N characters in the model's index order. embedding: (N, E), or None for one-hot
    input. layers: per layer (W_ih (GH, in), W_hh (GH, H), b_ih (GH,), b_hh (GH,)), G = 4, 3 or 1.
    head_w (N, H), head_b (N,) or None.
    """
    N = len(chars)
    H = layers[0][1].shape[1]
    sizes = [w_hh.shape[1] for _, w_hh, _, _ in layers]
    if len(set(sizes)) > 1:
        raise ModelImportError(
            f"{NAME[kind]} layers of different sizes ({', '.join(map(str, sizes))} cells): lstm-viz's "
            f"models (one nn.{NAME[kind]}) have the same number of cells in every layer"
        )
    E = N if embedding is None else embedding.shape[1]
    config = Config(vocab_size=N + 1, layers=len(layers), hidden=H, embed=E, dropout=0.0, forget_bias=0.0, kind=kind)
    model = CharLSTM(config, Vocab(chars))
    emb = np.zeros((N + 1, E), dtype=np.float32)  # row 0: the unknown slot reads as no input
    emb[1:] = np.eye(N, dtype=np.float32) if embedding is None else embedding
    head = np.zeros((N + 1, H), dtype=np.float32)
    head[1:] = head_w
    bias = np.full(N + 1, UNKNOWN_LOGIT, dtype=np.float32)
    bias[1:] = 0.0 if head_b is None else head_b
    state = {"embedding.weight": emb, "head.weight": head, "head.bias": bias}
    for i, parts in enumerate(layers):
        for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), parts):
            state[f"{kind}.{name}_l{i}"] = value
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in state.items()})
    return model.eval()


def _shape(a) -> str:
    return "x".join(map(str, a.shape))


def _rows(w_hh) -> int:
    """Blocks of rows of W_hh (G H x H): 4 for an LSTM, 3 for a GRU, 1 for an RNN; 0 if it is no such matrix."""
    H = w_hh.shape[1] if w_hh.ndim == 2 else 0
    return w_hh.shape[0] // H if H and w_hh.shape[0] % H == 0 else 0


def _recurrent_layers(state: dict) -> tuple[str, str, list[tuple], list[str]]:
    """(module prefix, kind, per-layer weights, keys used) of the one nn.LSTM, nn.GRU or nn.RNN in a
    state dict; the kind follows from the shape of W_hh (4H, 3H or H rows)."""
    groups: dict[str, dict] = {}
    for key in state:
        m = LSTM_KEY.match(key)
        if m:
            groups.setdefault(m.group(1), {})[key] = m
    if not groups:
        raise ModelImportError(
            "no recurrent layer: no tensor is named like an nn.LSTM's, nn.GRU's or nn.RNN's weight_ih_l0, weight_hh_l0"
        )
    if len(groups) > 1:
        raise ModelImportError(
            f"{len(groups)} recurrent modules ({', '.join(p.rstrip('.') or '(root)' for p in groups)}); "
            "expected exactly one nn.LSTM, nn.GRU or nn.RNN"
        )
    prefix, keys = next(iter(groups.items()))
    where = prefix.rstrip(".") or "the recurrent module"
    first = state.get(f"{prefix}weight_hh_l0")
    shown = NAME.get(
        KIND_OF_ROWS.get(_rows(_array(first, "weight_hh_l0")) if first is not None else 0), "recurrent module"
    )
    if any(m.group(4) for m in keys.values()):
        raise ModelImportError(
            f"{where} is a bidirectional {shown} (it has *_reverse weights): its state at a character "
            "depends on the text after it; lstm-viz reads one-directional models only"
        )
    if any(m.group(2) == "weight_hr" for m in keys.values()):
        raise ModelImportError(f"{where} is an LSTM with projections (proj_size > 0), which lstm-viz does not read")
    n_layers = 1 + max(int(m.group(3)) for m in keys.values())
    layers, kind = [], None
    for i in range(n_layers):
        if f"{prefix}weight_ih_l{i}" not in state or f"{prefix}weight_hh_l{i}" not in state:
            raise ModelImportError(f"{where}: layer {i} lacks weight_ih_l{i} or weight_hh_l{i}")
        w_ih = _array(state[f"{prefix}weight_ih_l{i}"], f"{prefix}weight_ih_l{i}")
        w_hh = _array(state[f"{prefix}weight_hh_l{i}"], f"{prefix}weight_hh_l{i}")
        G, H = _rows(w_hh), w_hh.shape[1] if w_hh.ndim == 2 else 0
        if G not in KIND_OF_ROWS or w_ih.ndim != 2 or w_ih.shape[0] != G * H:
            raise ModelImportError(
                f"{where} is not an LSTM, GRU or RNN (weight_ih_l{i} {_shape(w_ih)}, weight_hh_l{i} {_shape(w_hh)}; "
                "theirs are GH x in and GH x H, G = 4, 3 or 1)"
            )
        if kind is not None and KIND_OF_ROWS[G] != kind:
            raise ModelImportError(
                f"{where}: layer {i} is {NAME[KIND_OF_ROWS[G]]}-shaped but layer 0 {NAME[kind]}-shaped"
            )
        kind = KIND_OF_ROWS[G]
        if i and w_ih.shape[1] != layers[-1][1].shape[1]:
            raise ModelImportError(
                f"{where}: layer {i} takes {w_ih.shape[1]} inputs but layer {i - 1} has {layers[-1][1].shape[1]} cells"
            )
        biases = [
            _array(state[k], k) if k in state else np.zeros(G * H, np.float32)
            for k in (f"{prefix}bias_ih_l{i}", f"{prefix}bias_hh_l{i}")
        ]
        if any(b.shape != (G * H,) for b in biases):
            raise ModelImportError(f"{where}: layer {i}'s biases are not {G * H} long")
        layers.append((w_ih, w_hh, *biases))
    return prefix, kind, layers, list(keys)


def _pick(candidates: list[str], order: dict, before: bool, lstm_at: int) -> str:
    """The candidate on the expected side of the LSTM in the state dict's order (modules are registered in order)."""
    side = [k for k in candidates if (order[k] < lstm_at) == before]
    return (side or candidates)[0 if before else -1]


def from_torch(state_dict, alphabet) -> CharLSTM:
    """A CharLSTM from a PyTorch character model: input layer, one nn.LSTM, nn.GRU or nn.RNN, linear
    head, found by shape.

    `state_dict` is a module's state_dict() (or the module). The kind follows from the recurrent
    weights' shape; an nn.RNN's state dict is read as the tanh RNN it is by default (give the
    module itself and one with nonlinearity="relu" is refused). The input layer is an embedding
    of shape (N, E) for the N characters of `alphabet`, or one-hot input when the recurrent layers
    take N inputs and no embedding is there; the head is a linear layer (N, H). Key names do not
    matter. Anything that cannot be matched is a ModelImportError that says what and why.
    """
    if isinstance(state_dict, torch.nn.Module):
        relu = [m for m in state_dict.modules() if isinstance(m, torch.nn.RNN) and m.nonlinearity != "tanh"]
        if relu:
            raise ModelImportError(
                f"its nn.RNN uses nonlinearity={relu[0].nonlinearity!r}; "
                "lstm-viz's vanilla RNN is tanh (nn.RNN's default)"
            )
        state_dict = state_dict.state_dict()
    if not isinstance(state_dict, Mapping) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise ModelImportError("expected a state dict: a mapping of names to tensors")
    chars = alphabet_chars(alphabet)
    N = len(chars)
    state = dict(state_dict)
    order = {k: i for i, k in enumerate(state)}
    prefix, kind, layers, used = _recurrent_layers(state)
    lstm_at = min(order[k] for k in used)
    E, H = layers[0][0].shape[1], layers[-1][1].shape[1]
    rest = [k for k in state if k not in used]
    matrices = [k for k in rest if state[k].ndim == 2]

    def sibling_bias(k):
        b = k[: -len("weight")] + "bias" if k.endswith("weight") else None
        return b if b in state and tuple(state[b].shape) == (N,) else None

    heads = [k for k in matrices if tuple(state[k].shape) == (N, H)]
    with_bias = [k for k in heads if sibling_bias(k)]
    if not heads:
        found = ", ".join(f"{k} ({_shape(state[k])})" for k in matrices if H in state[k].shape) or "none"
        raise ModelImportError(
            f"no linear head: expected a {N}x{H} weight ({N} alphabet characters x {H} cells of the "
            f"last layer); 2-D tensors with {H} columns or rows: {found}. Is the alphabet "
            "the one the model was trained with?"
        )
    head = _pick(with_bias or heads, order, before=False, lstm_at=lstm_at)
    inputs = [k for k in matrices if tuple(state[k].shape) == (N, E) and k != head and not sibling_bias(k)] or [
        k for k in matrices if tuple(state[k].shape) == (N, E) and k != head
    ]
    if inputs:
        emb_key = _pick(inputs, order, before=True, lstm_at=lstm_at)
        embedding = _array(state[emb_key], emb_key)
    elif E == N:
        emb_key, embedding = None, None  # one-hot input, as char-rnn feeds it
    else:
        found = ", ".join(f"{k} ({_shape(state[k])})" for k in matrices if E in state[k].shape) or "none"
        raise ModelImportError(
            f"no input layer: expected an embedding of {N}x{E} ({N} alphabet characters x the "
            f"{E} inputs of the {NAME[kind]}'s first layer) or one-hot input ({N} inputs); 2-D tensors "
            f"with {E} columns or rows: {found}. Is the alphabet the one the model was trained with?"
        )
    head_b_key = sibling_bias(head)
    matched = {emb_key, head, head_b_key} - {None}
    unmatched = [k for k in rest if k not in matched]
    if unmatched:
        raise ModelImportError(
            f"tensors that are not part of an input layer -> {NAME[kind]} -> linear head model: "
            + ", ".join(f"{k} ({_shape(state[k]) or 'scalar'})" for k in unmatched[:5])
            + (f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else "")
        )
    model = build(
        chars,
        embedding,
        layers,
        _array(state[head], head),
        _array(state[head_b_key], head_b_key) if head_b_key else None,
        kind,
    )
    model.matched = {"input": emb_key or "one-hot", "recurrent": prefix.rstrip(".") or "(root)", "head": head}
    return model


def load_torch_file(path) -> dict:
    """A state dict from a .safetensors file, or a PyTorch file read with torch.load(weights_only=True) only."""
    path = Path(path)
    if not path.is_file():
        raise ModelImportError(f"{path}: no such file")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise ModelImportError(f"{path}: not a readable safetensors file ({e})") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # weights_only refuses anything but tensors and plain containers, with many error types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelImportError(
            f"{path}: not a plain PyTorch state dict (read with weights_only=True, which never "
            f"runs code from the file): {first[:200]}"
        ) from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelImportError(f"{path}: holds no state dict (a mapping of names to tensors)")
    return dict(obj)


# Keras 3 ------------------------------------------------------------------------------------


def _keras_sources(path: Path):
    """(weights file object or path, config dict or None) of a .keras zip or a .weights.h5 file."""
    if not path.is_file():
        raise ModelImportError(f"{path}: no such file")
    if path.suffix == ".keras":
        try:
            with archive.open_zip(path) as z:
                names = set(z.namelist())
                if "model.weights.h5" not in names or "config.json" not in names:
                    raise ModelImportError(
                        f"{path}: a .keras file holds config.json and model.weights.h5; this lacks one"
                    )
                raw = archive.read_member(z, z.getinfo("config.json"), KERAS_CONFIG_LIMIT)
                weights = io.BytesIO(archive.read_member(z, z.getinfo("model.weights.h5"), KERAS_WEIGHTS_LIMIT))
        except archive.ZipError as e:
            raise ModelImportError(f"{path}: {e}") from None
        try:
            config = json.loads(raw)
        except ValueError as e:
            raise ModelImportError(f"{path}: config.json is not valid JSON ({e})") from None
        return weights, config
    return path, None


def _keras_layer_configs(config) -> list[dict]:
    """Every layer config of a Sequential or Functional model, in order; nested models refused."""
    layers = config.get("config", {}).get("layers", []) if isinstance(config, dict) else []
    for layer in layers:
        if isinstance(layer, dict) and layer.get("class_name") in ("Sequential", "Functional", "Model"):
            raise ModelImportError("the model nests another model; save the inner character model on its own")
    return [layer for layer in layers if isinstance(layer, dict)]


def _keras_checks(configs: list[dict]) -> None:
    """Refuse what the converted model would compute differently from Keras."""
    for layer in configs:
        kind, c = layer.get("class_name"), layer.get("config", {})
        name = c.get("name", kind)
        if kind in ("LSTM", "GRU", "SimpleRNN"):
            if kind != "SimpleRNN" and c.get("recurrent_activation", "sigmoid") != "sigmoid":
                raise ModelImportError(
                    f"{kind} layer {name!r} uses recurrent_activation={c['recurrent_activation']!r}; "
                    f"lstm-viz's {kind} gates are sigmoids, so only 'sigmoid' can be imported"
                )
            if c.get("activation", "tanh") != "tanh":
                raise ModelImportError(
                    f"{kind} layer {name!r} uses activation={c['activation']!r}; only 'tanh' can be imported"
                )
            if c.get("go_backwards"):
                raise ModelImportError(f"{kind} layer {name!r} reads the text backwards (go_backwards=True)")
            if kind == "GRU" and not c.get("reset_after", True):
                raise ModelImportError(
                    f"GRU layer {name!r} has reset_after=False (the reset gate applied before the recurrent "
                    "product); lstm-viz's GRU, PyTorch's, applies it after (Keras's default, reset_after=True)"
                )
        elif kind == "Embedding" and c.get("mask_zero"):
            raise ModelImportError(
                f"Embedding layer {name!r} has mask_zero=True: Keras skips character 0 entirely, "
                "which lstm-viz's models do not"
            )
        elif kind == "Dense" and c.get("activation", "linear") not in ("linear", "softmax", "log_softmax"):
            raise ModelImportError(
                f"Dense layer {name!r} uses activation={c['activation']!r}; the head must give "
                "logits or probabilities (linear or softmax)"
            )


def _h5_vars(group) -> list[np.ndarray]:
    vars_ = group.get("vars")
    return [] if vars_ is None else [np.asarray(vars_[k], dtype=np.float32) for k in sorted(vars_, key=int)]


def from_keras(path, alphabet) -> CharLSTM:
    """A CharLSTM from a Keras 3 character model (.keras or .weights.h5), read with h5py: no TensorFlow.

    The model is an Embedding (or one-hot input), LSTM, GRU or SimpleRNN layers (one kind) and one
    Dense head. Kernels are transposed into PyTorch's layout: an LSTM's gates are in PyTorch's
    order (i, f, c, o) with one bias; a GRU's (z, r, h) become PyTorch's (r, z, n), its two
    biases (reset_after=True) the input and recurrent ones. A .keras file's config is checked
    (sigmoid recurrent_activation, tanh activation, a GRU's reset_after); a bare .weights.h5 has no
    config, so Keras's defaults are assumed.
    """
    import h5py

    path = Path(path)
    chars = alphabet_chars(alphabet)
    weights, config = _keras_sources(path)
    configs = _keras_layer_configs(config) if config is not None else []
    _keras_checks(configs)
    try:
        f = h5py.File(weights, "r")
    except OSError as e:
        raise ModelImportError(f"{path}: not a readable HDF5 weights file, perhaps truncated ({e})") from None
    try:
        with f:
            groups = f.get("layers")
            if groups is None:
                raise ModelImportError(f"{path}: no 'layers' group; not a Keras 3 weights file")
            found: dict[str, list] = {}
            for name in groups:
                kind = re.sub(r"_\d+$", "", name)
                g = groups[name]
                params = _h5_vars(g["cell"]) if kind in KERAS_KINDS and "cell" in g else _h5_vars(g)
                if not params and not any(isinstance(g[k], h5py.Group) and k not in ("vars",) for k in g):
                    continue  # input, dropout and other layers without weights
                if kind not in ("embedding", "dense", *KERAS_KINDS):
                    what = {
                        "bidirectional": "a bidirectional layer (its state depends on the text after each character)",
                    }.get(kind, f"a {kind!r} layer")
                    raise ModelImportError(
                        f"{path}: the model has {what}; "
                        "lstm-viz imports Embedding -> LSTM, GRU or SimpleRNN -> Dense only"
                    )
                index = int(name.rsplit("_", 1)[1]) if name != kind else 0
                found.setdefault(kind, []).append((index, params))
    except OSError as e:
        raise ModelImportError(f"{path}: the HDF5 file cannot be read, perhaps truncated ({e})") from None
    return _build_keras(path, chars, {k: [p for _, p in sorted(v, key=lambda t: t[0])] for k, v in found.items()})


def _keras_layer(path: Path, kind: str, i: int, params: list) -> tuple:
    """One Keras recurrent layer's (W_ih, W_hh, b_ih, b_hh) in PyTorch's layout and gate order."""
    G = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    shown = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}[kind]
    if len(params) not in (2, 3) or params[0].ndim != 2 or params[1].ndim != 2:
        raise ModelImportError(f"{path}: {shown} layer {i} does not hold kernel, recurrent kernel and bias")
    kernel, recurrent = params[0], params[1]  # (in, GH), (H, GH)
    H = recurrent.shape[0]
    if recurrent.shape[1] != G * H or kernel.shape[1] != G * H:
        raise ModelImportError(
            f"{path}: {shown} layer {i} weights are {_shape(kernel)} and {_shape(recurrent)}, "
            f"not a {shown}'s in x {G if G > 1 else ''}H and H x {G if G > 1 else ''}H"
        )
    bias = params[2] if len(params) == 3 else np.zeros((2, G * H) if kind == "gru" else G * H, np.float32)
    if kind != "gru":  # one bias, gates (an LSTM's i, f, c, o) already in PyTorch's order
        return kernel.T, recurrent.T, bias, np.zeros(G * H, np.float32)
    if bias.shape != (2, 3 * H):
        raise ModelImportError(
            f"{path}: GRU layer {i} has one bias of {_shape(bias)}: a GRU with reset_after=False, whose reset gate "
            "acts before the recurrent product; lstm-viz's GRU, PyTorch's, applies it after (reset_after=True)"
        )
    order = np.concatenate([np.arange(H, 2 * H), np.arange(H), np.arange(2 * H, 3 * H)])  # Keras z, r, h -> r, z, n
    return kernel.T[order], recurrent.T[order], bias[0][order], bias[1][order]


def _build_keras(path: Path, chars: list[str], found: dict) -> CharLSTM:
    N = len(chars)
    kinds = [k for k in KERAS_KINDS if found.get(k)]
    if not kinds:
        raise ModelImportError(f"{path}: no LSTM, GRU or SimpleRNN layer")
    if len(kinds) > 1:
        raise ModelImportError(f"{path}: the model mixes {' and '.join(kinds)} layers; lstm-viz's models have one kind")
    if len(found.get("dense", [])) != 1 or len(found.get("embedding", [])) > 1:
        raise ModelImportError(
            f"{path}: expected one Dense head and at most one Embedding, found "
            f"{len(found.get('dense', []))} and {len(found.get('embedding', []))}"
        )
    kind = KERAS_KINDS[kinds[0]]
    shown = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}[kind]
    layers = []
    for i, params in enumerate(found[kinds[0]]):
        layer = _keras_layer(path, kind, i, params)
        if layers and layer[0].shape[1] != layers[-1][1].shape[1]:
            raise ModelImportError(
                f"{path}: {shown} layer {i} takes {layer[0].shape[1]} inputs but the layer before "
                f"has {layers[-1][1].shape[1]} cells"
            )
        layers.append(layer)
    E, H = layers[0][0].shape[1], layers[-1][1].shape[1]
    embedding = None
    if found.get("embedding"):
        embedding = found["embedding"][0][0]
        if embedding.shape != (N, E):
            raise ModelImportError(
                f"{path}: the Embedding is {_shape(embedding)}, but {N} alphabet characters and a "
                f"{shown} taking {E} inputs need {N}x{E}. Is the alphabet the one the model was trained with?"
            )
    elif E != N:
        raise ModelImportError(
            f"{path}: no Embedding, and the first {shown} takes {E} inputs, not one-hot input over "
            f"the {N} alphabet characters"
        )
    dense = found["dense"][0]
    if dense[0].shape != (H, N):
        raise ModelImportError(
            f"{path}: the Dense head is {_shape(dense[0])}, but {H} cells and {N} alphabet "
            f"characters need {H}x{N}. Is the alphabet the one the model was trained with?"
        )
    for name, a in [("embedding", embedding), ("dense", dense[0])] + [
        (f"{shown} {i}", p[0]) for i, p in enumerate(layers)
    ]:
        if a is not None and not np.isfinite(a).all():
            raise ModelImportError(f"{path}: the {name} weights hold NaN or infinite values")
    return build(chars, embedding, layers, dense[0].T, dense[1] if len(dense) > 1 else None, kind)


def import_file(framework: str, file, alphabet_file, out) -> Path:
    """Convert a PyTorch or Keras model file into a checkpoint folder `out`; nothing is written on failure."""
    import hashlib
    from datetime import datetime

    from .checkpoint import save

    file, out = Path(file), Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ModelImportError(f"{out}: already exists and is not empty; choose a new folder")
    chars = read_alphabet(alphabet_file)
    if framework == "torch":
        model = from_torch(load_torch_file(file), chars)
    elif framework == "keras":
        model = from_keras(file, chars)
    else:
        raise ModelImportError(f"--from {framework!r}: choose torch or keras")
    source = {
        "framework": framework,
        "file": file.name,
        "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
        "imported": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "unknown_slot": "added by lstm-viz as id 0; it never changes the model's own probabilities",
    }
    if model.matched:
        source["matched"] = model.matched
    save(model, out, {"corpus": {"name": f"an unknown corpus (imported from {file.name})"}, "source": source})
    return out
