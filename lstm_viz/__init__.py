"""lstm-viz: look inside character-level LSTMs, one cell at a time.

The names below are the library's classes and verbs; everything else is reached through its
namespace: `lstm_viz.analysis` (the paper's analyses), and the layers' subpackages
(`lstm_viz.find.finder`, `lstm_viz.io.checkpoint`, ...). A trace comes from the model:
`lstm_viz.load("warpeace").trace(text)`.

One calling convention: what reads a trace takes it first, `find_cells(trace, ...)`,
`analysis.gate_saturation(trace, layer)`; what runs the model takes the model and the text
first, `explain(model, text)`, `effect(model, text, edits)`, `attribution(model, text, t)`,
`ablation_ranking(model, text)`; an analysis of plain arrays (a long text traced in pieces)
takes the text and the model's per-character loss first, `analysis.error_breakdown_from(text,
loss, ngram)`.
"""

from .causal.ablation import ablation_ranking
from .causal.attribute import attribution
from .causal.intervene import Effect, effect
from .core.edits import Clamp, Scale
from .core.model import CharLSTM, Config
from .core.trace import Trace
from .core.vocab import Vocab, normalise
from .find.explainer import explain
from .find.finder import find_cells
from .io.checkpoint import CheckpointError, available, load, save
from .io.importers import ModelImportError, from_keras, from_torch
from .paper import analysis as analysis  # a namespace, not in __all__
from .paper.ngram import NGram, load_ngram
from .views.view import View

# The library's layers, its subpackages, lowest first: a module imports only from its own layer
# and the layers below it (tests/test_structure.py). The top-level modules (the commands) come above.
LAYERS = ("core", "io", "views", "train", "causal", "find", "paper", "serve")

__all__ = [
    # classes
    "CharLSTM",
    "CheckpointError",
    "Clamp",
    "Config",
    "Effect",
    "ModelImportError",
    "NGram",
    "Scale",
    "Trace",
    "View",
    "Vocab",
    # verbs
    "ablation_ranking",
    "attribution",
    "available",
    "effect",
    "explain",
    "find_cells",
    "from_keras",
    "from_torch",
    "load",
    "load_ngram",
    "normalise",
    "save",
]
