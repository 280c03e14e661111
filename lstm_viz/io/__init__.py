"""Models in and out: lstm-viz checkpoints, checkpoints sent as one zip, other frameworks' models imported."""
