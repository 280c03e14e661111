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


def gru_step(xw: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor):
    """One GRU step of one layer for a batch: xw (B, 3H) = x_t W_ih^T + b_ih, h (B, H).

    PyTorch's GRU, gates in its row order reset r, update z, candidate n:
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) * n + z * h_{t-1}.
    Returns h_t and the gates (r, z, n), each (B, H).
    """
    xr, xz, xn = xw.chunk(3, dim=1)
    hr, hz, hn = torch.addmm(b_hh, h, w_hh.T).chunk(3, dim=1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return (1 - z) * n + z * h, (r, z, n)


def rnn_step(xw: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor):
    """One step of one tanh RNN layer: xw (B, H) = x_t W_ih^T + b_ih + b_hh, h (B, H);
    h_t = tanh(W_ih x + b_ih + W_hh h + b_hh)."""
    return torch.addmm(xw, h, w_hh.T).tanh()


@torch.no_grad()
def run(model, text: str, interventions=(), state=None) -> dict:
    """Step every layer by hand over `text`, applying `interventions` at each step.

    Returns numpy arrays: c (L, T, H) raw cell states, cell (L, T, H) tanh(c), hidden (L, T, H),
    gates (L, 4, T, H) in the order i, f, g, o, and log_probs (T, V). For a GRU or an RNN, see
    `run_plain`.
    """
    if model.config.kind != "lstm":
        return run_plain(model, text, interventions, state)
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


@torch.no_grad()
def run_plain(model, text: str, interventions=(), state=None) -> dict:
    """`run` for a GRU or an RNN (their one state h), stepped by hand with `gru_step` or `rnn_step`.

    Returns numpy arrays: hidden (L, T, H), cell (the same: the memory of these kinds is h),
    gates (L, G, T, H) (a GRU's r, z, n; an RNN's none: G = 0) and log_probs (T, V). `state` is
    h (L, H) or a tuple whose first item it is.
    """
    if interventions:
        raise ValueError(f"interventions are not available for a {model.config.kind.upper()} yet")
    kind = model.config.kind
    ids = torch.as_tensor(model.vocab.encode(normalise(text)))
    L, H = model.config.layers, model.config.hidden
    h0 = torch.zeros(L, H) if state is None else torch.as_tensor(state[0] if isinstance(state, tuple) else state)
    x = model.embedding(ids)  # (T, E)
    hs, gs = [], []
    G = 3 if kind == "gru" else 0
    for layer in range(L):
        w_ih, w_hh, b_ih, b_hh = model.layer_weights(layer)
        h = h0[layer, None]  # (1, H)
        h_seq, g_seq = [], []
        for t in range(len(ids)):
            if kind == "gru":
                h, gates = gru_step((x[t] @ w_ih.T + b_ih)[None], h, w_hh, b_hh)
                g_seq.append(torch.stack([g[0] for g in gates]))
            else:
                h = rnn_step((x[t] @ w_ih.T + b_ih + b_hh)[None], h, w_hh)
            h_seq.append(h[0])
        x = torch.stack(h_seq) if h_seq else x.new_zeros(0, H)
        hs.append(x)
        gs.append(torch.stack(g_seq, 1) if g_seq else x.new_zeros(G, len(ids), H))
    hidden = torch.stack(hs).numpy()
    return {
        "hidden": hidden,
        "cell": hidden,
        "gates": torch.stack(gs).numpy(),
        "log_probs": torch.log_softmax(model.head(x), -1).numpy(),
    }
