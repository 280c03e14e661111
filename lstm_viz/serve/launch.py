"""`lstm-viz app`: start the Streamlit app from any directory, with the shipped models and your own."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

APP_PACKAGE = "lstm_viz_app"  # where `pip install .` puts app.py, ui/, pages/, .streamlit/ and pretrained/
REPLICA_COOKIE = "LSTMVIZ"  # the balancer's cookie naming the replica a visitor is kept on (deploy/haproxy.cfg)


class LaunchError(Exception):
    """The app cannot start; the message is one line saying why."""


def app_dir() -> Path:
    """The folder holding app.py: this checkout's root, or the installed app package."""
    root = Path(__file__).resolve().parents[2]
    for folder in (root, root / APP_PACKAGE):
        if (folder / "app.py").is_file() and (folder / "ui").is_dir():
            return folder
    raise LaunchError("the app is not installed: pip install 'lstm-viz[app]'")


def app_command(models: list[str], port: int, address: str) -> tuple[list[str], dict, Path]:
    """(argv, environment, working folder) that run the app; `models` are extra model folders.

    It runs in the app's folder so that its .streamlit/config.toml applies.
    """
    if importlib.util.find_spec("streamlit") is None:
        raise LaunchError("the app needs Streamlit: pip install 'lstm-viz[app]'")
    folder = app_dir()
    extra = []
    for m in models:
        path = Path(m).expanduser().resolve()
        if not path.is_dir():
            raise LaunchError(f"--models {m}: no such folder")
        extra.append(str(path))
    env = dict(os.environ)  # the app runs elsewhere: folders given relative to here are made absolute
    extra += [str(Path(p).resolve()) for p in env.get("LSTM_VIZ_MODELS", "").split(os.pathsep) if p]
    if extra:
        env["LSTM_VIZ_MODELS"] = os.pathsep.join(extra)
    if "LSTM_VIZ_PRETRAINED" in env:
        env["LSTM_VIZ_PRETRAINED"] = str(Path(env["LSTM_VIZ_PRETRAINED"]).resolve())
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(folder / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        address,
    ]
    return argv, env, folder


def run_app(models: list[str], port: int, address: str) -> int:
    """Run the app until it is stopped (Ctrl-C); its exit status."""
    argv, env, folder = app_command(models, port, address)
    extra = env.get("LSTM_VIZ_MODELS")
    print(f"lstm-viz app on http://{address}:{port}" + (f", with the models in {extra}" if extra else ""), flush=True)
    try:
        return subprocess.call(argv, env=env, cwd=folder)
    except KeyboardInterrupt:
        return 0


def wait_until_up(health_url: str, proc: subprocess.Popen, output: Callable[[], str], timeout: float) -> None:
    """Poll `health_url` (Streamlit's and the balancer's is /_stcore/health) until it answers 200;
    fail with output() (the server's log) if proc exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{output()}")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{health_url} did not answer within {timeout:.0f} s:\n{output()}")
        time.sleep(0.25)


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a server started here; kill it if it has not exited within `timeout` s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
