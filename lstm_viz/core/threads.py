"""Running torch work on a chosen number of threads: this thread's count, or calls side by side; and
NumPy's BLAS on as many threads as torch."""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager

import torch
from threadpoolctl import ThreadpoolController


@contextmanager
def torch_threads(n: int):
    """Torch runs this thread's work on `n` threads inside; the thread's previous count comes back after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def blas() -> ThreadpoolController:
    """The BLAS libraries loaded in this process (NumPy's OpenBLAS), found once."""
    return ThreadpoolController().select(user_api="blas")


@contextmanager
def blas_like_torch():
    """NumPy's matrix products run on as many threads as torch does in this thread, inside (OpenBLAS
    keeps one count for the process and would otherwise take every core, past the trace service's
    budget)."""
    with blas().limit(limits=torch.get_num_threads()):
        yield


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
