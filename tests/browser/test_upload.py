"""Your own model uploaded through the real page: a zip whose card lies is refused in one line, from
its card, and the visitor keeps the model they had; a good zip is then taken and chosen."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

import lstm_viz

from .harness import wait_idle, wait_view

pytestmark = pytest.mark.browser

UPLOAD = "[data-testid=stSidebar] input[type=file]"
ERRORS = "[data-testid=stSidebar] [data-testid=stAlertContentError]"


def checkpoint_zip(model, folder, **claims) -> bytes:
    """The model's checkpoint as a zip, its card claiming `claims` over the model's own weights."""
    lstm_viz.save(model, folder, {"corpus": {"name": "tiny text"}})
    card = json.loads((folder / "card.json").read_text())
    card["config"].update(claims)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("card.json", json.dumps(card))
        z.write(folder / "model.safetensors", "model.safetensors")
    return out.getvalue()


def upload(page, name: str, data: bytes) -> None:
    page.locator(UPLOAD).set_input_files({"name": name, "mimeType": "application/zip", "buffer": data})


def test_an_uploaded_zip_whose_card_lies_is_refused_in_one_line_and_a_good_one_is_taken(
    page, app_url, tiny_model, tmp_path
):
    page.goto(app_url)
    wait_view(page)
    wait_idle(page)
    upload(page, "liar.zip", checkpoint_zip(tiny_model, tmp_path / "liar", layers=3, hidden=2048))
    error = page.locator(ERRORS)
    error.wait_for(timeout=60_000)
    wait_idle(page)
    assert error.all_inner_texts() == [
        "liar.zip: card.json: 3 layers x 2048 cells is more than the 2,048 cells in all allowed here"
    ]
    picker = page.get_by_role("combobox", name="Model")
    assert picker.input_value() == "warpeace"  # the model the visitor had is still chosen

    upload(page, "tiny.zip", checkpoint_zip(tiny_model, tmp_path / "tiny"))
    expect(picker).to_have_value(re.compile(r"^tiny \(uploaded [0-9a-f]{16}\)$"), timeout=60_000)
    wait_idle(page)
    assert page.locator(ERRORS).count() == 0
