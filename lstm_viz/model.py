"""CharLSTM: embedding -> multi-layer nn.LSTM -> linear head over the alphabet."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .vocab import UNKNOWN, Vocab, normalise


@dataclass
class Config:
    vocab_size: int
    layers: int = 2
    hidden: int = 512
    embed: int = 64
    dropout: float = 0.0
    forget_bias: float = 1.0  # "initial bias to not forget"; 0 turns it off

    def to_dict(self) -> dict:
        return asdict(self)


class CharLSTM(nn.Module):
    """A character-level LSTM language model that knows its own alphabet."""

    def __init__(self, config: Config, vocab: Vocab):
        super().__init__()
        if len(vocab) != config.vocab_size:
            raise ValueError(f"alphabet has {len(vocab)} slots but config says {config.vocab_size}")
        self.config, self.vocab = config, vocab
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed)
        self.lstm = nn.LSTM(c.embed, c.hidden, c.layers, batch_first=True,
                            dropout=c.dropout if c.layers > 1 else 0.0)
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden, c.vocab_size)
        if c.forget_bias:
            with torch.no_grad():
                for layer in range(c.layers):  # PyTorch gate order: input, forget, cell, output
                    getattr(self.lstm, f"bias_ih_l{layer}")[c.hidden:2 * c.hidden].fill_(c.forget_bias)
                    getattr(self.lstm, f"bias_hh_l{layer}")[c.hidden:2 * c.hidden].zero_()

    def forward(self, ids: torch.Tensor, state=None):
        """ids (B, T) -> logits (B, T, V) and the final (h, c), each (L, B, H)."""
        x = self.drop(self.embedding(ids))  # (B, T, E)
        out, state = self.lstm(x, state)  # (B, T, H)
        return self.head(self.drop(out)), state

    def layer_weights(self, layer: int):
        """W_ih (4H, in), W_hh (4H, H), b_ih (4H,), b_hh (4H,) of one layer, gates i, f, g, o."""
        return tuple(getattr(self.lstm, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def trace(self, text: str, state=None, interventions=(), base=None):
        """Every layer's cell, hidden state and gates for every character: see `lstm_viz.trace`.

        With `interventions` (`lstm_viz.Clamp`, `lstm_viz.Scale`), the trace of the changed run.
        """
        from .trace import trace
        return trace(self, text, state, interventions, base)

    def trace_chunks(self, text: str, chunk: int = 10_000):
        """Trace a long text piece by piece in bounded memory, carrying the state across."""
        from .trace import trace_chunks
        return trace_chunks(self, text, chunk)

    @torch.no_grad()
    def sample(self, prime: str = "\n", n: int = 200, temperature: float = 1.0, seed: int = 0,
               interventions=()) -> str:
        """Generate `n` characters after `prime`; the same seed gives the same text.

        With `interventions`, positions count from the first character of `prime` (see
        `lstm_viz.intervene.sample`); the same seed makes the two continuations comparable.
        """
        if interventions:
            from .intervene import sample
            return sample(self, prime, n, temperature, seed, interventions)
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        gen = torch.Generator(device=device).manual_seed(seed)
        ids = torch.as_tensor(self.vocab.encode(normalise(prime) or "\n"), device=device)[None]
        logits, state = self(ids)
        out = []
        for _ in range(n):
            step = logits[0, -1] / temperature
            step[UNKNOWN] = -float("inf")  # never generate the unknown slot
            nxt = torch.multinomial(torch.softmax(step, -1), 1, generator=gen)
            out.append(int(nxt))
            logits, state = self(nxt[None], state)
        self.train(was_training)
        return self.vocab.decode(out)
