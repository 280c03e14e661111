"""The cell page (pages/2_Cell.py) run headless with AppTest on the shipped models and their
explain.json: opened by its address, its links to other cells, bad addresses, a model without
labels, steering on a press, and the way back to the main page."""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

import lstm_viz
from lstm_viz.find import cellpage
from tests.conftest import APP
from ui.backend import cache, own_model
from ui.session import cell_link


def open_page(query: dict | None = None, session: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.switch_page(cell_link.PAGE)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def links(at: AppTest) -> list[tuple[str, dict]]:
    """(label, query) of every link to a cell page on the page itself (not the sidebar's link to the pages)."""
    return [
        (p.proto.label, {k: v[0] for k, v in parse_qs(p.proto.query_string).items()})
        for p in at.main.get("page_link")
        if p.proto.page == cell_link.PATH
    ]


@pytest.mark.slow
def test_a_cell_page_opened_by_its_address_shows_the_cells_record(warpeace):
    at = open_page({"model": "warpeace", "cell": "2:429"})
    entry = cellpage.entry(warpeace, 1, 429)
    assert at.title[0].value == "Layer 2, cell 429"
    text = markdown(at)
    assert "### inside double quotes \\(a blank line ends an unclosed quote\\)" in text
    assert f"**match {entry['score']:.2f} on held-out text**" in text
    assert f"(match {entry['runner_up_score']:.2f} on held-out text)" in text
    assert "Holding the cell low changes the log p of the next character where it is one of " in text
    assert f"by **{entry['causal']['change_low']:+.3f}** nats" in text
    assert (at.metric[0].label, at.metric[0].value) == ("Match", f"{entry['score']:.2f}")
    bars = re.findall(r'title="tanh\(c\) ([-+.\d]+) to ([-+.\d]+): ([.\d]+)% of characters"', text)  # the histogram
    assert [float(share) for _, _, share in bars] == [v / 10 for v in entry["histogram"]]
    assert (bars[0][0], bars[-1][1]) == ("-1.0", "+1.0")
    top = entry["top"][0]
    assert f'title="character {top[0] + top[1]:,} of the held-out text"' in text  # its place in the held-out text
    assert not at.error and not at.warning


def test_every_related_cell_and_driver_is_a_link_to_its_own_page(warpeace):
    at = open_page({"model": "warpeace", "cell": "2:429"})
    found = links(at)
    entry = cellpage.entry(warpeace, 1, 429)
    related = [f"{layer + 1}:{cell}" for layer, cell, _ in entry["related"]]
    assert [q["cell"] for _, q in found[2 : 2 + len(related)]] == related  # after the previous / next links
    assert all(q["model"] == "warpeace" for _, q in found)
    drivers = cellpage.drivers(lstm_viz.load("warpeace"), warpeace, 1, 429)
    assert [q["cell"] for _, q in found[2 + len(related) :]] == [
        f"{int(source.split()[-1]) + 1}:{index}" for source, index, _, _ in drivers
    ]
    assert [q["cell"] for _, q in found[:2]] == ["2:428", "2:430"]


def test_an_earlier_layers_page_links_the_next_layers_cells_it_feeds(warpeace):
    at = open_page({"model": "warpeace", "cell": "1:12"})
    feeds = cellpage.writes(lstm_viz.load("warpeace"), warpeace, 0, 12)["feeds"]
    assert [q["cell"] for _, q in links(at)[2 : 2 + len(feeds)]] == [f"2:{cell}" for cell, _, _ in feeds]
    assert "the cells of layer 2 it feeds most" in markdown(at)


@pytest.mark.slow
def test_a_last_layer_page_lists_the_characters_it_raises_and_lowers(warpeace):
    at = open_page({"model": "warpeace", "cell": "2:429"})
    out = cellpage.writes(lstm_viz.load("warpeace"), warpeace, 1, 429)
    raises, lowers = (m.value for m in at.markdown if m.value.startswith(("| Raises", "| Lowers")))
    assert re.findall(r"\| ([-+]\d+\.\d{3}) \|", raises) == [f"{v:+.3f}" for _, v in out["raises"]]
    assert re.findall(r"\| ([-+]\d+\.\d{3}) \|", lowers) == [f"{v:+.3f}" for _, v in out["lowers"]]
    assert all(v > 0 for _, v in out["raises"]) and all(v < 0 for _, v in out["lowers"])


@pytest.mark.slow
def test_the_main_pages_address_form_is_read_too():
    at = open_page({"model": "linux", "layer": "2", "cell": "5"})
    assert at.title[0].value == "Layer 2, cell 5"
    assert dict(at.query_params) == {"model": "linux", "cell": "2:5"}  # the address bar gets the page's own form
    at = open_page({"model": "linux", "cell": "7"})  # a bare cell is in layer 1
    assert at.title[0].value == "Layer 1, cell 7"


@pytest.mark.parametrize(
    "query, says",
    [
        (
            {"model": "nosuch", "cell": "2:429"},
            r"No model `model='nosuch'`: have linux, warpeace, warpeace\-gru\-2x128, warpeace\-lstm\-2x128, "
            r"warpeace\-rnn\-2x128.",  # as markdown writes it
        ),
        ({"model": "warpeace"}, "Name a cell in the address"),
        ({"model": "warpeace", "cell": "3:1"}, "warpeace has layers 1 to 2 and cells 0 to 511."),
        ({"model": "warpeace", "cell": "2:512"}, "warpeace has layers 1 to 2 and cells 0 to 511."),
        ({"model": "warpeace", "cell": "<b>x</b>"}, "`cell='<b>x</b>'`: write cells as 429 or layer:cell"),
        ({"model": "warpeace", "cell": "1:1 2:2"}, "a page shows one cell"),
        ({"model": "warpeace", "cell": ""}, "write cells as 429 or layer:cell"),
        ({"model": "warpeace", "layer": "two", "cell": "5"}, "`layer='two'`: warpeace has layers 1 to 2."),
        ({"model": "warpeace", "layer": "9", "cell": "5"}, "`layer='9'`: warpeace has layers 1 to 2."),
        ({"model": "warpeace", "layer": "9" * 4_000, "cell": "5"}, "`layer='" + "9" * 40 + "\u2026'`: warpeace has"),
        ({"model": "warpeace", "cell": "1:" + "9" * 4_000}, "`cell='1:" + "9" * 38 + "\u2026'`: warpeace has"),
        ({"model": "[x](javascript:alert(1))", "cell": "1"}, "`model='[x](javascript:alert(1))'`"),
    ],
)
@pytest.mark.slow
def test_a_bad_address_gets_one_line_and_the_box_for_another_cell(query, says):
    at = open_page(query)
    (error,) = [e.value for e in at.error]
    assert says in error and "\n" not in error
    assert at.text_input(key="page_goto") and not at.metric


@pytest.mark.slow
def test_the_box_opens_another_cells_page_and_writes_its_address():
    at = open_page({"model": "linux", "cell": "1:7"})
    at.text_input(key="page_goto").set_value("2:5").run()
    assert not at.exception and at.title[0].value == "Layer 2, cell 5"
    assert at.query_params["cell"] == "2:5" and at.query_params["model"] == "linux"
    at.text_input(key="page_goto").set_value("nonsense").run()
    assert not at.exception and len(at.error) == 1 and at.text_input(key="page_goto").value == ""


@pytest.fixture(scope="module")
def uploads(tiny_model, tmp_path_factory) -> tuple[str, dict]:
    folder = lstm_viz.save(tiny_model, tmp_path_factory.mktemp("own") / "tiny", {"corpus": {"name": "tiny text"}})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in ("card.json", "model.safetensors"):
            z.write(folder / name, name)
    session = {"uploads": None}
    name = own_model.add(session, "tiny.zip", out.getvalue())
    return name, session["uploads"]


def test_a_model_without_labels_gets_its_page_with_how_to_build_them(uploads):
    name, models = uploads
    at = open_page({"model": name, "cell": "2:3"}, {"uploads": models})
    assert at.title[0].value == "Layer 2, cell 3"
    (info,) = [i.value for i in at.info]
    assert "python -m lstm_viz explain --model FOLDER --corpus CORPUS" in info
    assert not at.error


@pytest.mark.slow
def test_steering_runs_on_the_press_once_per_model_cell_and_seed(warpeace, monkeypatch):
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[2:4])
        return steer(*args, **kwargs)

    steer = cellpage.steer
    monkeypatch.setattr(cellpage, "steer", counted)
    cache.steer.clear()
    at = open_page({"model": "warpeace", "cell": "2:429"})
    assert calls == [] and not at.code
    at.button(key="steer_go").click().run()
    at.run()  # a rerun shows it again, from the cache
    assert not at.exception and calls == [(1, 429)]
    shown_prime, low, plain, high = (c.value.rstrip("\n") for c in at.code)  # st.code drops ending newlines
    prime = cache.steer_prime("warpeace")
    assert shown_prime == prime.rstrip("\n")
    model = lstm_viz.load("warpeace")
    sample = model.sample(prime, cache.STEER_CHARS, cache.STEER_TEMPERATURE, 0)
    assert plain == sample.rstrip("\n")  # untouched: a plain sample
    entry = cellpage.entry(warpeace, 1, 429)
    held = model.sample(
        prime, cache.STEER_CHARS, cache.STEER_TEMPERATURE, 0, interventions=[lstm_viz.Clamp(1, 429, entry["c_high"])]
    )
    assert high == held.rstrip("\n") and low != plain
    at.number_input(key="steer_seed").set_value(1).run()
    assert not at.code and calls == [(1, 429)]  # another seed waits for its own press


@pytest.mark.slow
def test_show_in_the_main_view_moves_the_main_pages_cell():
    at = AppTest.from_file(APP, default_timeout=300).run()  # the main page first, on its suggested cell
    at.switch_page(cell_link.PAGE)
    at.query_params.clear()
    at.query_params.update({"model": "linux", "cell": "2:5"})
    at.run()
    jump = at.session_state["jump"]
    at.button(key="page_to_main").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "lstm-viz"
    assert (at.session_state["model"], at.session_state["layer"], at.session_state["cell"]) == ("linux", 1, 5)
    assert at.session_state["jump"] == jump + 1 and at.selectbox(key="model").value == "linux"


def test_a_character_alone_is_named_in_words_as_the_labels_name_it(warpeace):
    entry = cellpage.entry(warpeace, 1, 429)
    text = markdown(open_page({"model": "warpeace", "cell": "2:429"}))
    about = re.search(r"where it is one of (.*?) by \*\*", text).group(1)
    assert '"' not in about and '\\"' not in about
    if '"' in entry["causal"]["about"]:
        assert "double quote" in about
    for line in re.findall(r"^\| (.*?) \| [-+.\d]+ \|$", text, re.M):
        assert line.strip("\\") not in ('"', "'", "`", " ")
