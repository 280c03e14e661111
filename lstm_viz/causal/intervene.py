"""Interventions: fix or scale cells' memory over a span and see what changes after.

`Clamp` sets the memory of some cells to a value, `Scale` multiplies it (factor 0 is a zero
ablation; both defined in `lstm_viz.core.edits`): an LSTM's raw c_t, from which h_t = o_t * tanh(c_t)
follows, or a GRU's or RNN's h_t; all later steps and layers follow from the edited state
exactly. `model.trace(text, interventions=[...])` and `model.sample(..., interventions=[...])`
accept them (run by `lstm_viz.core.kernel.intervened_layer` and `intervened_plain_layer`); `effect`
here compares an intervened run with the plain one, character by character.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.trace import Trace
from ..core.vocab import normalise


@dataclass
class Effect:
    """What interventions change, character by character (position t predicts character t + 1)."""

    before: Trace
    after: Trace
    delta: np.ndarray  # (T,) log p(actual next char) after minus before; NaN where unknown or absent
    kl: np.ndarray  # (T,) KL(before || after) of the next-char distributions, in nats

    def top_k(self, t: int, k: int = 5) -> tuple[list, list]:
        """The k likeliest next characters after position t, before and after the intervention."""
        return self.before.top_k(t, k), self.after.top_k(t, k)


def effect(model, text: str, interventions, base: Trace | None = None) -> Effect:
    """Trace `text` with and without `interventions` and compare the next-char predictions.

    `base`, the plain trace of `text` if already at hand, is reused (and its lower layers too);
    a base of another text or with interventions of its own is not used.
    """
    if not interventions:
        raise ValueError("no interventions given")
    before = base if base is not None and base.text == normalise(text) and not base.interventions else model.trace(text)
    after = model.trace(text, interventions=interventions, base=before)
    delta = before.loss_per_char - after.loss_per_char
    p = np.exp(before.log_probs.astype(np.float64))
    kl = (p * (before.log_probs.astype(np.float64) - after.log_probs)).sum(axis=1)
    return Effect(before, after, delta, kl)
