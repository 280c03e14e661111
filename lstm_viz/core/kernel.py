"""The layer kernels: one layer over a whole text, plain or with interventions.

`fused_layer` runs a layer through the fused LSTM kernel (the same call `nn.LSTM` makes), which
returns h_t for every step but only the last c. The output gate is then recovered for all steps
at once with one batched matmul from h_{t-1}, and tanh(c_t) = h_t / o_t. Where o_t could
underflow, the input, forget and candidate gates are recovered instead and
c_t = f_t * c_{t-1} + i_t * g_t is solved as a blocked scan (`exact_cells`, `linear_scan`).

`intervened_layer` does the same with `lstm_viz.Clamp` and `lstm_viz.Scale` edits: outside the
edits' spans the fused kernel runs the layer's segments as in a plain run; inside, it still runs
them when the edits hold cells at constants (clamps, zero scales), with those cells' gates set
to keep the constant (`holding_params`); a scale by a nonzero factor is stepped by hand
(`stepped_segment`, the step of `lstm_viz.core.reference` with the input side done in one matmul).

A GRU's or an RNN's layer runs through a fused kernel of its kind (`plain_layer`: ONNX Runtime's on
the CPU, where torch has none, `lstm_viz.core.onnx_layers`); with edits of its h_t,
`intervened_plain_layer` cuts it the same way: segments that hold cells at constants run through
the kernel with the held cells' part of h_{t-1} moved into the recurrent bias, the rest is
stepped by hand with the steps of `lstm_viz.core.reference`.

`float32_matmuls` keeps these exact on CUDA, where cuDNN may otherwise run them in TF32.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch

from . import onnx_layers
from .checks import check_choice
from .edits import Clamp, edits_at
from .reference import gru_step, input_bias, rnn_step

GATES = ("input", "forget", "candidate", "output")  # PyTorch's row order in the LSTM weights
SIGNALS = ("cell", "hidden") + GATES  # what `Trace.signal` gives: tanh(c_t), h_t and the gates
GATES_OF = {"lstm": GATES, "gru": ("reset", "update", "candidate"), "rnn": ()}  # each kind's, in PyTorch's row order
# What `Trace.signal` gives for each kind: "cell" is the memory (an LSTM's tanh(c_t); a GRU's or RNN's h_t, its
# only state), then h_t and the kind's gates.
SIGNALS_OF = {kind: ("cell", "hidden") + gates for kind, gates in GATES_OF.items()}
ALL_SIGNALS = tuple(dict.fromkeys(s for signals in SIGNALS_OF.values() for s in signals))  # any kind's
NAMED = {"lstm": "an LSTM", "gru": "a GRU", "rnn": "a vanilla RNN"}  # each kind in a sentence
PLAIN = {"gru": torch.gru, "rnn": torch.rnn_tanh}  # the fused kernels nn.GRU and nn.RNN (tanh) call


def check_signal(name: str, kind: str = "lstm") -> str:
    """`name` if a model of `kind` gives that signal (`SIGNALS_OF`); else a ValueError of one line,
    which says so where the name is another kind's gate."""
    if name in SIGNALS_OF[kind]:
        return name
    choices = ", ".join(SIGNALS_OF[kind])
    if not GATES_OF[kind] and name in ALL_SIGNALS:
        raise ValueError(
            f"unknown signal {name!r}: {NAMED[kind]} has no gates (its one state is h_t); choose one of {choices}"
        )
    owner = next((k for k, gates in GATES_OF.items() if name in gates), None)
    if owner:
        raise ValueError(
            f"unknown signal {name!r} for {NAMED[kind]}: it is {NAMED[owner]}'s gate; choose one of {choices}"
        )
    return check_choice("signal", name, SIGNALS_OF[kind])


@contextmanager
def float32_matmuls():
    """Inside: CUDA matmuls and cuDNN (the fused LSTM) in full float32, never TF32.

    TF32 keeps 10 bits of mantissa: h_t / o_t and the gates would be off by ~1e-3 instead of
    ~1e-7. The caller's settings come back afterwards, also after an exception. The switches
    are process-wide, so threads tracing on CUDA at once may see each other's setting until
    the last one leaves (both full float32).
    """
    switches = torch.backends.cudnn, torch.backends.cuda.matmul
    try:
        name, exact = "allow_tf32", False
        saved = [getattr(s, name) for s in switches]
    except RuntimeError:  # TF32 was set through the newer `fp32_precision` API: keep to that one
        switches = torch.backends.cudnn.rnn, torch.backends.cuda.matmul
        name, exact = "fp32_precision", "ieee"
        saved = [getattr(s, name) for s in switches]
    try:
        for s in switches:
            setattr(s, name, exact)
        yield
    finally:
        for s, value in zip(switches, saved):
            setattr(s, name, value)


