"""A GRU's or a vanilla RNN's layer on the CPU through ONNX Runtime's fused kernels.

torch has a fused CPU kernel (oneDNN) for the LSTM only; its GRU and RNN run step by step through
the dispatcher, a few microseconds of fixed cost per op, which at 128 cells is most of a step.
ONNX Runtime's GRU and RNN operators run the whole sequence in C++ with vectorised activations
(`benchmarks/kinds_bench.py` times them against torch's). Their arithmetic is PyTorch's: the GRU
with `linear_before_reset`, whose candidate takes r * (W_hn h + b_hn) as nn.GRU does; only the
row order of the gates differs (ONNX: update, reset, candidate; PyTorch: reset, update, candidate).

One graph per (kind, hidden size, threads), its weights fed as inputs, so a model's layers, any
imported or edited weights and any batch share it. A session runs on as many threads as torch does
in the calling thread, and its threads sleep between calls (no spinning on a shared machine).
"""

from __future__ import annotations

import functools

import numpy as np
import onnxruntime
import torch
from onnx import TensorProto, helper

OPSET = 14  # the version of the GRU and RNN operators used (GRU-14, RNN-14)
ONNX_OP = {"gru": "GRU", "rnn": "RNN"}


@functools.lru_cache(maxsize=32)
def session(kind: str, hidden: int, threads: int) -> onnxruntime.InferenceSession:
    """The one-node graph of `kind` with `hidden` cells: inputs X (T, B, in), W, R, B (biases) and h0
    (1, B, H), outputs Y (T, 1, B, H) and the last h (1, B, H)."""
    f = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info(name, f, shape)
        for name, shape in (
            ("X", ["T", "B", "in"]),
            ("W", [1, "G", "in"]),
            ("R", [1, "G", hidden]),
            ("bias", [1, "G2"]),
            ("h0", [1, "B", hidden]),
        )
    ]
    outputs = [
        helper.make_tensor_value_info("Y", f, ["T", 1, "B", hidden]),
        helper.make_tensor_value_info("Y_h", f, [1, "B", hidden]),
    ]
    extra = {"linear_before_reset": 1} if kind == "gru" else {}
    node = helper.make_node(ONNX_OP[kind], ["X", "W", "R", "bias", "", "h0"], ["Y", "Y_h"], hidden_size=hidden, **extra)
    graph = helper.make_graph([node], kind, inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_cpu_mem_arena = False  # texts of every length: an arena would keep the largest
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def onnx_rows(kind: str, w: np.ndarray) -> np.ndarray:
    """Gate rows (or biases) in ONNX's order, as float32 in one block: a GRU's reset and update blocks swapped."""
    if kind == "gru":
        H = len(w) // 3
        w = np.concatenate([w[H : 2 * H], w[:H], w[2 * H :]])
    return np.ascontiguousarray(w, dtype=np.float32)


def layer(kind: str, x: torch.Tensor, h0: torch.Tensor, params) -> tuple[torch.Tensor, torch.Tensor]:
    """One layer of `kind` over x (T, in) from h0 (H,): h (T, H) and the last h (H,); or over texts
    side by side, x (B, T, in) from h0 (B, H): h (B, T, H) and the last h (B, H)."""
    single = x.dim() == 2
    x, h0 = (x[None], h0[None]) if single else (x, h0)
    B, T, _ = x.shape
    if T == 0:
        out, last = x.new_empty(B, 0, h0.shape[1]), h0.detach().clone()
    else:
        w_ih, w_hh, b_ih, b_hh = (onnx_rows(kind, p.detach().numpy()) for p in params)
        feeds = {
            "X": np.ascontiguousarray(x.detach().numpy().transpose(1, 0, 2)),  # (T, B, in)
            "W": w_ih[None],
            "R": w_hh[None],
            "bias": np.concatenate([b_ih, b_hh])[None],
            "h0": h0.detach().numpy()[None],
        }
        y, y_h = session(kind, w_hh.shape[1], torch.get_num_threads()).run(None, feeds)
        out, last = torch.from_numpy(y[:, 0].transpose(1, 0, 2)), torch.from_numpy(y_h[0])  # (B, T, H), (B, H)
    return (out[0], last[0]) if single else (out, last)
