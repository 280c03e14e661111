"""Cell labels in the main page (the model's explain.json): the Cell labels tab's search, the
Cell map tab, the heatmap grouped by label, the links to cell pages, and a model without labels;
and the plain helpers behind them (ui.session.labels, ui.session.cell_link)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.find import cellpage
from lstm_viz.find.explainer import CONSTANT
from lstm_viz.views import colour
from tests.conftest import APP
from ui.backend import own_model
from ui.session import cell_link, labels
from ui.views import cellmap_view


def run(session: dict | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update(query or {})
    at.run()
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def heatmap(at: AppTest) -> dict:
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "lstm_viz_heatmap"]
    return json.loads(element.proto.json)


@pytest.mark.slow
def test_searching_labels_lists_the_matching_cells_best_first_with_links_to_their_pages(warpeace):
    at = run({"panel": "Cell labels", "label_search": "double quotes"})
    found = at.dataframe[0].value
    expected = cellpage.search(warpeace, "double quotes")
    assert len(found) == len(expected) > 5
    assert found["label"].str.contains("double quotes").all()
    assert found["score"].tolist() == expected["score"].tolist()  # best first
    first = found.iloc[0]
    assert (first["layer"], first["cell"]) == (2, 429)  # layers from 1, as everywhere in the app
    assert first["page"] == "Cell?model=warpeace&cell=2:429"
    assert f"{len(expected):,} of 1,024 cells" in " ".join(c.value for c in at.caption)


@pytest.mark.slow
def test_a_search_that_matches_nothing_says_so():
    at = run({"panel": "Cell labels", "label_search": "zebra quote"})
    assert not at.dataframe and any("No cell's label holds all of these words" in i.value for i in at.info)


@pytest.mark.slow
def test_the_cell_map_has_every_cell_that_varies_coloured_by_its_kind_and_rings_the_chosen_one(warpeace):
    at = run({"panel": "Cell map", "layer": 1, "cell": 429})
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    traces, (ring,) = figure["data"], figure["layout"]["shapes"]
    placed = [c for c in warpeace["cells"] if c["map"] is not None]
    assert sum(len(t["x"]) for t in traces) == len(placed) < 1024
    assert f"{1024 - len(placed)} cells are left off the map" in "\n".join(c.value for c in at.caption)
    by_cell = {tuple(c): t for t in traces for c in t["customdata"]}
    assert by_cell[(1, 429)]["marker"]["color"] == labels.COLOURS["span"]  # inside double quotes
    assert by_cell[(1, 429)]["name"] == labels.KINDS["span"][0]
    entry = cellpage.entry(warpeace, 1, 429)
    assert (ring["xanchor"], ring["yanchor"]) == tuple(entry["map"])
    constant = [c for c in placed if c["label"] == CONSTANT][0]  # varies over the text, not on one half
    assert by_cell[(constant["layer"], constant["cell"])]["marker"]["color"] == labels.COLOURS["constant"]


def test_a_clicked_point_on_the_map_becomes_the_chosen_cell(monkeypatch):
    point = {"customdata": [1, 302], "x": 0.1, "y": 0.2, "curve_number": 0, "point_index": 3}
    session = {cellmap_view.MAP_KEY: SimpleNamespace(selection=SimpleNamespace(points=[point])), "jump": 0}
    monkeypatch.setattr(cellmap_view, "st", SimpleNamespace(session_state=session))
    cellmap_view.pick_from_map()
    assert (session["layer"], session["cell"], session["jump"]) == (1, 302, 1)
    session[cellmap_view.MAP_KEY] = SimpleNamespace(selection=SimpleNamespace(points=[{"x": 0, "y": 0}]))
    cellmap_view.pick_from_map()  # the ring (no cell) moves nothing
    assert session["jump"] == 1


def test_hover_cards_on_the_map_show_labels_as_text():
    frame = pd.DataFrame(
        {"layer": [0], "cell": [3], "x": [0.0], "y": [0.0], "label": ['the current character is "<"'],
         "score": [0.5], "kind": ["current"]}
    )  # fmt: skip
    (trace,) = cellmap_view.figure(frame, 0, 3).to_dict()["data"]
    assert trace["text"] == ["1:3 · match 0.50 on held-out text<br>the current character is &quot;&lt;&quot;"]


@pytest.mark.slow
def test_the_heatmap_groups_its_cells_by_label(warpeace):
    at = run({"panel": "All cells", "layer": 1, "cell": 429, "heatmap_rows": 64})
    plain = heatmap(at)
    assert "groups" not in plain
    at.checkbox(key="heatmap_group").check().run()
    assert not at.exception
    grouped = heatmap(at)
    assert sorted(grouped["cells"]) == sorted(plain["cells"])  # the same cells, regrouped
    titles = grouped["groups"]
    runs = [t for k, t in enumerate(titles) if k == 0 or t != titles[k - 1]]
    assert len(runs) == len(set(runs))  # each group's rows sit together
    kinds = [labels.kind(cellpage.entry(warpeace, 1, c)["key"]) for c in grouped["cells"]]
    order = list(labels.KINDS)
    assert [order.index(k) for k in kinds] == sorted(order.index(k) for k in kinds)  # groups in KINDS' order
    assert titles[grouped["cells"].index(429)] == cellpage.entry(warpeace, 1, 429)["label"]


@pytest.fixture(scope="module")
def upload(tiny_model, tmp_path_factory) -> tuple[str, dict]:
    folder = lstm_viz.save(tiny_model, tmp_path_factory.mktemp("own") / "tiny", {"corpus": {"name": "tiny text"}})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in ("card.json", "model.safetensors"):
            z.write(folder / name, name)
    session = {"uploads": None}
    name = own_model.add(session, "tiny.zip", out.getvalue())
    return name, session["uploads"]


@pytest.mark.slow
@pytest.mark.parametrize("panel", ["Cell labels", "Cell map", "All cells"])
def test_a_model_without_labels_says_how_to_build_them(upload, panel):
    name, uploads = upload
    at = run({"uploads": uploads})
    at.session_state["model"] = name
    at.session_state["text"] = 'the cat said "yes".'
    at.session_state["panel"] = panel
    at.session_state["heatmap_group"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (info,) = [i.value for i in at.info if "explain.json" in i.value]
    assert "`python -m lstm_viz explain --model FOLDER --corpus CORPUS`" in info
    if panel == "All cells":
        assert "groups" not in heatmap(at) and len(heatmap(at)["cells"]) == 24  # drawn ungrouped


@pytest.mark.slow
def test_the_sidebar_and_the_finder_link_the_chosen_cells_page():
    at = run({"panel": "Find cells", "layer": 1, "cell": 429})
    pages = [(p.proto.label, p.proto.query_string) for p in at.get("page_link") if p.proto.page == cell_link.PATH]
    assert ("Page of cell 2:429", "model=warpeace&cell=2%3A429") in pages  # the sidebar's
    assert sum(q == "model=warpeace&cell=2%3A429" for _, q in pages) == 3  # the pages' Cell, the label box's
    ranked = at.dataframe[0].value
    assert all(
        p == cell_link.url("warpeace", r - 1, c) for p, r, c in zip(ranked["page"], ranked["layer"], ranked["cell"])
    )


def test_every_kind_has_its_own_colour_and_every_key_of_the_shipped_families_a_kind(warpeace):
    assert len(set(labels.COLOURS.values())) == len(labels.KINDS)
    families = warpeace["family"] + cellpage.load("linux")["family"]
    assert {labels.kind(key) for key, _, _ in families} - {"other"} == set(labels.KINDS) - {"other", "constant"}
    assert labels.kind("") == "constant" and labels.kind("quotes + is:i") == "span" and labels.kind("new:x") == "other"
    assert colour.CATEGORIES[-1] == labels.COLOURS["constant"]


@given(hs.text(max_size=60))
def test_a_label_made_plain_shows_as_typed_in_markdown(text):
    escaped = labels.plain(text)
    assert re.sub(r"\\(.)", r"\1", escaped, flags=re.S) == text.replace("\n", " ")  # markdown un-escapes it
    assert not re.search(r"[\\`*_\[\]<>$:]", re.sub(r"\\.", "", escaped, flags=re.S))  # nothing left to format


def test_the_cell_pages_address_round_trips():
    dims = {"warpeace": (2, 512), "linux": (2, 512)}.get
    for layer, cell in ((0, 0), (1, 429), (1, 511)):
        query = cell_link.query("linux", layer, cell)
        assert cell_link.read(query, ["linux", "warpeace"], dims) == ("linux", layer, cell)
        assert cell_link.url("linux", layer, cell) == f"Cell?model=linux&cell={layer + 1}:{cell}"
    assert cell_link.read({"cell": "2:3"}, ["linux", "warpeace"], dims) == ("warpeace", 1, 3)  # the default model
