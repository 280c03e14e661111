"""The server's run log, for timing the server side of a paste: with LSTM_VIZ_RUN_LOG naming a
file, every run of the main page appends one JSON line: its session, the text it shows (as
ui.components.payload.text_key of the model and text), its start and end (wall clock), whether it finished
or was cut short by a newer run, and the trace service's counts since the server started.
benchmarks/class_bench.py and paste_profile.py read it; unset, nothing is written."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

from streamlit.runtime.scriptrunner import get_script_run_ctx

from lstm_viz import normalise
from lstm_viz.serve import service

from ..components.payload import text_key

ENV = "LSTM_VIZ_RUN_LOG"


@contextmanager
def timed(session: MutableMapping) -> Iterator[None]:
    """Log the run of the code inside (a no-op unless $LSTM_VIZ_RUN_LOG is set)."""
    path = os.environ.get(ENV)
    if not path:
        yield
        return
    start, finished = time.time(), False
    try:
        yield
        finished = True
    finally:
        shown = normalise(session.get("shown_text") or "")
        line = {
            "session": get_script_run_ctx().session_id,
            "key": text_key(session.get("model", ""), shown),
            "start": start,
            "end": time.time(),
            "finished": finished,
            "service": vars(service.start().traces.stats),
        }
        with open(path, "a") as log:
            log.write(json.dumps(line) + "\n")
