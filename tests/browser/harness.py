"""Driving the real app: start `streamlit run app.py` on a free loopback port, open Chromium.

Shared by the browser tests, the screenshot and benchmarks/browser_bench.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from lstm_viz import normalise
from lstm_viz.serve.launch import stop, wait_until_up
from ui.components.payload import text_key

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY = "[data-test-script-state=notRunning]"
TEXT_VIEW = ".lv[data-chars]"  # the coloured text, once it has drawn its characters
TEXT_LABEL = "Text (up to 10,000 characters; Ctrl+Enter applies)"

# Switches the coloured text to the next cell from inside the page, with its "Next cell" button
# (how = "button") or the j key in the text (how = "key"), and returns at once. window.__switch.ms
# is set, from the click or key press, once the new colours are painted: data-cell changes at the
# end of the repaint, and the frame after it is the one that shows them.
START_SWITCH = """(how) => {
  const host = [...document.querySelectorAll("[data-testid=stBidiComponentIsolated]")]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector(".lv"));
  const root = host.shadowRoot.querySelector(".lv");
  const cells = Number(root.querySelector(".num").max) + 1;
  const want = String((Number(root.dataset.cell) + 1) % cells);
  const s = window.__switch = { ms: null, cell: want };
  const observer = new MutationObserver(() => {
    if (root.dataset.cell !== want) return;
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { s.ms = performance.now() - start; }, 0));
  });
  observer.observe(root, { attributes: true, attributeFilter: ["data-cell"] });
  const start = performance.now();
  if (how === "key") root.querySelector(".text").dispatchEvent(
    new KeyboardEvent("keydown", { key: "j", bubbles: true }));
  else root.querySelector("button.next").click();
}"""
SWITCHED = "() => window.__switch.ms !== null"
# Move a range input (the training slider) to `value` as a drag does: the view hears "input".
SLIDE = """(el, value) => { el.value = String(value); el.dispatchEvent(new Event("input", { bubbles: true })); }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(timeout: float = 60.0, env: dict | None = None, script: str = "app.py", root: Path = ROOT):
    """Run the app (or another page script, relative to the repository `root`: this one, or another
    checkout to compare with) in a subprocess; yield its URL once its health check answers."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(root / script),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
    ]
    proc = subprocess.Popen(
        cmd, cwd=root, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/_stcore/health", proc, proc.stdout.read, timeout)
        yield url
    finally:
        stop(proc)


def server_pid(url: str) -> int:
    """The process id of the `streamlit run` serving `url` (found in /proc by its port)."""
    port = url.rsplit(":", 1)[1]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended while we looked
            continue
        if b"streamlit" in args and b"--server.port" in args and port.encode() in args:
            return int(cmdline.parent.name)
    raise LookupError(f"no streamlit process serves {url}")


def rss_mb(pid: int) -> float:
    """Resident memory of a process now, in MB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmRSS for process {pid}")


@contextmanager
def chromium():
    """A headless Debian Chromium driven by Playwright (Playwright's own browsers are not used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until the script has finished its run, and fail if it raised."""
    page.wait_for_selector(READY, state="attached", timeout=timeout)
    errors = page.locator("[data-testid=stException]")
    if errors.count():
        raise AssertionError("the app raised:\n" + errors.first.inner_text())


def settled_text(page, selector: str = "[data-testid=stMain]", quiet_s: float = 0.5, timeout_s: float = 60.0) -> str:
    """The text of `selector` once the script is idle and the text has not changed for `quiet_s`:
    Streamlit may rerun a page right after its first run (the browser's own rerun), and a read in
    between sees only some of its elements."""
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        wait_idle(page)
        now = page.locator(selector).inner_text()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return now
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector}'s text kept changing for {timeout_s} s")


def wait_view(page, timeout: float = 60_000, **attrs: str) -> None:
    """Wait until the coloured text shows what `attrs` say (its data-* attributes), e.g. cell="5"."""
    selector = TEXT_VIEW + "".join(f'[data-{k}="{v}"]' for k, v in attrs.items())
    page.wait_for_selector(selector, state="attached", timeout=timeout)


def set_text(page, text: str) -> None:
    """Replace the text box's content and apply it, as pasting then pressing Ctrl+Enter does."""
    box = page.get_by_label(TEXT_LABEL)
    box.fill(text)
    box.press("Control+Enter")


def paste(page, text: str, model: str = "warpeace", timeout: float = 300_000) -> None:
    """set_text, then wait until that text is shown coloured and the run has finished."""
    set_text(page, text)
    wait_view(page, timeout=timeout, key=text_key(model, normalise(text)))
    wait_idle(page, timeout=timeout)
