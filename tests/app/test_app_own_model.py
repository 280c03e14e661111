"""Your own model in the app (a checkpoint zip, held for its session within the server's budget
for uploads) and figure downloads."""

from __future__ import annotations

import gc
import io
import json
import weakref
import xml.etree.ElementTree as ET
import zipfile

import pytest
from streamlit.proto.Common_pb2 import FileURLs
from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz import CharLSTM, Config, View
from lstm_viz.io import archive, checkpoint
from lstm_viz.io.checkpoint import CheckpointError
from tests.conftest import APP
from ui.backend import own_model
from ui.session import state
from ui.session.examples import CUSTOM
from ui.widgets import downloads


def checkpoint_zip(model, folder) -> bytes:
    """`model` saved as the checkpoint zip a visitor uploads."""
    folder = lstm_viz.save(model, folder, {"corpus": {"name": "tiny text"}})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in ("card.json", "model.safetensors"):
            z.write(folder / name, name)
    return out.getvalue()


@pytest.fixture(scope="module")
def tiny_zip(tiny_model, tmp_path_factory) -> bytes:
    return checkpoint_zip(tiny_model, tmp_path_factory.mktemp("own") / "tiny")


@pytest.fixture(scope="module")
def mid_zip(tiny_model, tmp_path_factory) -> bytes:
    """A model whose weights take ~0.6 MB: three fit in 2 MB, four do not."""
    model = CharLSTM(Config(tiny_model.config.vocab_size, layers=1, hidden=180, embed=8), tiny_model.vocab).eval()
    assert 3 * archive.float32_bytes(model.config) <= 2 << 20 < 4 * archive.float32_bytes(model.config)
    return checkpoint_zip(model, tmp_path_factory.mktemp("own") / "mid")


@pytest.fixture(autouse=True)
def registry(monkeypatch) -> own_model.Registry:
    """The server's uploads start empty for each test."""
    monkeypatch.setattr(own_model, "REGISTRY", own_model.Registry())
    return own_model.REGISTRY


def test_an_upload_is_named_by_its_content_and_chosen(tiny_zip):
    session = {"uploads": None}
    name = own_model.add(session, "my model.zip", tiny_zip)
    assert name.startswith("my model (uploaded ") and session["model"] == name
    assert own_model.add(session, "my model.zip", tiny_zip) == name and own_model.names(session) == [name]


def test_a_refused_upload_adds_nothing(tiny_zip):
    session = {"uploads": None}
    with pytest.raises(CheckpointError, match="bad.zip: not a readable zip"):
        own_model.add(session, "bad.zip", b"PK not really")
    assert own_model.names(session) == [] and "model" not in session


def test_a_session_holds_a_few_uploads_only(tiny_zip):
    session = {"uploads": None}
    for i in range(own_model.MAX_UPLOADS):
        own_model.add(session, f"m{i}.zip", tiny_zip)
    with pytest.raises(CheckpointError, match="at most 3 uploaded models"):
        own_model.add(session, "one more.zip", tiny_zip)


@pytest.mark.slow
def test_an_uploaded_model_is_shown_like_a_shipped_one_in_this_session_only(tiny_zip):
    session = {"uploads": None}
    name = own_model.add(session, "tiny.zip", tiny_zip)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.session_state["uploads"] = session["uploads"]
    at.run()  # the upload's callback has run: the picker lists it ...
    at.session_state["model"] = name  # ... and chooses it
    at.session_state["text"] = 'the cat said "yes".'
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.selectbox(key="model")
    assert picker.value == name and picker.options[-1] == name
    assert any("2 layers x 24 cells, trained on tiny text" in c.value for c in at.caption)
    other = AppTest.from_file(APP, default_timeout=120).run()
    assert name not in other.selectbox(key="model").options


def lying_zip(tiny_zip: bytes, **claims) -> bytes:
    """The tiny checkpoint zip with its card claiming other sizes; its weights stay the tiny model's."""
    with zipfile.ZipFile(io.BytesIO(tiny_zip)) as z:
        files = {name: z.read(name) for name in z.namelist()}
    card = json.loads(files["card.json"])
    card["config"].update(claims)
    files["card.json"] = json.dumps(card).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def uploaded(name: str, data: bytes) -> UploadedFile:
    """What st.file_uploader hands the page's callback for a file the visitor chose."""
    return UploadedFile(UploadedFileRec("id", name, "application/zip", data), FileURLs())


