"""The page under hostile input, run headless with Streamlit's AppTest: garbage links, huge and
odd texts, broken model folders. Each case ends in a valid view or a clear message, never an
exception. (Library-level checkpoints and characters: test_core_checkpoint.py, test_core_trace.py.)
"""

from __future__ import annotations

import ast
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from ui.components import payload
from ui.session import state
from ui.session.examples import EXAMPLES
from ui.widgets import downloads

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ODD = (
    "emoji \U0001f600\U0001f468\u200d\U0001f469\u200d\U0001f467 CJK \u4e2d\u6587\u5b57 RTL \u05e9\u05dc\u05d5\u05dd "
    "\u0645\u0631\u062d\u0628\u0627 combining e\u0301 n\u0303 NUL \x00 controls \x01\x1b[31m\x7f\u200b\ufeff "
    "tab\tCRLF\r\nCR\rend\x00"
)
INJECTIONS = (
    '<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n"><svg onload=alert(1)>\n'
    '<img src=x onerror="window.__pwned=1"><a href="javascript:alert(1)">click</a> javascript:alert(1)\n'
    "&lt;b&gt; &amp; &#60; < lone\n[link](https://evil.example) **bold** :red[red] $x$\n"
)


def run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    return rerun(at)


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def paste(at: AppTest, text: str) -> AppTest:
    at.text_area(key="text").set_value(text)
    return rerun(at)


def view(at: AppTest) -> dict:
    """What the coloured text was given: "text", the layer part's header; "cell", the view's own data."""
    (layer,) = [e for e in at.get("bidi_component") if e.proto.component_name == "lstm_viz_layer"]
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "lstm_viz_text"]
    return {"text": payload.unblob(layer.proto.bytes)[0], "cell": json.loads(element.proto.json)}


