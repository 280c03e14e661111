"""Serving: the process-wide trace service, and `lstm-viz app`, which starts the app."""
