"""Attribution of one next-character prediction to the characters read before it (`lstm_viz.attribution`)."""

from __future__ import annotations

import numpy as np
import torch

from ..core.checks import check_choice
from ..core.model import eval_mode
from ..core.vocab import normalise

METHODS = ("gradient_x_input", "integrated_gradients")


def attribution(model, text: str, t: int, method: str = "gradient_x_input", steps: int = 32) -> np.ndarray:
    """(t + 1,) float64: how much each character s <= t moved log p(text[t + 1] | text[:t + 1]).

    gradient_x_input: the gradient of that log-probability with respect to character s's
    embedding, dotted with the embedding. integrated_gradients: the same gradient averaged
    over `steps` points on the straight line from all-zero embeddings to the real ones
    (midpoint rule, the points run as one batch), so the entries sum to about the change of
    log p from the all-zero input to the text.
    """
    check_choice("attribution method", method, METHODS)
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive whole number, not {steps!r}")
    ids = model.vocab.encode(normalise(text))
    if not 0 <= t < len(ids) - 1:
        raise ValueError(f"position {t} has no next character to attribute (the text has {len(ids)} characters)")
    with eval_mode(model), torch.enable_grad():
        x = model.embedding.weight[torch.as_tensor(ids[: t + 1])].detach()  # (t + 1, E)
        alphas = torch.ones(1) if method == "gradient_x_input" else (torch.arange(steps) + 0.5) / steps
        scaled = (alphas[:, None, None] * x[None]).requires_grad_()  # (S, t + 1, E)
        out, _ = model.recurrent(scaled)  # (S, t + 1, H)
        log_p = torch.log_softmax(model.head(out[:, -1]), -1)[:, int(ids[t + 1])]  # (S,)
        (grad,) = torch.autograd.grad(log_p.sum(), scaled)
    return (grad.mean(0) * x).sum(-1).double().numpy()
