"""`pip install .` into a fresh venv gives the library, the `lstm-viz` command and the app with its models.

No network: the fresh venv sees this venv's packages through a .pth file, and the package is
installed with --no-deps --no-build-isolation --no-index from a copy of the source tree.
"""

import json
import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import lstm_viz

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(
    ".venv",
    ".git",
    "build",
    "*.egg-info",
    "__pycache__",
    "tests",
    "benchmarks",
    "docs",
    "test-artifacts",
    "data",
    "runs",
    "resume",
    "examples",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory, tiny_model):
    """(venv python, lstm-viz command, a folder of one's own models, a working folder outside the source)."""
    tmp = tmp_path_factory.mktemp("packaging")
    shutil.copytree(ROOT, tmp / "src", ignore=SKIP)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp / "venv"], check=True, timeout=120)
    python = tmp / "venv" / "bin" / "python"
    target = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (target / "_shared_venv.pth").write_text(site.getsitepackages()[0] + "\n")
    done = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", tmp / "src"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    mine = tmp / "mine"
    lstm_viz.save(tiny_model, mine / "tiny", {"corpus": {"name": "tiny"}})
    work = tmp / "elsewhere"
    work.mkdir()
    return python, tmp / "venv" / "bin" / "lstm-viz", mine, work


@pytest.mark.slow
def test_the_library_and_its_shipped_models_come_from_the_installed_package(installed):
    python, _, _, work = installed
    code = "import json, lstm_viz; print(json.dumps([lstm_viz.__file__, lstm_viz.available()]))"
    done = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("LSTM_VIZ")},
    )
    path, models = json.loads(done.stdout)
    assert path.startswith(str(python.parent.parent))
    assert models == ["linux", "warpeace", "warpeace-gru-2x128", "warpeace-lstm-2x128", "warpeace-rnn-2x128"]


@pytest.mark.slow
def test_lstm_viz_app_starts_from_any_directory_and_answers_health(installed):
    _, command, mine, work = installed
    port = free_port()
    proc = subprocess.Popen(
        [command, "app", "--port", str(port), "--models", mine],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline, health = time.monotonic() + 120, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        assert health == b"ok", proc.poll()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out = proc.communicate(timeout=30)[0]
    assert f"lstm-viz app on http://127.0.0.1:{port}, with the models in {mine}" in out


@pytest.mark.slow
def test_the_installed_app_lists_the_shipped_models_and_your_own(installed):
    python, _, mine, work = installed
    code = (
        "import sys; from pathlib import Path\n"
        "from streamlit.testing.v1 import AppTest\n"
        "import lstm_viz.serve.launch as launch\n"
        "at = AppTest.from_file(str(launch.app_dir() / 'app.py'), default_timeout=120).run()\n"
        "assert not at.exception, at.exception\n"
        "print(at.selectbox(key='model').options)\n"
    )
    done = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=300,
        env={**os.environ, "LSTM_VIZ_MODELS": str(mine)},
    )
    assert done.returncode == 0, done.stderr
    shipped = [p.name for p in (ROOT / "pretrained").iterdir() if (p / "card.json").is_file()]
    assert str(sorted([*shipped, "tiny"])) in done.stdout  # pretrained/'s folders and the one in $LSTM_VIZ_MODELS


@pytest.mark.slow
def test_lstm_viz_app_refuses_a_missing_models_folder_in_one_line(installed, tmp_path):
    _, command, _, work = installed
    done = subprocess.run(
        [command, "app", "--models", tmp_path / "nope"], capture_output=True, text=True, cwd=work, timeout=60
    )
    assert done.returncode == 2 and done.stderr.strip() == f"error: --models {tmp_path / 'nope'}: no such folder"
