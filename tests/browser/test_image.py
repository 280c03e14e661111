"""The Docker image, built from the repository's Dockerfile and run with Podman: its container answers the
health check (its own HEALTHCHECK too) and shows the coloured text in a real Chromium.

No image registry is reachable on the test machines, so the base is Debian bookworm made by debootstrap
(kept between runs as BASE_IMAGE), and pip in the build gets this machine's own pip settings: its package
folders and certificates, mounted read-only. Podman runs as root, as `make podman` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ui.session.examples import EXAMPLES

from .harness import ROOT, TEXT_VIEW, free_port, wait_idle, wait_view

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BASE_IMAGE = "localhost/bookworm-min:latest"
IMAGE = "localhost/lstm-viz:test"
# This kernel's cgroups need cgroupfs, and its capped RLIMIT_NPROC no default ulimits; crun fails here, runc works.
ENGINE_CONF = '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n'
CERT = "/etc/pip-cert.pem"  # where the build sees this machine's certificates for pip
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"


def needs(reason: str) -> None:
    """Fail under `make test` (make sets MAKELEVEL for its commands), which installs what the test needs;
    skip with the reason when a developer runs pytest by hand."""
    (pytest.fail if "MAKELEVEL" in os.environ else pytest.skip)(reason)


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    """Run `podman ARGS` with this machine's engine settings; returns the finished process."""
    if os.geteuid() != 0:
        needs("the image test runs podman and debootstrap as root")
    if shutil.which("podman") is None or shutil.which("debootstrap", path=SBIN_PATH) is None:
        needs("podman or debootstrap is missing: `make podman` installs them")
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(ENGINE_CONF)
    env = {**os.environ, "CONTAINERS_CONF": str(conf), "PATH": SBIN_PATH}

    def run(*args: str, timeout: float = 120, check: bool = True, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            ["podman", "--runtime", "runc", *args], env=env, capture_output=True, text=True, timeout=timeout, **kw
        )
        if check and proc.returncode:
            output = (proc.stdout + proc.stderr)[-4000:]
            pytest.fail(f"podman {' '.join(args[:2])} failed ({proc.returncode}):\n{output}")
        return proc

    return run


def cannot_run_containers(reason: str) -> None:
    """Skip, saying why, where the machine itself cannot make or run a container (a test machine that is a
    container without the privileges for another, say): the skip is in the test report, with the error.
    What the Dockerfile decides (the build, the app's start, its page) fails the test instead."""
    pytest.skip(f"this machine cannot run containers, so the image is not checked here: {reason}")


