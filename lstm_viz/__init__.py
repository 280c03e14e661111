"""lstm-viz: look inside character-level LSTMs, one cell at a time."""

from . import analysis
from .ablation import ablation_ranking
from .attribute import attribution
from .checkpoint import CheckpointError, available, load, save
from .edits import Clamp, Scale
from .explainer import explain
from .importers import ModelImportError, from_keras, from_torch
from .intervene import Effect, effect
from .kernel import GATES, SIGNALS
from .model import CharLSTM, Config
from .ngram import NGram, load_ngram
from .trace import Trace
from .vocab import Vocab, normalise

__all__ = [
    "CharLSTM",
    "CheckpointError",
    "Clamp",
    "Config",
    "Effect",
    "GATES",
    "ModelImportError",
    "NGram",
    "SIGNALS",
    "Scale",
    "Trace",
    "Vocab",
    "ablation_ranking",
    "analysis",
    "attribution",
    "available",
    "effect",
    "explain",
    "from_keras",
    "from_torch",
    "load",
    "load_ngram",
    "normalise",
    "save",
]
