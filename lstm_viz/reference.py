"""The LSTM step written out once, gate by gate, as in char-rnn's LSTM.lua.

`step` is what the intervened runs execute inside an intervention and what `run` loops over:
`run` is the slow, obvious reference that tests and benchmarks compare the fast paths with.
"""

from __future__ import annotations

import torch

from .vocab import normalise


def step(xw: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_hh: torch.Tensor, edit=None):
    """One step of one layer for a batch: xw (B, 4H) = x_t W_ih^T + b_ih + b_hh, h and c (B, H).

    Returns h_t, c_t and the gates (i, f, g, o), each (B, H). `edit(c)` may change c_t in place
    before the output h_t = o * tanh(c_t) is taken from it (a clamp or a scale).
    """
    if w_hh.dtype == xw.dtype:
        pre = torch.addmm(xw, h, w_hh.T)  # (B, 4H)
    else:  # a lower-precision recurrent product (bfloat16 in the ablation ranking), gates in float32
        pre = xw + (h.to(w_hh.dtype) @ w_hh.T).float()
    i, f, g, o = pre.chunk(4, dim=1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()  # input, forget, candidate, output
    c = torch.addcmul(f * c, i, g)  # c_t = f * c_{t-1} + i * g
    if edit is not None:
        edit(c)
    h = o * c.tanh()
    return h, c, (i, f, g, o)


@torch.no_grad()
def run(model, text: str, interventions=(), state=None) -> dict:
    """Step every layer by hand over `text`, applying `interventions` at each step.

    Returns numpy arrays: c (L, T, H) raw cell states, cell (L, T, H) tanh(c), hidden (L, T, H),
    gates (L, 4, T, H) in the order i, f, g, o, and log_probs (T, V).
    """
    ids = torch.as_tensor(model.vocab.encode(normalise(text)))
    L, H = model.config.layers, model.config.hidden
    h0, c0 = (torch.zeros(L, H), torch.zeros(L, H)) if state is None else (torch.as_tensor(s) for s in state)
    x = model.embedding(ids)  # (T, E)
    cs, hs, gs = [], [], []
    for layer in range(L):
        w_ih, w_hh, b_ih, b_hh = model.layer_weights(layer)
        h, c = h0[layer, None], c0[layer, None]  # (1, H)
        c_seq, h_seq, g_seq = [], [], []
        for t in range(len(ids)):
            active = [iv for iv in interventions if iv.layer == layer and iv.covers(t)]
            edit = (lambda c_t, active=active: [iv.apply(c_t) for iv in active]) if active else None
            h, c, gates = step((x[t] @ w_ih.T + b_ih + b_hh)[None], h, c, w_hh, edit)
            c_seq.append(c[0]), h_seq.append(h[0]), g_seq.append(torch.stack([g[0] for g in gates]))
        x = torch.stack(h_seq) if h_seq else x.new_zeros(0, H)
        cs.append(torch.stack(c_seq) if c_seq else x.new_zeros(0, H)), hs.append(x)
        gs.append(torch.stack(g_seq, 1) if g_seq else x.new_zeros(4, 0, H))
    c = torch.stack(cs)
    return {
        "c": c.numpy(),
        "cell": c.tanh().numpy(),
        "hidden": torch.stack(hs).numpy(),
        "gates": torch.stack(gs).numpy(),
        "log_probs": torch.log_softmax(model.head(x), -1).numpy(),
    }
