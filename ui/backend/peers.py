"""The models to set beside the one shown: every model folder whose card names the same corpus
(the shipped War and Peace LSTMs, GRU and RNN), read from their cards without loading them."""

from __future__ import annotations

import streamlit as st

import lstm_viz
from lstm_viz.io import checkpoint

KINDS = ("lstm", "gru", "rnn")  # the order the models are listed in


def about(card: dict) -> dict:
    """What a card says of a model: its corpus (name and hash), kind, layers and cells per layer."""
    config = card.get("config", {})
    corpus = card.get("corpus", {})
    return {
        "corpus": (corpus.get("name"), corpus.get("sha256")),
        "kind": config.get("kind", card.get("kind", "lstm")),
        "layers": config.get("layers"),
        "hidden": config.get("hidden"),
    }


def stored() -> dict[str, dict]:
    """`about` each model folder (pretrained/ and $LSTM_VIZ_MODELS, read again when they change);
    those whose card cannot be read are left out."""
    return stored_in(tuple(str(folder) for folder in checkpoint.model_dirs()))


@st.cache_data(ttl=60, show_spinner=False)
def stored_in(folders: tuple[str, ...]) -> dict[str, dict]:
    """`stored`, for the model folders `folders` (the cache's key)."""
    found = {}
    for name in lstm_viz.available():
        try:
            found[name] = about(checkpoint.read_card(checkpoint.resolve(name)))
        except (lstm_viz.CheckpointError, OSError, ValueError):
            continue
    return found


def same_corpus(name: str, card: dict) -> list[tuple[str, dict]]:
    """(name, `about`) of the model `name` (its card `card`) and of every model folder trained on
    the same corpus (the same hash, or the same file name where a card has no hash), by kind
    (LSTM, GRU, RNN), then size, then name."""
    own = about(card)
    corpus_name, digest = own["corpus"]

    def same(other: dict) -> bool:
        other_name, other_digest = other["corpus"]
        if digest and other_digest:
            return other_digest == digest
        return corpus_name is not None and other_name == corpus_name

    found = {name: own} | {n: a for n, a in stored().items() if n != name and same(a)}

    def order(item):
        n, a = item
        return (KINDS.index(a["kind"]) if a["kind"] in KINDS else len(KINDS), a["layers"] or 0, a["hidden"] or 0, n)

    return sorted(found.items(), key=order)
