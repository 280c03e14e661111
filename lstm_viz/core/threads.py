"""Running torch work on a chosen number of threads: this thread's count, or calls side by side."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int):
    """Torch runs this thread's work on `n` threads inside; the thread's previous count comes back after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def in_threads(calls: list[tuple]) -> list:
    """Each (fn, *args) of `calls` run in a thread of its own, torch on one thread in each; their
    results in order once all have ended. The first call that raised raises here, after all ended."""
    results, errors = [None] * len(calls), [None] * len(calls)

    def run(k: int) -> None:
        fn, *args = calls[k]
        try:
            with torch_threads(1):
                results[k] = fn(*args)
        except BaseException as e:  # handed to the caller's thread below
            errors[k] = e

    threads = [threading.Thread(target=run, args=(k,), name=f"lstm-viz-part-{k}") for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        if e is not None:
            raise e
    return results
