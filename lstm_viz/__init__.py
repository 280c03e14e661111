"""lstm-viz: look inside character-level LSTMs, one cell at a time."""
from .checkpoint import CheckpointError, available, load, save
from .model import CharLSTM, Config
from .trace import GATES, SIGNALS, Trace
from .vocab import Vocab, normalise

__all__ = ["CharLSTM", "CheckpointError", "Config", "GATES", "SIGNALS", "Trace", "Vocab", "available", "load",
           "normalise", "save"]
