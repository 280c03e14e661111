"""The steps written out once, gate by gate: the LSTM's as in char-rnn's LSTM.lua, the GRU's and the
tanh RNN's as PyTorch computes them.

`step`, `gru_step` and `rnn_step` (one for any kind: `layer_step`) are what the intervened runs
execute inside an intervention and what `run` loops over: `run` is the slow, obvious reference
that tests and benchmarks compare the fast paths with.
"""

from __future__ import annotations

import torch

from .vocab import normalise


def step(xw: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_hh: torch.Tensor, edit=None):
    """One step of one layer for a batch: xw (B, 4H) = x_t W_ih^T + b_ih + b_hh, h and c (B, H).

    Returns h_t, c_t and the gates (i, f, g, o), each (B, H). `edit(c)` may change c_t in place
    before the output h_t = o * tanh(c_t) is taken from it (a clamp or a scale).
    """
    pre = recurrent(h, w_hh, xw)  # (B, 4H)
    i, f, g, o = pre.chunk(4, dim=1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()  # input, forget, candidate, output
    c = torch.addcmul(f * c, i, g)  # c_t = f * c_{t-1} + i * g
    if edit is not None:
        edit(c)
    h = o * c.tanh()
    return h, c, (i, f, g, o)


def recurrent(h: torch.Tensor, w_hh: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """h W_hh^T (+ bias), (B, G*H); a lower-precision W_hh (bfloat16 in the ablation ranking) takes h in
    its precision and gives float32."""
    if w_hh.dtype == h.dtype:
        return h @ w_hh.T if bias is None else torch.addmm(bias, h, w_hh.T)
    out = (h.to(w_hh.dtype) @ w_hh.T).float()
    return out if bias is None else out + bias


def gru_step(xw: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor, edit=None):
    """One GRU step of one layer for a batch: xw (B, 3H) = x_t W_ih^T + b_ih, h (B, H).

    PyTorch's GRU, gates in its row order reset r, update z, candidate n:
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) * n + z * h_{t-1}.
    `edit(h_t)` may change h_t in place (a clamp or a scale): the next step and the layer above
    read the edited h_t. Returns h_t and the gates (r, z, n), each (B, H).
    """
    xr, xz, xn = xw.chunk(3, dim=1)
    hr, hz, hn = recurrent(h, w_hh, b_hh).chunk(3, dim=1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    h = (1 - z) * n + z * h
    if edit is not None:
        edit(h)
    return h, (r, z, n)


def rnn_step(xw: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, edit=None):
    """One step of one tanh RNN layer: xw (B, H) = x_t W_ih^T + b_ih + b_hh, h (B, H);
    h_t = tanh(W_ih x + b_ih + W_hh h + b_hh), then `edit(h_t)` in place (a clamp or a scale)."""
    h = (xw + recurrent(h, w_hh)).tanh()
    if edit is not None:
        edit(h)
    return h


def input_bias(kind: str, b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """The bias that goes with x_t W_ih^T into a step's xw: b_ih + b_hh, but a GRU's b_ih alone (its
    b_hn acts inside the reset gate)."""
    return b_ih if kind == "gru" else b_ih + b_hh


def layer_step(kind: str, xw: torch.Tensor, h: torch.Tensor, c, params, edit=None):
    """One step of one layer of any kind: xw (B, G*H) = x_t W_ih^T + `input_bias`, h (B, H), c (B, H)
    an LSTM's cell state (None for the other kinds). `edit` changes the memory in place: an LSTM's
    c_t, a GRU's or RNN's h_t. Returns h_t and c_t (None but for an LSTM)."""
    w_hh, b_hh = params[1], params[3]
    if kind == "lstm":
        h, c, _ = step(xw, h, c, w_hh, edit)
        return h, c
    if kind == "gru":
        return gru_step(xw, h, w_hh, b_hh, edit)[0], None
    return rnn_step(xw, h, w_hh, edit), None


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
    """`run` for a GRU or an RNN (their one state h), stepped by hand with `gru_step` or `rnn_step`,
    applying `interventions` to h_t at each step.

    Returns numpy arrays: hidden (L, T, H), cell (the same: the memory of these kinds is h),
    gates (L, G, T, H) (a GRU's r, z, n; an RNN's none: G = 0) and log_probs (T, V). `state` is
    h (L, H) or a tuple whose first item it is.
    """
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
            active = [iv for iv in interventions if iv.layer == layer and iv.covers(t)]
            edit = (lambda h_t, active=active: [iv.apply(h_t) for iv in active]) if active else None
            if kind == "gru":
                h, gates = gru_step((x[t] @ w_ih.T + b_ih)[None], h, w_hh, b_hh, edit)
                g_seq.append(torch.stack([g[0] for g in gates]))
            else:
                h = rnn_step((x[t] @ w_ih.T + b_ih + b_hh)[None], h, w_hh, edit)
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
