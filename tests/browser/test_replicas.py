"""Beyond one process: two replicas behind HAProxy (deploy/), as `make replicas` runs them.

Two visitors land on different replicas and stay there (the balancer's cookie), their
websockets go through the balancer, and each sees its own text (one pasted, one an example) and cell. Stopping one
visitor's replica costs that visitor a reconnect and nothing else: the page reconnects to the
other replica, sees the balancer's cookie name it, and asks it for a run, which rebuilds the
session from the link (the pasted text, kept by its id in a folder the replicas share, and the
layer and cell); the other visitor's websocket is never dropped.
"""

from __future__ import annotations

import os
import subprocess

import pytest

import lstm_viz
from deploy.replicas import balancer_config, cluster, haproxy
from lstm_viz.serve.launch import REPLICA_COOKIE
from ui.components import payload
from ui.session import texts
from ui.session.examples import EXAMPLES

from .harness import START_SWITCH, SWITCHED, TEXT_LABEL, TEXT_VIEW, free_port, set_text, wait_idle, wait_view

pytestmark = pytest.mark.browser

OWN = 'Her own text, pasted in the page:\n"Will it come back?" she asked (twice).\n' * 12
VISITORS = {"a": (None, 2, 11), "b": ("c", 1, 7)}  # example (None: a pastes OWN), layer (from 1, as in links), cell
WAIT = 180_000  # ms: replicas share a busy machine


# Installed before the replica stops: records the page's script runs from then on. The same
# window object afterwards also shows that the page reconnected without being reloaded.
WATCH_RUNS = """() => {
  window.__runs = [];
  const seen = () => document.querySelector("[data-test-script-state]")?.dataset.testScriptState;
  new MutationObserver(() => { const s = seen(); if (s !== window.__runs.at(-1)) window.__runs.push(s); })
    .observe(document.body, { attributes: true, subtree: true, attributeFilter: ["data-test-script-state"] });
}"""
RAN_AGAIN = """() => window.__runs !== undefined && window.__runs.includes("running")
  && document.querySelector("[data-test-script-state]")?.dataset.testScriptState === 'notRunning'"""


def text(example: str | None) -> str:
    return lstm_viz.normalise(OWN if example is None else EXAMPLES[example].text)


def key(example: str | None) -> str:
    return payload.text_key("warpeace", text(example))


def replica(context) -> str:
    return {c["name"]: c["value"] for c in context.cookies()}[REPLICA_COOKIE]


def shown_text(page) -> str:
    return "".join(page.locator(f"{TEXT_VIEW} .line.main .ch").all_text_contents()).replace("\u21b5", "\n")


def next_cell_synced(page) -> int:
    """Click Next cell in the page and wait until the server has learnt the new cell; the cell."""
    page.evaluate(START_SWITCH, "button")
    page.wait_for_function(SWITCHED, timeout=WAIT)
    cell = int(page.evaluate("() => window.__switch.cell"))
    page.wait_for_selector(f'{TEXT_VIEW}[data-synced="{cell}"]', state="attached", timeout=WAIT)
    return cell


def test_the_balancer_config_for_three_replicas_is_valid_haproxy(tmp_path):
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(balancer_config({"r1": 8502, "r2": 8503, "r3": 8504}))
    check = subprocess.run(
        [haproxy(), "-c", "-f", str(cfg)],
        capture_output=True,
        text=True,
        env={**os.environ, "LSTM_VIZ_BIND": "127.0.0.1:8501"},
    )
    assert check.returncode == 0, check.stdout + check.stderr
    lines = [line.split() for line in cfg.read_text().splitlines()]
    assert [line[1:] for line in lines if line[:1] == ["server"]] == [
        [f"r{i}", f"127.0.0.1:{8501 + i}", "cookie", f"r{i}"] for i in (1, 2, 3)
    ]
    # the page reads the cookie to see that it was moved to another replica
    assert [line[1:] for line in lines if line[:1] == ["cookie"]] == [[REPLICA_COOKIE, "insert", "indirect", "nocache"]]


def test_two_visitors_on_two_replicas_and_a_stopped_replica_costs_its_visitor_a_reconnect(browser):
    port = free_port()
    with cluster(2, port, replica_ports=[free_port(), free_port()]) as c:
        pages, sockets, contexts = {}, {}, {}
        for who, (example, layer, cell) in VISITORS.items():
            contexts[who] = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = pages[who] = contexts[who].new_page()
            sockets[who] = []
            page.on("websocket", lambda ws, found=sockets[who]: found.append(ws))
            page.goto(f"{c.url}/?example={example or 'dialogue'}&layer={layer}&cell={cell}")
            wait_view(page, timeout=WAIT, layer=str(layer - 1), cell=str(cell))
            wait_idle(page, timeout=WAIT)
            if example is None:
                set_text(page, OWN)
            wait_view(page, timeout=WAIT, key=key(example), layer=str(layer - 1), cell=str(cell))
            wait_idle(page, timeout=WAIT)
        try:
            served = {who: replica(contexts[who]) for who in VISITORS}
            assert served["a"] != served["b"] and set(served.values()) == set(c.ports)
            for who, (example, _, _) in VISITORS.items():
                assert shown_text(pages[who]) == text(example)
                [ws] = sockets[who]
                assert ws.url.startswith(f"ws://127.0.0.1:{port}/") and not ws.is_closed()

            a, b = pages["a"], pages["b"]
            a.evaluate(WATCH_RUNS)
            c.stop(served["a"])  # a's replica goes away mid-session
            example, layer, cell = VISITORS["a"]
            for _ in range(WAIT // 500):  # the page reconnects: a second websocket, through the balancer
                if len(sockets["a"]) >= 2:
                    break
                a.wait_for_timeout(500)
            assert len(sockets["a"]) >= 2 and sockets["a"][-1].url.startswith(f"ws://127.0.0.1:{port}/")
            a.wait_for_function(RAN_AGAIN, timeout=WAIT)  # the other replica has run the page for a
            wait_idle(a, timeout=WAIT)
            wait_view(a, timeout=WAIT, key=key(example), layer=str(layer - 1), cell=str(cell))
            assert replica(contexts["a"]) == served["b"]  # the balancer moved a to the live replica
            assert f"cell={cell}" in a.url and f"text={texts.key(text(example))}" in a.url
            assert shown_text(a) == text(example) and a.get_by_label(TEXT_LABEL).input_value() == OWN
            assert next_cell_synced(a) == cell + 1  # the new replica serves a's session

            assert len(sockets["b"]) == 1 and not sockets["b"][0].is_closed()  # b never noticed
            assert next_cell_synced(b) == VISITORS["b"][2] + 1
            assert shown_text(b) == text("c")
        finally:
            for context in contexts.values():
                context.close()
