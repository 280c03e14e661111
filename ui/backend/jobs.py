"""Long jobs (the ablation ranking, attributions, the live analyses) through the process's queue
of heavy jobs (`lstm_viz.serve.service.start`): a few run at once, the others wait in order, and the
page says where they stand rather than stalling silently."""

from __future__ import annotations

import streamlit as st

from lstm_viz.serve import service
from lstm_viz.serve.service import Busy

__all__ = ["Busy", "heavy", "queued"]


def queued(ahead: int) -> str:
    return f"Busy, queued ({ahead} ahead): other visitors' long jobs run first; yours starts after them."


def heavy(fn, *args, **kwargs):
    """fn(*args, **kwargs) once the queue lets it start; while it waits, a line in its place on the
    page says how many jobs are ahead. Raises `Busy` (one line, for the page) when too many wait.

    The cached functions of ui/backend/cache.py call it, so a result already cached never queues. The line
    lives in a placeholder made and cleared here, so a replay of the cached call shows nothing."""
    slot = st.empty()
    try:
        return service.start().jobs.run(fn, *args, waiting=lambda ahead: slot.info(queued(ahead)), **kwargs)
    finally:
        slot.empty()
