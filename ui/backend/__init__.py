"""The library's work as the app calls it: cached calls, the job queue, uploaded models, the run log."""
