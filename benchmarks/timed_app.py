"""app.py, with every script run's start and end (wall clock) appended to $LSTM_VIZ_RUN_LOG as a
JSON line: the session, the text it shows (ui.payload.text_key), whether the run finished or
was cut short by a newer one, and the trace service's counts so far (lstm_viz.service.Stats).
benchmarks/class_bench.py serves this instead of app.py to time the server side of a paste."""

import json
import os
import runpy
import sys
import time
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstm_viz import normalise, service  # noqa: E402
from ui.payload import text_key  # noqa: E402

start, finished = time.time(), False
try:
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
    finished = True
finally:
    shown = st.session_state.get("shown_text") or ""
    line = json.dumps(
        {
            "session": get_script_run_ctx().session_id,
            "key": text_key("warpeace", normalise(shown)),
            "start": start,
            "end": time.time(),
            "finished": finished,
            "service": vars(service.shared()[0].stats),  # since the server started
        }
    )
    with open(os.environ["LSTM_VIZ_RUN_LOG"], "a") as log:
        log.write(line + "\n")
