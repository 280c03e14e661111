"""Deployment files: the Dockerfile, parsed (tests/browser/test_image.py builds and runs it), and config.toml."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    rows = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(row.split(None, 1)[0].upper(), row.split(None, 1)[1]) for row in rows]


def args_of(name: str) -> list[str]:
    return [args for instr, args in instructions() if instr == name]


def test_base_image_is_a_slim_python_by_default():
    assert args_of("FROM") == ["${BASE}"]
    assert re.fullmatch(r"BASE=python:3\.\d+-slim(-\w+)?", args_of("ARG")[0])


def test_torch_is_the_cpu_build_pinned_like_requirements():
    run = " ".join(args_of("RUN"))
    assert "torch==2.13.0+cpu" in run and "whl/cpu" in run
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text()


def test_the_app_runs_as_a_non_root_user():
    users = args_of("USER")
    assert users and users[-1] not in ("root", "0")
    names = [instr for instr, _ in instructions()]
    assert names.index("USER") > max(i for i, n in enumerate(names) if n == "RUN")


def test_port_healthcheck_and_command():
    assert args_of("EXPOSE") == ["8501"]
    assert "/_stcore/health" in args_of("HEALTHCHECK")[0]
    assert "streamlit" in args_of("CMD")[0] and "app.py" in args_of("CMD")[0]


def test_shipped_models_and_code_are_baked_in():
    copied = [args.split()[0] for args in args_of("COPY")]
    for path in ("pretrained/", "lstm_viz/", "ui/", "pages/", "app.py", ".streamlit/"):
        assert path in copied
        assert (ROOT / path).exists()


def test_streamlit_config_is_set_for_production():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["headless"] is True
    assert config["server"]["fileWatcherType"] == "none"
    assert 10 <= config["server"]["maxMessageSize"] <= 200
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] in ("type", "none")
