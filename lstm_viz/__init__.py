"""lstm-viz: look inside character-level LSTMs, one cell at a time."""
from . import analysis
from .checkpoint import CheckpointError, available, load, save
from .model import CharLSTM, Config
from .ngram import NGram, load_ngram
from .trace import GATES, SIGNALS, Trace
from .vocab import Vocab, normalise

__all__ = ["CharLSTM", "CheckpointError", "Config", "GATES", "NGram", "SIGNALS", "Trace", "Vocab", "analysis",
           "available", "load", "load_ngram", "normalise", "save"]
