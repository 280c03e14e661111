"""Your own Keras 3 LSTM, read with h5py: every cell and prediction equal to Keras's own (torch backend)."""

import os
import subprocess
import sys
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":
    pytest.skip("these tests build Keras models on its torch backend", allow_module_level=True)

import lstm_viz  # noqa: E402
from lstm_viz import ModelImportError, from_keras  # noqa: E402
from lstm_viz.io import archive, importers  # noqa: E402

ALPHABET = list("abcdefgh .,\n\"'()")
N = len(ALPHABET)
TEXT = "a \"bed\", (cafe) head.\nfade 'ace' bad"


def char_model(embedding=True, recurrent_activation="sigmoid", seed=0):
    keras.utils.set_random_seed(seed)
    if embedding:
        layers = [keras.Input((None,), dtype="int32"), keras.layers.Embedding(N, 6)]
    else:
        layers = [keras.Input((None, N))]
    layers += [
        keras.layers.LSTM(
            10, return_sequences=True, recurrent_activation=recurrent_activation, bias_initializer="random_normal"
        ),
        keras.layers.LSTM(10, return_sequences=True, bias_initializer="random_normal"),
        keras.layers.Dense(N, activation="softmax"),
    ]
    return keras.Sequential(layers)


def keras_inputs(model, ids):
    return np.asarray([ids], dtype="int32") if model.inputs[0].dtype == "int32" else np.eye(N, dtype="float32")[[ids]]


def keras_cells(model, ids):
    """tanh(c_t) (L, T, H) from Keras's own LSTM cells, stepped one character at a time."""
    x = (
        keras.ops.convert_to_numpy(model.layers[0](keras_inputs(model, ids)))
        if model.inputs[0].dtype == "int32"
        else keras_inputs(model, ids)
    )  # (1, T, E)
    cells = []
    for lstm in [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]:
        h = c = np.zeros((1, lstm.units), dtype="float32")
        outs, cs = [], []
        for t in range(x.shape[1]):
            out, (h, c) = lstm.cell(x[:, t], [h, c])
            h, c = keras.ops.convert_to_numpy(h), keras.ops.convert_to_numpy(c)
            outs.append(h[0])
            cs.append(np.tanh(c[0]))
        cells.append(np.stack(cs))
        x = np.stack(outs)[None]
    return cells


