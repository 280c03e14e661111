"""trace.show() in a real JupyterLab: the text is coloured and a key press changes the cell, in Python too.

JupyterLab runs headless on a free loopback port, without a token, in a temporary folder, with a
kernel of this very Python; it is stopped when the test ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import nbformat
import pytest

from lstm_viz.serve.launch import wait_until_up

from .harness import ROOT, free_port

pytestmark = pytest.mark.browser

CELLS = [
    'import lstm_viz\ntr = lstm_viz.load("warpeace").trace(\'"Well, Prince," said she. "Go on."\\n\')\n'
    'view = tr.show(layer=1, cell=429, model="warpeace")\nview',
    'print("cell is", view.cell)',
]


@pytest.fixture
def lab(tmp_path):
    """The URL of a JupyterLab serving a notebook that shows one trace."""
    kernels = tmp_path / "share" / "kernels" / "lstm-viz-test"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "lstm-viz test",
                "language": "python",
                "env": {"PYTHONPATH": str(ROOT)},
            }
        )
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "lstm-viz-test", "display_name": "lstm-viz test", "language": "python"}
    work = tmp_path / "work"
    work.mkdir()
    nbformat.write(nb, work / "show.ipynb")
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_PATH": str(tmp_path / "share"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.root_dir",
            str(work),
            "--LabApp.news_url=",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/api/status", proc, proc.stdout.read, 90)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def run_cell(page, index: int) -> None:
    """Run one notebook cell as a user does: click into it, press Shift+Enter."""
    page.locator(".jp-Cell .jp-InputArea-editor:visible").nth(index).click()
    page.keyboard.press("Shift+Enter")


def test_the_widget_is_coloured_and_up_down_change_the_cell(lab, page):
    page.goto(f"{lab}/lab/tree/show.ipynb", wait_until="domcontentloaded")
    page.get_by_text("lstm-viz test | Idle").wait_for(timeout=90_000)  # the kernel is connected
    run_cell(page, 0)
    page.wait_for_selector(".lvw .ch", timeout=90_000)
    widget = page.locator(".lvw")
    assert widget.get_attribute("data-cell") == "429"
    colours = page.eval_on_selector_all(
        ".lvw .text .ch", "spans => spans.map(s => getComputedStyle(s).backgroundColor)"
    )
    assert len(colours) == len('"Well, Prince," said she. "Go on."\n')
    assert len(set(colours)) > 3 and "rgb(255, 255, 255)" not in colours[:3]
    assert "Layer 2, cell 429" in widget.locator(".title").inner_text()

    page.locator(".lvw .text .ch").nth(3).click()
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.querySelector('.lvw').dataset.cell === '430'", timeout=30_000)
    assert "Layer 2, cell 430" in widget.locator(".title").inner_text()
    after = page.eval_on_selector_all(".lvw .text .ch", "spans => spans.map(s => getComputedStyle(s).backgroundColor)")
    assert after != colours
    assert widget.locator(".strip .col").count() > 0  # the click centred the strip on a character

    run_cell(page, 1)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-OutputArea-output')].some(o => o.innerText.includes('cell is 430'))",
        timeout=30_000,
    )
