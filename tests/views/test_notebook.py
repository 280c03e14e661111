"""trace.show(): the notebook widget's state, its static fallback, and the tour notebook run on a real kernel."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import lstm_viz
from lstm_viz import View
from lstm_viz.views import colour, render
from lstm_viz.views.view import describe

anywidget = pytest.importorskip("anywidget")

ROOT = Path(__file__).resolve().parents[2]
TEXT = 'the cat said "yes" (quickly).\nand <b>ran</b>'


@pytest.fixture
def tr(tiny_model):
    return tiny_model.trace(TEXT)


def test_the_widget_colours_the_text_by_the_chosen_cell_with_the_shared_scale(tr):
    view = tr.show(layer=1, cell=4)
    assert view.shades == [float(v) for v in tr.cell[1, :, 4]]  # coloured by the browser with colour.scale()
    assert view.caption == "Layer 2, cell 4, cell state tanh(c)"
    assert "".join(view.chars) == TEXT and view.labels[TEXT.index("\n")] == "\u21b5"


@pytest.mark.parametrize("view", [View(1, 5), View(0, 1, "input", scale="text"), View(1, 3, start=2, stop=20)])
def test_the_widget_colours_each_character_as_the_static_html_and_svg_do(tr, view):
    """The widget sends each character's shade from the one description (`describe`) the HTML and
    SVG draw; the browser colours it by the scale's recipe, which test_colour.py holds equal to colour.rgb."""
    d = describe(tr, view)
    widget = tr.show(view)
    assert widget.shades == d.shades.tolist() and widget.view == d.view
    assert [colour.rgb(v) for v in widget.shades] == d.rgb
    assert widget.to_html() == render.to_html(tr, view)


def test_the_chosen_cell_is_readable_and_settable_from_python(tr):
    view = tr.show(layer=0, cell=2, signal="forget")
    view.cell = 7
    assert view.cell == 7 and view.caption == "Layer 1, cell 7, forget gate"
    assert view.shades == [float(v) for v in tr.gate("forget", 0, [7])[:, 0]]
    assert view.legend["lo"] == 0.0 and view.legend["hi"] == 1.0
    with pytest.raises(Exception, match="cell 24 is out of range: 0 to 23"):
        view.cell = 24
    assert view.cell == 7


def test_given_the_models_labels_the_hover_card_names_the_chosen_cells(tr, tiny_model):
    table = lstm_viz.explain(tiny_model, TEXT * 40)  # lstm_viz.explain's DataFrame, as a notebook gets it
    view = tr.show(layer=1, cell=4, labels=table)
    row = table[(table.layer == 1) & (table.cell == 4)].iloc[0]
    assert view.label == f"{row.label} (match {row.score:.2f})"
    view.cell = 5
    row = table[(table.layer == 1) & (table.cell == 5)].iloc[0]
    assert view.label == f"{row.label} (match {row.score:.2f})"
    assert tr.show(layer=1, cell=4).label == ""  # no labels, no line in the card
    assert tr.show(cell=3, labels={(0, 3): "depth of ( )"}).label == "depth of ( )"
    with pytest.raises(ValueError, match="missing score"):
        tr.show(labels=table.drop(columns="score"))


def test_the_strip_has_the_top_five_guesses_and_marks_the_one_that_came_next(tr):
    view = tr.show()
    for t in range(len(TEXT) - 1):
        guesses = tr.top_k(t, 5)
        assert [g for g, _ in view.top[t]] == [
            g if g not in " \n" else {" ": "\u2423", "\n": "\u21b5"}[g] for g, _ in guesses
        ]
        nxt = TEXT[t + 1]
        expected = [g for g, _ in guesses].index(nxt) if nxt in [g for g, _ in guesses] else -1
        assert view.hits[t] == expected
    assert view.hits[-1] == -1


def test_the_widget_carries_a_static_escaped_view_for_viewers_without_a_kernel(tr):
    data, _ = tr.show(layer=1, cell=4)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "Layer 2, cell 4" in data["text/html"] and "</b>ran" not in data["text/html"] and "&lt;" in data["text/html"]


@pytest.mark.slow
def test_without_anywidget_show_says_what_to_install():
    code = (
        "import sys; sys.modules['anywidget'] = None\n"
        "import lstm_viz, torch\n"
        "from tests.conftest import *\n"
        "m = lstm_viz.CharLSTM(lstm_viz.Config(4, 1, 4, 2), lstm_viz.Vocab(list('abc')))\n"
        "tr = m.trace('abc')\n"
        "assert '<span' in tr.to_html()\n"
        "tr.show()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode != 0 and "trace.show() needs anywidget: pip install 'lstm-viz[notebook]'" in done.stderr


def run_tour(tmp_path):
    """Execute examples/tour.ipynb top to bottom on a kernel of this very Python."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    spec = tmp_path / "kernels" / "lstm-viz-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "lstm-viz test",
                "language": "python",
                "env": {"PYTHONPATH": str(ROOT)},
            }
        )
    )
    nb = nbformat.read(ROOT / "examples" / "tour.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    km = KernelManager(
        kernel_name="lstm-viz-test", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    )
    NotebookClient(nb, km=km, timeout=300, resources={"metadata": {"path": str(ROOT / "examples")}}).execute()
    return nb


def outputs(cell) -> dict:
    """mime type -> content of a code cell's outputs (stream text under "stdout")."""
    found = {}
    for out in cell.outputs:
        if out.output_type == "stream":
            found["stdout"] = found.get("stdout", "") + out.text
        elif out.output_type in ("execute_result", "display_data"):
            found.update(out.data)
        elif out.output_type == "error":
            raise AssertionError(f"{out.ename}: {out.evalue}")
    return found


@pytest.mark.slow
def test_the_tour_runs_top_to_bottom_on_a_real_kernel_and_finds_the_quote_cell(tmp_path):
    nb = run_tour(tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert outputs(code[-1])["stdout"].strip() == sys.executable
    assert "2 layers x 512 cells" in outputs(code[0])["stdout"]
    assert "bits/char" in outputs(code[1])["stdout"]
    assert "<table" in outputs(code[2])["text/html"]
    assert outputs(code[3])["stdout"].startswith("layer 1, cell 443: match 0.95")  # a quote cell of layer 2
    shown = outputs(code[4])
    assert "application/vnd.jupyter.widget-view+json" in shown and "Layer 2, cell 443" in shown["text/html"]
    assert outputs(code[5])["text/plain"] == "443"
    assert "Layer 2, cell 443, cell state tanh(c), model warpeace" in outputs(code[6])["image/svg+xml"]
    clamped = outputs(code[7])["stdout"]
    assert "log p of the 3 closing quotes changes by -" in clamped  # holding the quote cell "outside" hurts them