def assert_same_as_keras(model, imported):
    ids = [ALPHABET.index(c) for c in TEXT]
    tr = imported.trace(TEXT)
    for layer, cells in enumerate(keras_cells(model, ids)):
        np.testing.assert_allclose(tr.cell[layer], cells, atol=1e-5)
    probs = keras.ops.convert_to_numpy(model(keras_inputs(model, ids)))[0]  # (T, N): Keras's own predictions
    np.testing.assert_allclose(np.exp(tr.log_probs[:, 1:]), probs, atol=1e-5)
    assert (np.exp(tr.log_probs[:, 0]) == 0).all()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One embedding model saved both ways, and one one-hot model."""
    folder = tmp_path_factory.mktemp("keras")
    model = char_model()
    model.save(folder / "char.keras")
    model.save_weights(folder / "char.weights.h5")
    one_hot = char_model(embedding=False, seed=1)
    one_hot.save(folder / "onehot.keras")
    return folder, model, one_hot


def test_a_keras_file_keeps_every_cell_and_prediction(saved):
    folder, model, _ = saved
    imported = from_keras(folder / "char.keras", ALPHABET)
    assert (imported.config.layers, imported.config.hidden, imported.config.embed) == (2, 10, 6)
    assert_same_as_keras(model, imported)


def test_a_bare_weights_file_gives_the_same_model(saved):
    folder, model, _ = saved
    assert_same_as_keras(model, from_keras(folder / "char.weights.h5", ALPHABET))


def test_one_hot_input_needs_no_embedding(saved):
    folder, _, one_hot = saved
    imported = from_keras(folder / "onehot.keras", ALPHABET)
    assert imported.config.embed == N
    assert_same_as_keras(one_hot, imported)


def test_a_hard_sigmoid_recurrent_activation_is_refused(tmp_path):
    char_model(recurrent_activation="hard_sigmoid").save(tmp_path / "hard.keras")
    with pytest.raises(ModelImportError, match=r"recurrent_activation='hard_sigmoid'.*only 'sigmoid'"):
        from_keras(tmp_path / "hard.keras", ALPHABET)


@pytest.mark.parametrize(
    "recurrent, message",
    [
        (lambda: keras.layers.Bidirectional(keras.layers.LSTM(5, return_sequences=True)), "a bidirectional layer"),
    ],
)
def test_other_recurrent_layers_are_refused(tmp_path, recurrent, message):
    model = keras.Sequential(
        [keras.Input((None,), dtype="int32"), keras.layers.Embedding(N, 6), recurrent(), keras.layers.Dense(N)]
    )
    model.save_weights(tmp_path / "other.weights.h5")
    with pytest.raises(ModelImportError, match=message):
        from_keras(tmp_path / "other.weights.h5", ALPHABET)


def test_layers_of_different_sizes_are_refused(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(N, 6),
            keras.layers.LSTM(10, return_sequences=True),
            keras.layers.LSTM(7, return_sequences=True),
            keras.layers.Dense(N),
        ]
    )
    model.save(tmp_path / "sizes.keras")
    with pytest.raises(ModelImportError, match=r"LSTM layers of different sizes \(10, 7 cells\)"):
        from_keras(tmp_path / "sizes.keras", ALPHABET)


def test_the_wrong_alphabet_size_is_refused(saved):
    with pytest.raises(ModelImportError, match=r"Embedding is 16x6, but 15 alphabet characters"):
        from_keras(saved[0] / "char.keras", ALPHABET[:-1])


def rezipped(source, out, extra: int = 0):
    """A copy of the .keras zip `source` at `out`, with `extra` empty entries added."""
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(out, "w") as copy:
        for name in z.namelist():
            copy.writestr(name, z.read(name))
        for i in range(extra):
            copy.writestr(f"assets/{i}", b"")
    return out


def test_a_keras_zip_is_read_through_the_bounded_reader(saved, tmp_path, monkeypatch):
    many = rezipped(saved[0] / "char.keras", tmp_path / "many.keras", extra=archive.MAX_ENTRIES)
    with pytest.raises(ModelImportError, match=r"many\.keras: lists 1,00\d entries, more than the 1,000 read$"):
        from_keras(many, ALPHABET)
    monkeypatch.setattr(importers, "KERAS_WEIGHTS_LIMIT", 1_000)
    with pytest.raises(
        ModelImportError,
        match=r"char\.keras: model\.weights\.h5 unpacks to [\d,]+ bytes, over the "
        r"1,000 byte limit$",
    ):
        from_keras(saved[0] / "char.keras", ALPHABET)


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "lstm_viz", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KERAS_BACKEND": "torch"},
    )


@pytest.mark.slow
def test_cli_import_from_keras_notes_the_source_on_the_card(saved, tmp_path):
    folder, model, _ = saved
    (tmp_path / "alphabet.txt").write_text("".join(ALPHABET))
    done = cli(
        "import",
        "--from",
        "keras",
        folder / "char.keras",
        "--alphabet",
        tmp_path / "alphabet.txt",
        "--out",
        tmp_path / "mine",
    )
    assert done.returncode == 0, done.stderr
    loaded = lstm_viz.load(tmp_path / "mine")
    assert loaded.card["source"]["framework"] == "keras" and loaded.card["source"]["file"] == "char.keras"
    assert_same_as_keras(model, loaded)


@pytest.mark.slow
def test_cli_import_of_a_truncated_weights_file_writes_nothing(saved, tmp_path):
    data = (saved[0] / "char.weights.h5").read_bytes()
    (tmp_path / "cut.weights.h5").write_bytes(data[: len(data) // 2])
    (tmp_path / "alphabet.txt").write_text("".join(ALPHABET))
    done = cli(
        "import",
        "--from",
        "keras",
        tmp_path / "cut.weights.h5",
        "--alphabet",
        tmp_path / "alphabet.txt",
        "--out",
        tmp_path / "x",
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "truncated" in lines[0], done.stderr
    assert not (tmp_path / "x").exists()


# A GRU and a SimpleRNN ------------------------------------------------------------------------


def kind_model(layer, seed=0, **options):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(N, 6),
            layer(10, return_sequences=True, bias_initializer="random_normal", **options),
            layer(10, return_sequences=True, bias_initializer="random_normal", **options),
            keras.layers.Dense(N, activation="softmax"),
        ]
    )


def keras_states(model, ids):
    """h (L, T, H) of each recurrent layer, from Keras's own layers run over the whole text."""
    x = model.layers[0](keras_inputs(model, ids))
    states = []
    for layer in model.layers[1:-1]:
        x = layer(x)
        states.append(keras.ops.convert_to_numpy(x)[0])
    return states


@pytest.mark.parametrize("kind, layer", [("gru", "GRU"), ("rnn", "SimpleRNN")])
@pytest.mark.parametrize("file", ["m.keras", "m.weights.h5"])
def test_a_keras_gru_or_simple_rnn_keeps_every_state_and_prediction(tmp_path, kind, layer, file):
    model = kind_model(getattr(keras.layers, layer))
    (model.save if file.endswith(".keras") else model.save_weights)(tmp_path / file)
    imported = from_keras(tmp_path / file, ALPHABET)
    assert imported.kind == kind and (imported.config.layers, imported.config.hidden) == (2, 10)
    ids = [ALPHABET.index(c) for c in TEXT]
    tr = imported.trace(TEXT)
    for layer, states in enumerate(keras_states(model, ids)):
        np.testing.assert_allclose(tr.hidden[layer], states, atol=1e-5)
    probs = keras.ops.convert_to_numpy(model(keras_inputs(model, ids)))[0]
    np.testing.assert_allclose(np.exp(tr.log_probs[:, 1:]), probs, atol=1e-5)


def test_a_gru_that_resets_before_the_recurrent_product_is_refused(tmp_path):
    model = kind_model(keras.layers.GRU, reset_after=False)
    model.save(tmp_path / "before.keras")
    model.save_weights(tmp_path / "before.weights.h5")
    for file in ("before.keras", "before.weights.h5"):  # the config says so; a bare weights file by its one bias
        with pytest.raises(ModelImportError, match="reset_after=False") as err:
            from_keras(tmp_path / file, ALPHABET)
        assert "\n" not in str(err.value)


def test_a_model_mixing_kinds_of_recurrent_layers_is_refused(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(N, 6),
            keras.layers.GRU(10, return_sequences=True),
            keras.layers.SimpleRNN(10, return_sequences=True),
            keras.layers.Dense(N),
        ]
    )
    model.save_weights(tmp_path / "mixed.weights.h5")
    with pytest.raises(ModelImportError, match="mixes gru and simple_rnn layers"):
        from_keras(tmp_path / "mixed.weights.h5", ALPHABET)
