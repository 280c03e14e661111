"""The cell atlas: per-cell statistics, best hypothesis, snippets, the file and the command."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_viz import CharLSTM, Config, Vocab, atlas, checkpoint, cli
from lstm_viz import features as F
from lstm_viz.data import split_bounds
from lstm_viz.finder import Activations


def prose(n_paragraphs: int = 40, seed: int = 0) -> str:
    """Paragraphs of wrapped lines with quoted speech, no code."""
    rng = np.random.default_rng(seed)
    words = [
        "the",
        "old",
        "prince",
        "said",
        "that",
        "nothing",
        "would",
        "come",
        "of",
        "it",
        "and",
        "she",
        "smiled",
        "at",
        "him",
    ]
    paragraphs = []
    for _ in range(n_paragraphs):
        text = " ".join(rng.choice(words, rng.integers(20, 60)))
        a = int(rng.integers(0, len(text) // 2))
        a = text.index(" ", a) + 1
        b = text.index(" ", a + 10)
        text = text[:a] + '"' + text[a:b].capitalize() + '."' + text[b:] + "."
        lines, line = [], ""
        for word in text.split(" "):
            if len(line) + len(word) > 50:
                lines.append(line.rstrip())
                line = ""
            line += word + " "
        paragraphs.append("\n".join(lines + [line.rstrip()]))
    return "\n\n".join(paragraphs) + "\n"


@pytest.fixture(scope="module")
def planted():
    """Activations (2, T, 3) of prose: cell (0, 1) follows quotes, (1, 0) falls with the line
    position, (1, 2) is saturated at 0.95; the rest is noise."""
    text = prose()
    rng = np.random.default_rng(1)
    values = rng.uniform(-0.5, 0.5, (2, len(text), 3)).astype(np.float32)
    values[0, :, 1] = np.where(F.compute("quotes", text), 0.8, -0.6) + rng.normal(0, 0.05, len(text))
    values[1, :, 0] = -np.tanh(F.compute("line_position", text) / 30)
    values[1, :, 2] = 0.95
    return Activations(text, values)


@pytest.fixture(scope="module")
def built(planted):
    return atlas.build(planted)


def test_every_cell_gets_an_entry_in_layer_order(built):
    assert [(c["layer"], c["cell"]) for c in built["cells"]] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert atlas.cell_entry(built, 1, 2)["cell"] == 2 and atlas.cell_entry(built, 1, 2)["layer"] == 1


def test_each_cell_knows_its_best_hypothesis(built):
    quote = atlas.cell_entry(built, 0, 1)["best"]
    assert (quote["feature"], quote["statistic"], quote["sign"]) == ("quotes", "auc", 1)
    assert quote["score"] > 0.99 and quote["strength"] == pytest.approx(2 * quote["score"] - 1, abs=1e-3)
    line = atlas.cell_entry(built, 1, 0)["best"]
    assert (line["feature"], line["statistic"], line["sign"]) == ("line_position", "pearson", -1)
    assert line["score"] > 0.95 and line["strength"] == line["score"]


def test_mean_variance_and_saturation(built, planted):
    fixed = atlas.cell_entry(built, 1, 2)
    assert (fixed["mean"], fixed["variance"], fixed["saturation"]) == (0.95, 0.0, 1.0)
    noise = atlas.cell_entry(built, 0, 0)
    v = planted.values[0, :, 0]
    assert noise["variance"] == pytest.approx(v.var(), abs=1e-4) and noise["saturation"] == 0.0
    assert built["definitions"]["saturation"] == "fraction of characters where |tanh(c)| > 0.9"


def test_snippets_show_where_a_cell_is_highest_and_lowest(built, planted):
    entry = atlas.cell_entry(built, 0, 1)
    inside = F.compute("quotes", planted.text)
    assert len(entry["top"]) == 3 and len(entry["bottom"]) == 3
    positions = []
    for kind, expect_inside in (("top", True), ("bottom", False)):
        for text, at, value, colours in entry[kind]:
            assert len(text) == 40 and 0 <= at < 40
            pos = planted.text.index(text) + at  # snippets are long enough to be unique here
            assert inside[pos] == expect_inside
            assert value == round(float(planted.values[0, pos, 1]), 3)
            start = pos - at
            assert colours == np.rint(planted.values[0, start : start + 40, 1] * 100).astype(int).tolist()
            positions.append(pos)
    values = planted.values[0, :, 1]
    assert entry["top"][0][2] == round(float(values.max()), 3)
    assert entry["bottom"][0][2] == round(float(values.min()), 3)
    top = sorted(positions[:3])
    assert min(np.diff(top)) >= 40  # three different places, not one place thrice


def test_each_best_hypothesis_is_scored_by_simulating_the_cell(built, planted):
    quote = atlas.cell_entry(built, 0, 1)["explanation"]
    assert quote["feature"] == "quotes" and quote["score"] > 0.98
    assert quote["slope"] == pytest.approx(1.4, abs=0.02) and quote["intercept"] == pytest.approx(-0.6, abs=0.02)
    line = atlas.cell_entry(built, 1, 0)["explanation"]
    assert line["feature"] == "line_position" and line["slope"] < 0 and line["score"] > 0.9
    noise = atlas.cell_entry(built, 0, 0)["explanation"]
    assert abs(noise["score"]) < 0.1  # its best hypothesis is a chance match that does not carry over
    assert atlas.cell_entry(built, 1, 2)["explanation"] is None  # a constant cell cannot be simulated


def test_simulation_is_fitted_on_one_half_and_scored_on_the_other():
    x = np.r_[np.zeros(50), np.ones(50), np.zeros(50), np.ones(50)]
    values = np.zeros((1, 200, 2), np.float32)
    values[0, :, 0] = 0.5 * x - 0.2  # follows the feature everywhere
    values[0, :, 1] = np.r_[0.5 * x[:100], -0.5 * x[100:]]  # flips its sign in the second half
    out = atlas.explanations(values, {"f": x}, {"f": np.array([[True, True]])})
    assert out["slope"][0].tolist() == pytest.approx([0.5, 0.5]) and out["intercept"][0, 0] == pytest.approx(-0.2)
    assert out["score"][0].tolist() == pytest.approx([1.0, -1.0])


def test_histograms_and_quantile_snippets(built, planted):
    fixed = atlas.cell_entry(built, 1, 2)
    assert fixed["histogram"] == [0] * 19 + [1000]
    entry = atlas.cell_entry(built, 0, 0)
    assert len(entry["histogram"]) == atlas.BINS and abs(sum(entry["histogram"]) - 1000) <= atlas.BINS
    values = planted.values[0, :, 0]
    assert built["quantiles"] == [0.25, 0.5, 0.75] and len(entry["quantiles"]) == 3
    for q, (text, _at, value, colours) in zip(built["quantiles"], entry["quantiles"]):
        assert value == pytest.approx(np.quantile(values, q), abs=0.01)
        assert len(text) == 40 and len(colours) == 40


def test_extremes_are_apart_and_missing_ones_are_minus_one():
    values = np.zeros((1, 30, 1), np.float32)
    values[0, [9, 10, 25], 0] = [5, 4, 3]  # 9 and 10 top neighbouring runs of 10 characters
    assert atlas.extremes(values, 2, gap=10)[0, 0].tolist() == [9, 25]
    assert atlas.extremes(-values, 2, gap=10, lowest=True)[0, 0].tolist() == [9, 25]
    assert atlas.extremes(values[:, :12], 3, gap=10)[0, 0].tolist() == [9, -1, -1]


def test_snippet_context_is_clipped_to_the_text():
    assert atlas.snippet("abcdefghij", 1, width=6, before=4) == ("abcdef", 1)
    assert atlas.snippet("abcdefghij", 9, width=6, before=4) == ("efghij", 5)
    assert atlas.snippet("abcdefghij", 5, width=6, before=4) == ("bcdefg", 4)


def test_features_that_never_occur_are_left_out(built):
    assert "comment" not in built["features"] and "if_condition" not in built["features"]
    assert all(c["best"]["feature"] not in ("comment", "if_condition", "if_body") for c in built["cells"])
    quotes = built["features"]["quotes"]
    assert quotes["kind"] == "binary" and quotes["top"][0][:2] == [0, 1] and quotes["top"][0][3] == 1
    assert built["features"]["line_position"]["top"][0][:2] == [1, 0]


def test_the_json_is_compact_enough_for_two_by_512_cells(built):
    size = len(json.dumps(built, separators=(",", ":")))
    per_cell = (size - len(json.dumps({k: v for k, v in built.items() if k != "cells"}))) / len(built["cells"])
    assert per_cell * 1024 < 2.5e6


# the file


def test_write_then_load_round_trips_and_absent_is_none(tmp_path, built):
    model = random_model(tmp_path / "m")
    assert atlas.load_atlas(model) is None
    atlas.write(model, {**built, "model": {"weights_sha256": atlas.weights_sha256(model)}})
    loaded = atlas.load_atlas(model)
    assert loaded.pop("stale") is False
    assert loaded["cells"] == json.loads(json.dumps(built["cells"]))


def test_an_atlas_of_other_weights_is_flagged_stale(tmp_path, built):
    model = random_model(tmp_path / "m")
    atlas.write(model, {**built, "model": {"weights_sha256": "0" * 64}})
    assert atlas.load_atlas(model)["stale"] is True


def test_a_broken_atlas_file_raises_one_clear_line(tmp_path):
    model = random_model(tmp_path / "m")
    (model / atlas.FILE).write_text("{not json")
    with pytest.raises(ValueError, match="atlas.json: not valid JSON"):
        atlas.load_atlas(model)
    (model / atlas.FILE).write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a lstm-viz-atlas/1 file"):
        atlas.load_atlas(model)


# held-out text and the command


def random_model(folder, text: str = 'abc \n"().') -> Path:
    torch.manual_seed(0)
    vocab = Vocab(sorted(set(text)))
    checkpoint.save(CharLSTM(Config(len(vocab), layers=2, hidden=8, embed=4), vocab), folder, {})
    return folder


def test_held_out_text_starts_after_a_paragraph_break_of_the_test_split_with_warm_up(tmp_path):
    text = prose(200, seed=2)
    path = tmp_path / "corpus.txt"
    path.write_text(text)
    lo, hi = split_bounds(len(text))["test"]
    slice_, start, warm = atlas.held_out(path, max_chars=500, warmup=100)
    assert lo <= start < hi and text[start - 2 : start] == "\n\n" and "\n\n" not in text[lo : start - 1]
    assert warm == 100 and slice_ == text[start - 100 : start + 500]
    whole, start2, _ = atlas.held_out(path, max_chars=10**9)
    assert start2 == start and whole.endswith(text[start:hi]) and len(whole) <= hi - start + 1000


def test_the_atlas_command_writes_into_the_model_folder(tmp_path, capsys):
    text = prose(60, seed=3)
    (tmp_path / "corpus.txt").write_text(text)
    model = random_model(tmp_path / "model", text)
    code = cli.main(["atlas", "--model", str(model), "--corpus", str(tmp_path / "corpus.txt"), "--max-chars", "900"])
    out, err = capsys.readouterr()
    assert code == 0 and out.startswith(f"{model / 'atlas.json'}: 2 x 8 cells on corpus.txt test split")
    assert "not the corpus this model was trained on" in err  # its card names no corpus
    data = atlas.load_atlas(model)
    assert len(data["cells"]) == 16 and data["stale"] is False and data["corpus"]["split"] == "test"
    assert data["corpus"]["end"] - data["corpus"]["start"] == data["chars"] == 900
    assert data["corpus"]["warmup"] == 1000 and data["model"]["name"] == "model"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--corpus", "/nonexistent/corpus.txt"], "error: /nonexistent/corpus.txt: no such corpus file"),
        (["--max-chars", "10"], "error: max_chars must be at least 100, not 10"),
    ],
)
def test_the_atlas_command_reports_bad_arguments_in_one_line(tmp_path, capsys, args, message):
    (tmp_path / "corpus.txt").write_text(prose(5))
    model = random_model(tmp_path / "model")
    code = cli.main(["atlas", "--model", str(model), "--corpus", str(tmp_path / "corpus.txt"), *args])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(message) and err.count("\n") == 1
