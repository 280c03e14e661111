"""Your own model in the app (a checkpoint zip, for the session only) and figure downloads."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest
from streamlit.proto.Common_pb2 import FileURLs
from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz import checkpoint
from lstm_viz.checkpoint import CheckpointError
from tests.conftest import APP
from ui import downloads, own_model


@pytest.fixture(scope="module")
def tiny_zip(tiny_model, tmp_path_factory) -> bytes:
    folder = lstm_viz.save(tiny_model, tmp_path_factory.mktemp("own") / "tiny", {"corpus": {"name": "tiny text"}})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in ("card.json", "model.safetensors"):
            z.write(folder / name, name)
    return out.getvalue()


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
    session = {"uploads": {f"m{i}": None for i in range(own_model.MAX_UPLOADS)}}
    with pytest.raises(CheckpointError, match="at most 3 uploaded models"):
        own_model.add(session, "one more.zip", tiny_zip)


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


def test_a_refused_upload_is_said_in_one_line_until_a_good_one_replaces_it(tiny_zip):
    session = {"uploads": None}
    own_model.receive(session, uploaded("bad.zip", b"PK not really"))
    assert session["upload_error"] == "bad.zip: not a readable zip (File is not a zip file)"
    own_model.receive(session, uploaded("tiny.zip", tiny_zip))
    assert session["upload_error"] is None and own_model.names(session) == [session["model"]]


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
    svg = downloads.figure(tr, "strip", 1, 4, "cell", 300, "fixed", "svg", "tiny")
    root = ET.fromstring(svg)
    assert root.get("width") == "244.8pt"
    assert downloads.figure_window("strip", 300, len(tr.text)) == (288, 336)
    assert downloads.figure_window("text", 5, len(tr.text)) == (0, 320)
    assert downloads.figure(tr, "text", 0, 0, "forget", 0, "text", "png", "tiny")[:4] == b"\x89PNG"
