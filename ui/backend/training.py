"""A model over its training, for the pages: its snapshots (`train --snapshots`), the text traced at
each, their samples, and the measures of `lstm_viz.paper.dynamics` shipped beside it."""

from __future__ import annotations

import numpy as np
import streamlit as st

import lstm_viz
from lstm_viz.io import checkpoint
from lstm_viz.paper import dynamics

PRIME = "\n"  # what each snapshot's sample starts from
SAMPLE_CHARS = 160  # characters each snapshot writes
SEED = 0


@st.cache_data(max_entries=16, show_spinner=False)
def snapshots(name: str) -> list[dict]:
    """Each snapshot of a shipped or model-folder model: index, chars_seen, val (nats, None if not
    recorded); an empty list for a model without snapshots or one uploaded in this session."""
    try:
        found = checkpoint.snapshots(name)
    except (checkpoint.CheckpointError, OSError):
        return []
    return [
        {"index": s["index"], "chars_seen": s["chars_seen"], "val": (s["loss"].get("val") or {}).get("nats")}
        for s in found
    ]


@st.cache_resource(max_entries=64, show_spinner=False)  # the shipped trio's 16 snapshots each, ~1 MB apiece
def snapshot_model(name: str, index: int) -> lstm_viz.CharLSTM:
    return lstm_viz.load(name, snapshot=index)


@st.cache_resource(max_entries=4, show_spinner="Running every snapshot of the training over the text...")
def traces(name: str, text: str) -> list[lstm_viz.Trace]:
    """The text traced at every snapshot, in training order."""
    return [snapshot_model(name, s["index"]).trace(text) for s in snapshots(name)]


@st.cache_data(max_entries=64, show_spinner=False)
def cell_over_training(name: str, text: str, layer: int, cell: int, signal: str) -> list[np.ndarray]:
    """(T,) float32 values of one cell's signal at every snapshot."""
    return [np.asarray(tr.signal(signal, layer, [cell])[:, 0], dtype=np.float32) for tr in traces(name, text)]


@st.cache_data(max_entries=8, show_spinner="Letting every snapshot write a few lines...")
def samples(name: str) -> list[str]:
    """What each snapshot writes from PRIME: the blog's samples over training."""
    return [snapshot_model(name, s["index"]).sample(PRIME, SAMPLE_CHARS, seed=SEED) for s in snapshots(name)]


@st.cache_resource(max_entries=4, show_spinner=False)
def record(name: str) -> dict | None:
    """The model's dynamics.json (`lstm_viz.paper.dynamics.build`), None if it has none or it cannot be read."""
    try:
        return dynamics.read(name)
    except (ValueError, checkpoint.CheckpointError, OSError):
        return None
