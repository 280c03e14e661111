"""CharLSTM: embedding -> multi-layer nn.LSTM (or nn.GRU, or a tanh nn.RNN) -> linear head over the alphabet."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .batch import trace_batch
from .edits import check, edits_at
from .reference import input_bias, layer_step
from .trace import Trace, trace, trace_chunks
from .vocab import UNKNOWN, Vocab, normalise


@dataclass
class Config:
    vocab_size: int
    layers: int = 2
    hidden: int = 512
    embed: int = 64
    dropout: float = 0.0
    forget_bias: float = 1.0  # "initial bias to not forget"; 0 turns it off (an LSTM's only)
    kind: str = "lstm"  # one of KINDS: the recurrent layers are nn.LSTM, nn.GRU or nn.RNN (tanh)

    def to_dict(self) -> dict:
        return asdict(self)


KINDS = ("lstm", "gru", "rnn")
GATE_ROWS = {"lstm": 4, "gru": 3, "rnn": 1}  # rows of W_ih per cell: gates i, f, g, o; r, z, n; the state itself
MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def detach_state(state):
    """A carried state cut from the graph: an LSTM's (h, c) tuple or a GRU's or RNN's h, each (L, B, H)."""
    if state is None or torch.is_tensor(state):
        return None if state is None else state.detach()
    return tuple(s.detach() for s in state)


@contextmanager
def eval_mode(model: nn.Module):
    """Inside: `model` in eval mode (no dropout); its training mode comes back afterwards, also
    after an exception."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


class CharLSTM(nn.Module):
    """A character-level LSTM language model that knows its own alphabet."""

    def __init__(self, config: Config, vocab: Vocab):
        super().__init__()
        if len(vocab) != config.vocab_size:
            raise ValueError(f"alphabet has {len(vocab)} slots but config says {config.vocab_size}")
        self.config, self.vocab = config, vocab
        self.card: dict = {}  # the checkpoint's card.json when loaded from one (`lstm_viz.io.checkpoint.load`)
        self.matched: dict = {}  # an imported model's tensors: input, recurrent, head (`lstm_viz.io.importers`)
        c = config
        if c.kind not in KINDS:
            raise ValueError(f"unknown kind {c.kind!r}; choose one of {', '.join(KINDS)}")
        self.embedding = nn.Embedding(c.vocab_size, c.embed)
        extra = {"nonlinearity": "tanh"} if c.kind == "rnn" else {}
        recurrent = MODULES[c.kind](
            c.embed, c.hidden, c.layers, batch_first=True, dropout=c.dropout if c.layers > 1 else 0.0, **extra
        )
        setattr(self, c.kind, recurrent)  # self.lstm, self.gru or self.rnn: its weights are named after the kind
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden, c.vocab_size)
        self.set_forget_bias()

    @torch.no_grad()
    def set_forget_bias(self) -> None:
        """An LSTM's forget gates start at config.forget_bias (when not 0); other kinds have none."""
        c = self.config
        if c.forget_bias and c.kind == "lstm":
            for layer in range(c.layers):  # PyTorch gate order: input, forget, cell, output
                getattr(self.lstm, f"bias_ih_l{layer}")[c.hidden : 2 * c.hidden].fill_(c.forget_bias)
                getattr(self.lstm, f"bias_hh_l{layer}")[c.hidden : 2 * c.hidden].zero_()

    @torch.no_grad()
    def init_uniform(self, scale: float) -> None:
        """Every weight drawn uniformly from [-scale, scale] (Karpathy et al.'s 0.08), then the forget bias."""
        for p in self.parameters():
            p.uniform_(-scale, scale)
        self.set_forget_bias()

    @property
    def kind(self) -> str:
        """The kind of recurrent layers: lstm, gru or rnn."""
        return self.config.kind

    @property
    def recurrent(self) -> nn.Module:
        """The recurrent layers, whatever the kind: nn.LSTM, nn.GRU or nn.RNN."""
        return getattr(self, self.config.kind)

    def forward(self, ids: torch.Tensor, state=None):
        """ids (B, T) -> logits (B, T, V) and the final state: an LSTM's (h, c), a GRU's or RNN's h, each (L, B, H)."""
        x = self.drop(self.embedding(ids))  # (B, T, E)
        out, state = self.recurrent(x, state)  # (B, T, H)
        return self.head(self.drop(out)), state

    def layer_weights(self, layer: int):
        """W_ih (G*H, in), W_hh (G*H, H), b_ih (G*H,), b_hh (G*H,) of one layer, G = GATE_ROWS[kind]:
        an LSTM's gates i, f, g, o; a GRU's r, z, n; an RNN's one block."""
        return tuple(getattr(self.recurrent, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def trace(self, text: str, state=None, interventions=(), base: Trace | None = None) -> Trace:
        """Every layer's cell, hidden state and gates for every character: see `lstm_viz.core.trace.trace`.

        With `interventions` (`lstm_viz.Clamp`, `lstm_viz.Scale`), the trace of the changed run.
        """
        return trace(self, text, state, interventions, base)

    def trace_batch(self, texts, workers: int = 1) -> list[Trace]:
        """The plain traces of several texts (any lengths), run side by side as one batch, on `workers`
        threads that never wait for one another when > 1: see `lstm_viz.core.batch`."""
        return trace_batch(self, texts, workers)

    def trace_chunks(self, text: str, chunk: int = 10_000):
        """Trace a long text piece by piece in bounded memory, carrying the state across."""
        return trace_chunks(self, text, chunk)

    @torch.no_grad()
    def sample(self, prime: str = "\n", n: int = 200, temperature: float = 1.0, seed: int = 0, interventions=()) -> str:
        """Generate `n` characters after `prime`; the same seed gives the same text.

        The prime is traced (with the `interventions` that start in it), then each new character
        goes through `reference.layer_step`, with the interventions that cover it (on an LSTM's
        c_t, a GRU's or RNN's h_t). Positions count from the first character of `prime`; an
        intervention that changes nothing (a scale by 1) gives the very continuation a plain
        sample does with the same seed. Dropout is never applied here, so the model's training
        mode does not matter.
        """
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        prime = normalise(prime) or "\n"
        L, kind = self.config.layers, self.kind
        check(interventions, L, self.config.hidden, len(prime) + n)
        gen = torch.Generator(device=self.head.weight.device).manual_seed(seed)
        read = self.trace(prime, interventions=[iv for iv in interventions if iv.start < len(prime)])
        state = [list(torch.from_numpy(s).to(self.head.weight.device)[:, None]) for s in read.final]  # per layer (1, H)
        h, c = state[0], state[1] if kind == "lstm" else [None] * L
        weights = [self.layer_weights(layer) for layer in range(L)]
        logits = self.head(h[-1])  # (1, V)
        out = []
        for k in range(n):
            step_logits = logits[0] / temperature
            step_logits[UNKNOWN] = -float("inf")  # never generate the unknown slot
            nxt = torch.multinomial(torch.softmax(step_logits, -1), 1, generator=gen)
            out.append(int(nxt))
            if k == n - 1:
                break
            x = self.embedding(nxt)  # (1, E)
            for layer, params in enumerate(weights):
                edit = edits_at([iv for iv in interventions if iv.layer == layer], len(prime) + k)
                xw = torch.addmm(input_bias(kind, params[2], params[3]), x, params[0].T)
                h[layer], c[layer] = layer_step(kind, xw, h[layer], c[layer], params, edit)
                x = h[layer]
            logits = self.head(x)
        return self.vocab.decode(out)