def debian_mirror() -> str:
    """The Debian mirror apt uses here (the URIs line of its sources), or Debian's own."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    found = re.search(r"^URIs:\s*(\S+)", sources.read_text(), re.M) if sources.exists() else None
    return found.group(1) if found else "http://deb.debian.org/debian"


def pip_mounts(folder: Path) -> list[str]:
    """`--volume` arguments giving the build this machine's pip settings: the local folders its find-links
    and extra indexes name and its certificates (read-only), and a pip.conf naming them (pip reads
    /etc/pip.conf). One retry, not five: an index out of reach (PyTorch's, here) then costs a second a package."""
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    options, mounts = {}, []
    for key, value in re.findall(r"^\S*?\.(find-links|extra-index-url|cert)='(.*)'$", listed, re.M):
        options[key] = value
    if "cert" in options:  # beside, not over, the image's own certificates: Debian's package rewrites those
        mounts += ["--volume", f"{options['cert']}:{CERT}:ro"]
        options["cert"] = CERT
    for key, value in options.items():
        if key == "cert":
            continue
        for item in value.split():
            path = Path(urlparse(item).path if item.startswith("file:") else item)
            if not path.is_absolute() or not path.exists():
                continue
            if key == "extra-index-url" and path.name == "simple":
                path = path.parent  # an index's pages link to its files beside it, ../../files/
            mounts += ["--volume", f"{path}:{path}:ro"]
    conf = folder / "pip.conf"
    conf.write_text("[global]\nretries = 1\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))
    return [*mounts, "--volume", f"{conf}:/etc/pip.conf:ro"]


def make_base(podman, name: str) -> None:
    """Debian bookworm's minimal system from the mirror apt uses, imported as the image `name`."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as rootfs:
        made = subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", rootfs, debian_mirror()],
            env={**os.environ, "PATH": SBIN_PATH},
            capture_output=True,
            text=True,
            timeout=900,
        )
        if made.returncode:
            cannot_run_containers(f"debootstrap failed ({made.returncode}):\n{(made.stdout + made.stderr)[-4000:]}")
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        podman("import", "-", name, stdin=tar.stdout, timeout=300)
        tar.wait()
    print(f"debootstrap and import: {time.perf_counter() - started:.0f} s")


@pytest.fixture(scope="module")
def image(podman, tmp_path_factory):
    """The image built from the Dockerfile on a debootstrapped Debian bookworm."""
    if podman("image", "exists", BASE_IMAGE, check=False).returncode:
        make_base(podman, BASE_IMAGE)
    probe = podman("run", "--rm", "--network", "host", BASE_IMAGE, "true", check=False, timeout=300)
    if probe.returncode:
        cannot_run_containers(
            f"podman cannot run a bare Debian container here:\n{(probe.stdout + probe.stderr)[-4000:]}"
        )
    started = time.perf_counter()
    podman(
        "build",
        "--format",
        "docker",
        "--network",
        "host",
        "--build-arg",
        f"BASE={BASE_IMAGE}",
        *pip_mounts(tmp_path_factory.mktemp("pip")),
        "-t",
        IMAGE,
        str(ROOT),
        timeout=1800,
    )
    size = podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip()
    print(f"image build: {time.perf_counter() - started:.0f} s, size {int(size) / 1e6:.0f} MB")
    return IMAGE


@dataclass
class Container:
    name: str
    url: str
    log: Callable[[], str]  # the tail of what the container printed, for failure messages


@pytest.fixture(scope="module")
def container(podman, image):
    """The image's own command serving the app on a free loopback port, once its health check answers
    "ok". On the host's network, as these machines run containers (no port forwarding in between);
    the port and address are the image's variables for them."""
    port = free_port()
    name = f"lstm-viz-test-{port}"
    where = ["--env", f"STREAMLIT_SERVER_PORT={port}", "--env", "STREAMLIT_SERVER_ADDRESS=127.0.0.1"]
    podman("run", "--detach", "--name", name, "--network", "host", *where, image)  # kept if it dies, for its log
    url = f"http://127.0.0.1:{port}"

    def log() -> str:
        state = podman("inspect", "--format", "{{.State.Status}}, exit code {{.State.ExitCode}}", name, check=False)
        logs = podman("logs", name, check=False)
        return f"container {state.stdout.strip() or state.stderr.strip()}\n" + (logs.stdout + logs.stderr)[-4000:]

    try:
        started, answer = time.perf_counter(), ""
        while time.perf_counter() - started < 120 and answer != "ok":
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=5) as r:
                    answer = r.read().decode()
            except OSError:
                time.sleep(0.5)
        if answer != "ok":
            pytest.fail(f"the container did not answer {url}/_stcore/health:\n{log()}")
        print(f"health answered after {time.perf_counter() - started:.1f} s")
        yield Container(name, url, log)
    finally:
        podman("rm", "--force", "--time", "5", name, check=False)


def page_events(page) -> list[str]:
    """A list that fills with what the page logs, fails to load and does with its websockets."""
    seen: list[str] = []

    def websocket(ws) -> None:
        seen.append(f"websocket opened: {ws.url}")
        ws.on("close", lambda _: seen.append("websocket closed"))

    page.on("console", lambda m: seen.append(f"console {m.type}: {m.text}"[:300]))
    page.on("pageerror", lambda e: seen.append(f"page error: {e}"[:300]))
    page.on("requestfailed", lambda r: seen.append(f"request failed: {r.url} {r.failure}"[:300]))
    page.on("websocket", websocket)
    return seen


def test_the_container_answers_its_health_check(container):
    with urllib.request.urlopen(container.url + "/_stcore/health", timeout=5) as r:
        assert r.status == 200 and r.read() == b"ok"


def test_the_images_own_health_check_passes(podman, container):
    check = podman("healthcheck", "run", container.name, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_container_shows_the_example_coloured(page, container):
    seen = page_events(page)
    page.goto(container.url + "/")
    try:
        wait_view(page, timeout=180_000)
    except PlaywrightTimeout:
        pytest.fail(
            "the container's page showed no coloured text in 180 s.\nThe page's text:\n"
            + page.inner_text("body")[:2000]
            + "\nIn the page:\n"
            + "\n".join(seen[-40:])
            + "\nThe container's log:\n"
            + container.log()
        )
    wait_idle(page, timeout=120_000)
    chars = page.locator(f"{TEXT_VIEW} .line.main .ch")
    assert chars.count() == len(EXAMPLES["dialogue"].text)
    backgrounds = chars.evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert len(set(backgrounds)) > 5
