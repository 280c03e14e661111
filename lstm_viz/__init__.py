"""lstm-viz: look inside character-level LSTMs, one cell at a time."""

from .causal.ablation import ablation_ranking
from .causal.attribute import attribution
from .causal.intervene import Effect, effect
from .core.edits import Clamp, Scale
from .core.kernel import GATES, SIGNALS
from .core.model import CharLSTM, Config
from .core.trace import Trace
from .core.vocab import Vocab, normalise
from .find.explainer import explain
from .io.checkpoint import CheckpointError, available, load, save
from .io.importers import ModelImportError, from_keras, from_torch
from .paper import analysis
from .paper.ngram import NGram, load_ngram

# The library's layers, its subpackages, lowest first: a module imports only from its own layer
# and the layers below it (tests/test_structure.py). The top-level modules (the commands) come above.
LAYERS = ("core", "io", "views", "train", "causal", "find", "paper", "serve")

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
