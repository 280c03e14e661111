"""lstm-viz: look inside character-level LSTMs, one cell at a time."""
from .checkpoint import CheckpointError, available, load, save
from .importers import ModelImportError, from_keras, from_torch
from .model import CharLSTM, Config
from .trace import GATES, SIGNALS, Trace
from .vocab import Vocab, normalise

__all__ = ["CharLSTM", "CheckpointError", "Config", "GATES", "ModelImportError", "SIGNALS", "Trace", "Vocab", "available",
           "from_keras", "from_torch", "load", "normalise", "save"]