def linear_scan(f: torch.Tensor, u: torch.Tensor, c0: torch.Tensor) -> torch.Tensor:
    """Solve c_t = f_t * c_{t-1} + u_t for f, u (T, H) from c0 (H,) in about 2*sqrt(T) steps.

    Blocks of B steps are scanned side by side from zero; a short pass then carries the
    state from block to block, and c = local + (product of f within the block) * carry.
    """
    T, H = f.shape
    B = max(1, math.isqrt(T))
    n = -(-T // B)
    pad = n * B - T
    F = torch.cat([f, f.new_ones(pad, H)]).view(n, B, H)
    U = torch.cat([u, u.new_zeros(pad, H)]).view(n, B, H)
    local, prod = torch.empty_like(U), torch.empty_like(F)
    acc, p = U.new_zeros(n, H), F.new_ones(n, H)
    for k in range(B):
        acc = torch.addcmul(U[:, k], F[:, k], acc)
        p = p * F[:, k]
        local[:, k], prod[:, k] = acc, p
    carry = [c0]
    for b in range(n - 1):
        carry.append(torch.addcmul(local[b, -1], prod[b, -1], carry[-1]))
    c = torch.addcmul(local, prod, torch.stack(carry)[:, None])  # (n, B, H)
    return c.view(n * B, H)[:T]


def exact_cells(x, h_prev, weights, cols, c0) -> torch.Tensor:
    """tanh(c_t) (T, k) of the cells `cols`, by recovering i, f, g and scanning the recurrence."""
    w_ih, w_hh, b = weights
    H = w_hh.shape[1]
    rows = torch.cat([cols, cols + H, cols + 2 * H])  # i, f, g rows of these cells
    pre = torch.addmm(b[rows], x, w_ih[rows].T).addmm_(h_prev, w_hh[rows].T)  # (T, 3k)
    i, f, g = pre.chunk(3, dim=1)
    return linear_scan(f.sigmoid(), i.sigmoid() * g.tanh(), c0).tanh()


def fused_layer(x, h0, c0, params, tanh_c=None):
    """One layer over x (T, in) from h0, c0 (H,) through the fused LSTM kernel.

    Returns h (T, H), tanh(c) (T, H) (written into `tanh_c` when given), and the final h, c (H,).
    """
    out, h_n, c_n = torch.lstm(
        x[None], (h0[None, None], c0[None, None]), list(params), True, 1, 0.0, False, False, True
    )
    return out[0], cells_from_hidden(x, out[0], h0, c0, params, tanh_c), h_n[0, 0], c_n[0, 0]


def plain_layer(kind: str, x, h0, params):
    """One GRU or RNN layer over x (T, in) from h0 (H,): h (T, H) and the last h (H,); or over texts
    side by side, x (B, T, in) from h0 (B, H): h (B, T, H) and the last h (B, H). On the CPU through
    ONNX Runtime's fused kernel (`onnx_layers`, faster there), elsewhere through the one nn.GRU or
    nn.RNN calls."""
    if x.device.type == "cpu":
        return onnx_layers.layer(kind, x, h0, params)
    return torch_plain_layer(kind, x, h0, params)


def torch_plain_layer(kind: str, x, h0, params):
    """`plain_layer` through the kernel nn.GRU or nn.RNN calls, on any device."""
    single = x.dim() == 2
    x, h0 = (x[None], h0[None]) if single else (x, h0)
    out, h_n = PLAIN[kind](x, h0[None], list(params), True, 1, 0.0, False, False, True)
    return (out[0], h_n[0, 0]) if single else (out, h_n[0])


def cells_from_hidden(x, out, h0, c0, params, tanh_c=None) -> torch.Tensor:
    """tanh(c) (T, H) of a layer run over x (T, in) from h0, c0 (H,), given its output h (T, H).

    tanh(c_t) is h_t / o_t, with the output gate o recovered by one batched matmul; cells whose
    output gate ever nears underflow (pre-activation below -60) are scanned exactly. Written
    into `tanh_c` when given.
    """
    w_ih, w_hh, b_ih, b_hh = params
    H = w_hh.shape[1]
    b = b_ih + b_hh
    pre_o = torch.addmm(b[3 * H :], x, w_ih[3 * H :].T)  # (T, H): output gate, before sigmoid
    pre_o[1:].addmm_(out[:-1], w_hh[3 * H :].T)  # h_{t-1} @ W_ho for t >= 1 ...
    pre_o[0] += h0 @ w_hh[3 * H :].T  # ... and the initial state for t = 0
    cols = (pre_o < -60).any(0).nonzero()[:, 0]
    tanh_c = torch.empty_like(out) if tanh_c is None else tanh_c
    torch.div(out, pre_o.sigmoid_(), out=tanh_c).clamp_(-1, 1)
    if len(cols):
        h_prev = torch.cat([h0[None], out[:-1]])  # (T, H)
        tanh_c[:, cols] = exact_cells(x, h_prev, (w_ih, w_hh, b), cols, c0[cols])
    return tanh_c


def doubled_candidate(w: torch.Tensor) -> torch.Tensor:
    """A copy of gate weights or biases (4H, ...) with the candidate rows doubled, so that one
    sigmoid over all four gates gives tanh(g) as 2 * sigmoid(2 g) - 1."""
    H = w.shape[0] // 4
    w = w.clone()
    w[2 * H : 3 * H] *= 2
    return w


def stepped_segment(x, h, c, params, edit, out, c_out):
    """Step one layer by hand over x (n, in) from h, c (H,), applying `edit` to c_t at every step.

    The same step as `reference.step`, leaner: the input side of all steps is one matmul, and
    each step is one addmm and one sigmoid for the four gates. h_t goes to out (n, H) and c_t to
    c_out (n, H); returns the last h, c.
    """
    w_ih, w_hh, b_ih, b_hh = params
    xw = torch.addmm(doubled_candidate(b_ih + b_hh), x, doubled_candidate(w_ih).T)  # (n, 4H)
    w_hh_t = doubled_candidate(w_hh).T
    h, c = h[None], c[None]  # (1, H)
    for t in range(len(x)):
        gates = torch.addmm(xw[t : t + 1], h, w_hh_t).sigmoid_()
        i, f, g, o = gates.chunk(4, dim=1)
        g.mul_(2).sub_(1)  # tanh of the candidate's pre-activation
        c = torch.addcmul(f * c, i, g)  # c_t = f * c_{t-1} + i * g
        edit(c)
        c_out[t] = c[0]
        h = out[t : t + 1]
        torch.mul(o, c.tanh(), out=h)
    return h[0], c[0]


def held_values(active) -> dict | None:
    """cell -> the constant c_t that the `active` edits hold it at over a segment (a clamp, a
    clamp then scales, or scales by a product of 0); None if some edited cell still depends on c."""
    held, scaled = {}, {}
    for iv in active:
        for k in iv.cells:
            if isinstance(iv, Clamp):
                held[k] = iv.value
                scaled.pop(k, None)
            elif k in held:
                held[k] *= iv.factor
            else:
                scaled[k] = scaled.get(k, 1.0) * iv.factor
    if any(factor != 0 for factor in scaled.values()):
        return None
    return {**held, **{k: 0.0 for k in scaled}}


def holding_params(params, cells: torch.Tensor):
    """The layer's weights with the input gate of `cells` shut (i = 0) and the forget gate open
    (f = 1) exactly, so that c_t of those cells keeps the value it starts from while o_t, h_t and
    every other cell are computed as usual."""
    H = params[1].shape[1]
    w_ih, w_hh, b_ih, b_hh = (p.detach().clone() for p in params)
    for rows, bias in ((cells, -1e4), (cells + H, 1e4)):  # sigmoid gives exactly 0 and 1 here
        w_ih[rows], w_hh[rows], b_ih[rows], b_hh[rows] = 0.0, 0.0, bias, 0.0
    return w_ih, w_hh, b_ih, b_hh


def intervened_layer(x, h0, c0, params, tanh_c=None, edits=()):
    """`fused_layer` with `edits` on this layer: x (T, in), h0 and c0 (H,).

    The steps are cut where an edit starts or stops. Segments no edit covers run through the
    fused kernel; so do segments whose edits hold cells at constants (clamps, zero scales): the
    kernel runs with those cells' gates set to keep their starting value, which is set to the
    constant. Other segments (a scale by a nonzero factor) are stepped by hand.
    Returns h (T, H), tanh(c) (T, H), h_T, c_T.
    """
    T, H = len(x), params[1].shape[1]
    cuts = sorted({0, T} | {min(iv.start, T) for iv in edits} | {iv.end(T) for iv in edits})
    out = x.new_empty(T, H)
    tanh_c = x.new_empty(T, H) if tanh_c is None else tanh_c
    h, c = h0, c0
    for a, z in zip(cuts[:-1], cuts[1:]):
        active = [iv for iv in edits if iv.covers(a)]  # the same for the whole segment
        held = held_values(active)
        if held is None:
            h, c = stepped_segment(x[a:z], h, c, params, edits_at(active, a), out[a:z], tanh_c[a:z])
            tanh_c[a:z].tanh_()
            continue
        run_params = params
        if held:
            cells = torch.as_tensor(list(held), device=c.device)
            c = c.clone()
            c[cells] = torch.as_tensor(list(held.values()), dtype=c.dtype, device=c.device)
            run_params = holding_params(params, cells)
        out[a:z], tanh_c[a:z], h, c = fused_layer(x[a:z], h, c, run_params)
    return out, tanh_c, h, c


def stepped_plain_segment(kind: str, x, h, params, edit, out):
    """Step one GRU or RNN layer by hand over x (n, in) from h (H,), applying `edit` to h_t at every
    step: the steps of `reference` with the input side of all steps in one matmul. h_t goes to
    out (n, H); returns the last h."""
    w_ih, w_hh, b_ih, b_hh = params
    xw = torch.addmm(input_bias(kind, b_ih, b_hh), x, w_ih.T)  # (n, G*H)
    h = h[None]  # (1, H)
    for t in range(len(x)):
        h = gru_step(xw[t : t + 1], h, w_hh, b_hh, edit)[0] if kind == "gru" else rnn_step(xw[t : t + 1], h, w_hh, edit)
        out[t] = h[0]
    return out[len(x) - 1]


def folded_params(params, cells: torch.Tensor, values: torch.Tensor):
    """The layer's weights for steps that read `cells` of h_{t-1} held at `values`: those columns of
    W_hh zeroed and their share W_hh[:, cells] values added to b_hh (a GRU's b_hn is inside the
    reset gate, as W_hn h is, so the share belongs there too). The held cells' own outputs are
    then meaningless and are overwritten with the values."""
    w_ih, w_hh, b_ih, b_hh = (p.detach() for p in params)
    share = w_hh[:, cells] @ values  # (G*H,)
    w_hh = w_hh.clone()
    w_hh[:, cells] = 0.0
    return w_ih, w_hh, b_ih, b_hh + share


def intervened_plain_layer(kind: str, x, h0, params, edits=()):
    """`plain_layer` of a GRU or RNN with `edits` of its h_t on this layer: x (T, in), h0 (H,).

    The steps are cut where an edit starts or stops. Segments no edit covers run through the
    fused kernel; so do segments whose edits hold cells at constants (clamps, zero scales), after
    their first step (which reads h_{t-1} as it was), with `folded_params`. Other segments (a
    scale by a nonzero factor) are stepped by hand. Returns h (T, H), h_T.
    """
    T, H = len(x), params[1].shape[1]
    cuts = sorted({0, T} | {min(iv.start, T) for iv in edits} | {iv.end(T) for iv in edits})
    out = x.new_empty(T, H)
    h = h0
    for a, z in zip(cuts[:-1], cuts[1:]):
        active = [iv for iv in edits if iv.covers(a)]  # the same for the whole segment
        held = held_values(active)
        if not active:
            out[a:z], h = plain_layer(kind, x[a:z], h, params)
        elif held is None or z - a == 1:
            h = stepped_plain_segment(kind, x[a:z], h, params, edits_at(active, a), out[a:z])
        else:
            h = stepped_plain_segment(kind, x[a : a + 1], h, params, edits_at(active, a), out[a : a + 1])
            cells = torch.as_tensor(list(held), device=x.device)
            values = torch.as_tensor(list(held.values()), dtype=x.dtype, device=x.device)
            out[a + 1 : z], h = plain_layer(kind, x[a + 1 : z], h, folded_params(params, cells, values))
            out[a + 1 : z, cells] = values
            h = h.clone()
            h[cells] = values
    return out, h
