"""Rerun messages as any client may send them over the websocket: partial, wrongly typed or
malformed widget states, odd links and cell lists. Every run ends in a page, never an exception.

A client here is a plain websocket speaking Streamlit's protocol (BackMsg / ForwardMsg), as a tab
left open across a deploy or a script would; it reads back the elements each run sends.
"""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from tornado.websocket import websocket_connect

pytestmark = pytest.mark.browser  # needs the app server of the browser suite (no Chromium)


class Client:
    """One session over the app's websocket."""

    def __init__(self, url: str):
        self.url = url.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = None

    async def connect(self) -> None:
        if self.ws is not None:
            self.ws.close()
        self.ws = await websocket_connect(self.url, subprotocols=["streamlit", "PLACEHOLDER_AUTH_TOKEN"])

    async def rerun(self, widgets=(), query: str = "") -> tuple[dict[str, str], list[str], dict]:
        """Run the page with these widget states: (widget id -> element type, exceptions shown,
        the elements by type)."""
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.widget_states.widgets.extend(widgets)
        await self.ws.write_message(msg.SerializeToString(), binary=True)
        ids, shown, elements = {}, [], {}
        while True:
            raw = await asyncio.wait_for(self.ws.read_message(), 120)
            assert raw is not None, "the server closed the session"
            forward = ForwardMsg()
            forward.ParseFromString(raw)
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                name = element.WhichOneof("type")
                if name == "exception":
                    trace = " | ".join(line.strip().splitlines()[0] for line in element.exception.stack_trace)
                    shown.append(f"{element.exception.type}: {element.exception.message} at {trace}")
                body = getattr(element, name)
                if getattr(body, "id", ""):
                    ids[body.id] = name
                elements.setdefault(name, []).append(body)
            if kind == "script_finished":
                return ids, shown, elements


def run(coroutine):
    """Run a client's coroutine on an event loop of its own thread (Playwright's sync API keeps one
    running in this thread once a browser test has run)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_rerun_whose_widget_states_hold_only_the_text_box_shows_that_text(app_url):
    async def session():
        client = Client(app_url)
        await client.connect()
        ids, shown, _ = await client.rerun()
        assert not shown
        (text_id,) = [i for i, kind in ids.items() if kind == "text_area"]
        typed = 'She said "yes" and left.'
        _, shown, elements = await client.rerun([WidgetState(id=text_id, string_value=typed)])
        assert not shown and "bidi_component" in elements  # the coloured text is drawn
        await client.connect()  # a new session (a server restarted under an open tab) sends the same
        _, shown, _ = await client.rerun([WidgetState(id=text_id, string_value=typed)])
        assert not shown

    run(session())


VALUES = {
    "string_value": ["", 'a "quote"', "9" * 5_000, "2:429, 1:3", "1:" + "7" * 5_000, "<b>x</b>", "\x00"],
    "int_value": [-1, 0, 3, 2**62, -(2**62)],
    "double_value": [float("nan"), float("inf"), -1.5, 1e300, 0.5],
    "bool_value": [True, False],
    "json_value": ["{}", "[]", "null", '{"selection": {"rows": [99999]}}', "not json"],
    "trigger_value": [True],
}
ARRAYS = {"string_array_value": ["a", "9" * 100], "int_array_value": [-5, 10**9], "double_array_value": [1e308]}
QUERIES = ["", "model=linux", "cell=" + "9" * 4_000, "layer=x&cell=-5", "text=" + "0" * 24, "signal=forget&pos=-3"]


def random_state(rng: random.Random, widget_id: str) -> WidgetState:
    """A widget state of a random type and value for `widget_id`."""
    state = WidgetState(id=widget_id)
    field = rng.choice([*VALUES, *ARRAYS, None])
    if field in VALUES:
        setattr(state, field, rng.choice(VALUES[field]))
    elif field in ARRAYS:
        getattr(state, field).data.extend(ARRAYS[field])
    return state


@pytest.mark.parametrize("seed", [0, 1])
def test_random_widget_states_links_and_cell_lists_never_show_an_exception(app_url, seed):
    rng = random.Random(seed)

    async def sessions():
        client = Client(app_url)
        await client.connect()
        ids, shown, _ = await client.rerun()
        known = list(ids)
        for round in range(30):
            widgets = [random_state(rng, i) for i in rng.sample(known, rng.randint(1, min(4, len(known))))]
            query = rng.choice(QUERIES)
            ids, shown, _ = await client.rerun(widgets, query)
            assert not shown, (round, query, [(w.id, w.WhichOneof("value")) for w in widgets], shown)
            known = list(dict.fromkeys(known + list(ids)))
            if rng.random() < 0.3:  # a new session, sent the old session's widget ids
                await client.connect()

    run(sessions())