def rss_mb() -> float:
    """This process's resident memory now, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


# --- links ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer, cell, notes",
    [
        ("9", "99999", ["Layer 9 does not exist", "Cell 99999 does not exist"]),
        ("0", "-3", ["Layer 0 does not exist", "Cell -3 does not exist"]),
        ("-1", "512", ["Layer -1 does not exist", "Cell 512 does not exist"]),
    ],
)
def test_a_link_with_layer_or_cell_out_of_range_opens_layer_1_cell_0_with_a_notice_each(layer, cell, notes):
    at = run({"layer": layer, "cell": cell})
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2 and all(any(w.startswith(n) for w in warnings) for n in notes)
    shown = view(at)["cell"]
    assert (shown["layer"], shown["cell"]) == (0, 0)
    assert (at.query_params["layer"], at.query_params["cell"]) == ("1", "0")  # the link is corrected too


def test_a_link_to_a_missing_model_opens_the_default_model_with_a_notice():
    at = run({"model": "gpt-17", "layer": "1", "cell": "4"})
    (warning,) = at.warning
    assert "model='gpt-17'" in warning.value and "no such model" in warning.value
    assert at.selectbox(key="model").value == "warpeace" and at.query_params["model"] == "warpeace"
    assert view(at)["cell"]["cell"] == 4


def test_garbage_in_every_field_of_a_link_gives_a_working_page_and_one_notice_per_field():
    garbage = {
        "model": "\x00",
        "layer": "1.5",
        "cell": "1e3",
        "signal": "",
        "example": "../../etc/passwd",
        "pos": "NaN",
        "text": "../../../etc/passwd",
        "unknown": "ignored",
    }
    at = run(garbage)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 7
    for key in ("model", "layer", "cell", "signal", "example", "pos", "text"):
        assert sum(w.startswith(f"Ignored `{key}=") for w in warnings) == 1
    assert view(at)["text"]["text"] == EXAMPLES["dialogue"].text
    assert set(at.query_params) == {"model", "layer", "cell", "signal", "pos", "example"}


def test_a_value_from_a_link_is_quoted_as_inline_code_so_it_cannot_add_links_or_formatting():
    at = run({"model": "[log in](https://evil.example/login)", "example": "**bold** :red[x] <b>`"})
    assert [w.value.split(" from the link")[0] for w in at.warning] == [
        "Ignored `model='[log in](https://evil.example/login)'`",
        "Ignored ``example='**bold** :red[x] <b>`'``",  # a fence longer than any backticks inside
    ]


@pytest.mark.slow
def test_a_notice_repeats_only_the_start_of_a_very_long_value():
    at = run({"example": "A" * 100_000})
    (warning,) = at.warning
    assert len(warning.value) < 200 and ("A" * state.QUOTED + "\u2026") in warning.value


@pytest.mark.slow
@pytest.mark.parametrize("key", ["layer", "cell", "pos"])
def test_a_number_of_thousands_of_digits_in_a_link_is_refused_in_a_short_notice(key):
    at = run({key: "9" * 4_000})
    (warning,) = at.warning
    assert warning.value.startswith(f"Ignored `{key}='999") and "at most 6 digits" in warning.value
    assert len(warning.value) < 200


# --- texts ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_one_character_is_traced_and_shown():
    data = view(paste(run({"layer": "1", "cell": "0"}), "a"))
    assert data["text"]["text"] == "a" and data["text"]["length"] == 1
    assert data["cell"]["selected"] == 0


@pytest.mark.slow
def test_a_one_megabyte_paste_is_refused_kept_in_the_box_and_never_traced(model_runs):
    at = run({"layer": "1", "cell": "0"})
    before = rss_mb()
    huge = ("All happy families are alike. " * 40_000)[:1_000_000]
    paste(at, huge)
    (error,) = at.error
    assert "1,000,000 characters" in error.value and "10,000" in error.value
    assert at.text_area(key="text").value == huge
    assert view(at)["text"]["text"] == EXAMPLES["dialogue"].text  # the last text within the limit
    assert all(len(text) <= state.LIMIT for text in model_runs)
    assert rss_mb() - before < 200  # a few copies of 1 MB of text, not a trace of it


@pytest.mark.slow
def test_odd_characters_are_traced_shown_and_downloaded_one_for_one():
    at = paste(run({"layer": "1", "cell": "0"}), ODD)
    text = lstm_viz.normalise(ODD)
    data = view(at)
    tr = lstm_viz.load("warpeace").trace(text)
    assert data["text"]["text"] == text and data["text"]["length"] == len(text)
    assert data["text"]["unknown"] == np.flatnonzero(tr.unknown).tolist() and tr.unknown.sum() > 10
    csv = pd.read_csv(io.BytesIO(downloads.cell_csv(tr, 0, 0)), keep_default_na=False, dtype={"char": str})
    assert csv["char"].tolist() == list(text)


@pytest.mark.slow
def test_injected_markup_reaches_the_page_only_as_data_never_as_html():
    at = paste(run({"layer": "1", "cell": "0"}), INJECTIONS)
    assert view(at)["text"]["text"] == INJECTIONS
    for element in at.markdown:
        if element.proto.allow_html:  # any HTML the app writes itself must not carry user text
            assert "<script>" not in element.value and "onerror=" not in element.value


@pytest.mark.slow
def test_traces_are_kept_for_at_most_16_texts_so_visitors_cannot_fill_the_memory(model_runs):
    traced = model_runs
    at = run({"layer": "1", "cell": "0"})
    first = "The first of many visitors."
    for text in (first, "Another.", first):
        paste(at, text)
    assert traced.count(first) == 1  # kept while it is among the last 16
    for i in range(16):
        paste(at, f"Visitor number {i}.")
    paste(at, first)
    assert traced.count(first) == 2  # dropped after 16 other texts, so traced again


# --- model folders ----------------------------------------------------------------------------


class Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def make_model_folders(root: Path) -> Path:
    """`root` as a pretrained/ folder: the good War and Peace model beside four broken ones. A file
    root/pwned appears if anything ever unpickles the "pickled" one."""
    good = lstm_viz.io.checkpoint.resolve("warpeace")
    (root / "warpeace").symlink_to(good)
    card = json.loads((good / "card.json").read_text())
    weights = (good / "model.safetensors").read_bytes()

    def folder(name: str, card: dict, weights: bytes | None) -> Path:
        (root / name).mkdir()
        (root / name / "card.json").write_text(json.dumps(card))
        if weights is not None:
            (root / name / "model.safetensors").write_bytes(weights)
        return root / name

    folder("truncated", card, weights[: len(weights) // 2])
    folder("wrong-shape", {**card, "config": {**card["config"], "hidden": 256}}, weights)
    folder("card-mismatch", {**card, "config": {**card["config"], "layers": 3}}, weights)
    (folder("pickled", card, None) / "model.pt").write_bytes(pickle.dumps(Payload(root / "pwned")))
    return root


@pytest.fixture(scope="module")
def model_folders(tmp_path_factory):
    root = make_model_folders(tmp_path_factory.mktemp("pretrained"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lstm_viz.io.checkpoint, "PRETRAINED", root)
        yield root


@pytest.mark.parametrize(
    "name, why",
    [
        ("truncated", "model.safetensors: truncated or corrupt"),
        ("wrong-shape", "the card's config needs"),
        ("card-mismatch", "tensors do not match the card's config"),
        ("pickled", "model.pt: pickle checkpoints are never loaded"),
    ],
)
@pytest.mark.slow
def test_a_broken_model_in_the_list_gives_a_clear_message_and_keeps_the_text(model_folders, name, why):
    at = paste(run({"layer": "1", "cell": "0"}), "Kept while a broken model is tried.")
    at.selectbox(key="model").set_value(name)
    rerun(at)
    (error,) = at.error
    assert error.value.startswith(f"Cannot load model {name!r}:") and why in error.value
    assert "Traceback" not in error.value and "\n" not in error.value
    assert at.text_area(key="text").value == "Kept while a broken model is tried."
    assert not at.get("bidi_component")
    assert not (model_folders / "pwned").exists()  # the pickle's payload never ran


@pytest.mark.slow
def test_a_link_to_a_broken_model_opens_on_its_message_not_a_traceback(model_folders):
    at = run({"model": "truncated"})
    (error,) = at.error
    assert error.value.startswith("Cannot load model 'truncated':")
    at.selectbox(key="model").set_value("warpeace")
    rerun(at)
    assert not at.error and view(at)["text"]["text"] == EXAMPLES["dialogue"].text


PICKLE_LOADERS = {
    ("torch", "load"),
    ("pickle", "load"),
    ("pickle", "loads"),
    ("pickle", "Unpickler"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("joblib", "load"),
    ("dill", "load"),
    ("dill", "loads"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
}


def test_no_code_in_the_project_ever_unpickles():
    """No call of a pickle-based loader, nor np.load(allow_pickle=True), outside the tests; torch.load
    only with weights_only=True (it refuses anything but tensors and plain containers: `import --from torch`)."""
    sources = [
        ROOT / "app.py",
        *(ROOT / "ui").rglob("*.py"),
        *(ROOT / "lstm_viz").rglob("*.py"),
        *(ROOT / "benchmarks").rglob("*.py"),
    ]
    found = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value.id if isinstance(node.func.value, ast.Name) else None
                pickles = any(
                    k.arg == "allow_pickle" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                    for k in node.keywords
                )
                weights_only = (owner, node.func.attr) == ("torch", "load") and any(
                    k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords
                )
                if ((owner, node.func.attr) in PICKLE_LOADERS and not weights_only) or (
                    node.func.attr == "load" and pickles
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert len(sources) > 20 and found == []
