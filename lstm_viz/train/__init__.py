"""Training: the corpus and its split, the training loop, resuming, evaluation, sweeps of runs."""