@pytest.mark.parametrize(
    "claims, why",
    [
        (
            {"layers": 3, "hidden": 2048},
            "card.json: 3 layers x 2048 cells is more than the 2,048 cells in all allowed here",
        ),
        (
            {"layers": 1, "hidden": 65_536},
            "card.json: config does not describe a model (hidden is 65536; it must be a whole number from 1 to 8,192)",
        ),
    ],
)
def test_an_upload_whose_card_lies_is_refused_from_the_card_in_one_line(tiny_zip, monkeypatch, claims, why):
    session = {"uploads": None}
    own_model.receive(session, uploaded("tiny.zip", tiny_zip))
    kept = session["model"]
    monkeypatch.setattr(checkpoint, "CharLSTM", None)  # building a model, or reading
    monkeypatch.setattr(checkpoint, "load_bytes", None)  # the weights, would be a TypeError
    own_model.receive(session, uploaded("liar.zip", lying_zip(tiny_zip, **claims)))
    assert session["upload_error"] == f"liar.zip: {why}"
    assert own_model.names(session) == [kept] and session["model"] == kept  # nothing the visitor had is lost


def with_card(tiny_zip: bytes, card: bytes) -> bytes:
    """The tiny checkpoint zip with another card.json."""
    with zipfile.ZipFile(io.BytesIO(tiny_zip)) as z:
        files = {name: z.read(name) for name in z.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in {**files, "card.json": card}.items():
            z.writestr(name, data)
    return out.getvalue()


def card_of(tiny_zip: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(tiny_zip)) as z:
        return json.loads(z.read("card.json"))


@pytest.mark.parametrize(
    "change, why",
    [
        (lambda c: b'{"format": "lstm-viz/1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested more than 32"),
        (lambda c: json.dumps({**c, "corpus": "war and peace"}).encode(), "corpus must be an object"),
        (lambda c: json.dumps({**c, "loss": {"val": {"bits": "low"}}}).encode(), "loss.val.bits must be a finite"),
    ],
)
def test_a_deep_or_wrongly_typed_card_is_refused_at_the_upload_and_never_reaches_the_sidebar(tiny_zip, change, why):
    session = {"uploads": None}
    own_model.receive(session, uploaded("odd.zip", with_card(tiny_zip, change(card_of(tiny_zip)))))
    assert session["upload_error"].startswith("odd.zip: card.json: ") and why in session["upload_error"]
    assert "\n" not in session["upload_error"] and own_model.names(session) == []


def test_a_refused_upload_is_said_in_one_line_until_a_good_one_replaces_it(tiny_zip):
    session = {"uploads": None}
    own_model.receive(session, uploaded("bad.zip", b"PK not really"))
    assert session["upload_error"] == "bad.zip: not a readable zip (File is not a zip file)"
    own_model.receive(session, uploaded("tiny.zip", tiny_zip))
    assert session["upload_error"] is None and own_model.names(session) == [session["model"]]


@pytest.mark.slow
def test_figure_downloads_follow_the_chosen_figure_and_cells():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="figure_kind").set_value("cells").run()
    at.text_input(key="figure_cells").set_value("3, 999").run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Cell rows as SVG" in labels and "Cell rows as PNG" in labels
    assert any("no such cells" in w.value for w in at.warning)


def test_a_figure_download_is_a_column_wide_svg_around_the_selected_position(tiny_model):
    tr = tiny_model.trace("the cat sat on a mat. " * 30)
    svg = downloads.figure(tr, View(1, 4), "strip", 300, "svg", "tiny")
    root = ET.fromstring(svg)
    assert root.get("width") == "244.8pt"
    assert downloads.figure_window("strip", 300, len(tr.text)) == (288, 336)
    assert downloads.figure_window("text", 5, len(tr.text)) == (0, 320)
    assert downloads.figure(tr, View(signal="forget", scale="text"), "text", 0, "png", "tiny")[:4] == b"\x89PNG"


def test_an_upload_whose_weights_would_take_too_much_memory_is_refused_from_its_card(tiny_zip, monkeypatch):
    session = {"uploads": None}
    own_model.receive(session, uploaded("tiny.zip", tiny_zip))
    kept = session["model"]
    read, real = [], archive.read_member
    monkeypatch.setattr(
        archive, "read_member", lambda z, info, limit: read.append(info.filename) or real(z, info, limit)
    )
    big = lying_zip(tiny_zip, layers=2, hidden=1024, embed=8192)  # 2,048 cells, 46 million weights
    own_model.receive(session, uploaded("big.zip", big))
    assert (
        session["upload_error"]
        == "big.zip: card.json: its weights take 177.4 MB as float32, over the 64 MB allowed here"
    )
    assert read == ["card.json"]  # the weights were never unpacked
    assert own_model.names(session) == [kept] and session["model"] == kept


def test_the_servers_budget_bounds_each_upload_too(mid_zip, monkeypatch):
    monkeypatch.setenv("LSTM_VIZ_UPLOAD_MB", "0")
    with pytest.raises(CheckpointError, match=r"^uploads are off on this server \(LSTM_VIZ_UPLOAD_MB is 0\)$"):
        own_model.add({"uploads": None}, "mid.zip", mid_zip)
    monkeypatch.setenv("LSTM_VIZ_UPLOAD_MB", "lots")
    with pytest.raises(CheckpointError, match="^uploads are off: this server's LSTM_VIZ_UPLOAD_MB is 'lots'"):
        own_model.add({"uploads": None}, "mid.zip", mid_zip)
    monkeypatch.setenv("LSTM_VIZ_UPLOAD_MB", "2")
    assert own_model.add({"uploads": None}, "mid.zip", mid_zip)


def test_uploads_past_the_servers_budget_drop_the_least_recently_shown_of_any_session(mid_zip, monkeypatch, registry):
    monkeypatch.setenv("LSTM_VIZ_UPLOAD_MB", "2")  # room for three
    alice = {**state.DEFAULTS, "notes": [], "example": CUSTOM, "text": "Alice's own words"}
    bob = {"uploads": None}
    a1, a2 = own_model.add(alice, "a1.zip", mid_zip), own_model.add(alice, "a2.zip", mid_zip)
    b1 = own_model.add(bob, "b1.zip", mid_zip)
    held = weakref.ref(own_model.model(alice, a2))
    assert own_model.model(bob, b1) is not None and own_model.model(alice, a1) is not None  # a2: least recently shown
    b2 = own_model.add(bob, "b2.zip", mid_zip)
    assert registry.used() <= 2 << 20 and a2 not in registry
    assert own_model.names(bob) == [b1, b2] and own_model.dropped_notes(bob) == []
    models = ["warpeace", *own_model.names(alice)]  # Alice's next run
    state.start(alice, {}, models, lambda name: "lstm")
    assert models == ["warpeace", a1] and alice["model"] == "warpeace" and alice["text"] == "Alice's own words"
    assert own_model.dropped_notes(alice) == [
        f"Your uploaded model `{a2}` was dropped to make room for other uploads on this server; "
        "upload it again to see it."
    ]
    assert own_model.dropped_notes(alice) == []  # said once
    gc.collect()
    assert held() is None  # no session held on to it


@pytest.mark.slow
def test_a_visitor_whose_upload_was_dropped_sees_why_on_her_next_run(tiny_zip, registry):
    session = {"uploads": None}
    name = own_model.add(session, "tiny.zip", tiny_zip)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.session_state["uploads"] = session["uploads"]
    at.run()
    at.session_state["model"] = name
    at.text_area(key="text").set_value("Her own words.")
    at.run()
    assert at.selectbox(key="model").value == name
    registry.add("someone else's (uploaded 0)", object(), 1, budget=1)  # takes all the room there is
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="model").value == "warpeace" and at.text_area(key="text").value == "Her own words."
    assert [w.value for w in at.warning] == [
        f"Your uploaded model `{name}` was dropped to make room for other uploads on this server; "
        "upload it again to see it."
    ]
