"""The model and its trace: vocabulary, edits, kernels, batches, the reference step, cell lists, text features."""
