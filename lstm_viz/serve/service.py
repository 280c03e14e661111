"""One process serving many people at once: batched traces, a core budget, a queue for heavy jobs.

A server (the app) runs each visitor's script in a thread of its own. Left alone, every thread
that asks torch for work gets all the cores, so N visitors pasting at once run N x cores
threads, and each trace is a separate pass over the weights. Here instead:

- `TraceService.trace(model, text)` blocks until the trace is done, like `model.trace(text)`;
  `submit(model, text)` returns at once with a future of it. A request made `ahead` (a trace the
  page will want soon, such as the Compare tab's models while the page's own model is traced) is
  taken only once no other request waits, so it never holds up one that a page is waiting for.
  Requests from all threads that arrive within `window_ms` of the first (and any that arrive
  while a batch runs) are traced together by one worker thread (`lstm_viz.core.batch.trace_batch`),
  grouped by model. While no core is free a batch waits for more as long as they keep coming
  (until `busy_gap_ms` pass without one, at most `busy_window_ms` after its first): on a busy
  machine a trace runs slowly anyway, every text that joins saves a pass over the weights, and a
  class's texts reach the server over a few hundred milliseconds. A (model, text) already
  waiting or being traced is not traced again: its callers share the one result. Finished
  traces are not kept here (callers cache them). A small batch (under `small_work` multiply-adds,
  about what one core does in 50 ms: a short text, or a small model such as the 2 x 128 ones the
  Compare tab shows) neither waits for company nor takes more than one core: waiting would cost
  more than the trace, and a pass over small weights gains nothing from a second thread.
- `Budget` holds the machine's cores as permits; a trace batch and a heavy job each take some,
  so torch work that goes through the service never runs more threads than there are cores. A
  trace batch asks for LSTM_VIZ_TRACE_THREADS cores if set, else for all, and how it uses them
  depends on what else the machine is doing as it starts. When nothing else wants them, torch
  runs it on that many OpenMP threads, which share each step's small matrix product (each core
  keeps part of the weights in its cache). But those threads meet at a barrier after every step,
  and when another program holds a core the barrier waits for a thread that is not running. So
  when a core is held the batch is run by `trace_batch(..., workers=cores)` instead, threads of
  one torch thread each that never wait for one another within a step (layers pipelined, or
  groups of texts). A core counts as held when another thread wants it as the batch starts
  (`idle_cores`, the kernel's count of runnable threads), unless the batch is a single text and
  the machine had a quiet spell since the last batch ended (while idle the service reads the
  kernel's CPU counters every `LOOK_S`, `cpu_counters`; some span between two reads, within the
  last second, saw under `QUIET_CORES` busy): that is one visitor's paste, and a browser on the
  same machine drawing their page is busy as it starts but not all the while, so OpenMP's
  threads win over it. A program that holds a core all the while leaves no quiet spell. A
  batch of several texts is a class at work, whose pages keep the cores busy. A heavy job takes
  one core. (`benchmarks/trace_workers.py` and `benchmarks/class_bench.py` measure both ways.)
- `HeavyJobs.run(fn, ...)` runs at most `slots` long jobs (ablation ranking, explain, analyses)
  at once; the others wait in order, and a `waiting(ahead)` callback says how many are ahead of
  them (when it changes, and every `retell_s` seconds), so a page can say "busy, queued (n
  ahead)" instead of stalling silently, and a page that went away (its callback raises) leaves
  the queue. Past `max_waiting` waiting jobs, `Busy` is raised (one line, for the page).

`start()` starts the process-wide `Service` the app uses (its `traces` and its `jobs`, on one
budget), and sets torch's default for the threads the process starts from then on (Streamlit
starts one per script run) to one thread.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..core.batch import trace_batch
from ..core.threads import torch_threads
from ..core.vocab import normalise


def cpu_quota(cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The CPUs a container's quota allows (`docker run --cpus 2`: 2), rounded up; None without one.
    Its affinity still lists every CPU of the host, and a thread per CPU under a small quota crawls."""
    for path in (cgroup / "cpu.max", cgroup / "cpu" / "cpu.cfs_quota_us"):  # cgroup v2, v1
        try:
            words = path.read_text().split()
            if path.name == "cpu.max":
                quota, period = words[0], words[1]
            else:
                quota, period = words[0], (path.parent / "cpu.cfs_period_us").read_text().split()[0]
        except (OSError, IndexError):
            continue
        if quota.lstrip("-").isdigit() and int(quota) > 0 and period.isdigit() and int(period) > 0:
            return max(1, math.ceil(int(quota) / int(period)))
        return None
    return None


def cores() -> int:
    """The cores this process may use: LSTM_VIZ_CORES if set (replicas sharing a machine split it),
    else those it may run on, within its container's CPU quota."""
    if os.environ.get("LSTM_VIZ_CORES", "").isdigit() and int(os.environ["LSTM_VIZ_CORES"]) > 0:
        return int(os.environ["LSTM_VIZ_CORES"])
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return min(usable, cpu_quota() or usable)


SMALL_WORK = 1e9  # multiply-adds of a trace that one core does in about 50 ms (2,000 chars on a 2 x 128 LSTM: 0.46e9)
LOOK_S = 0.1  # how often the idle service reads the kernel's CPU counters
LOOKS = 11  # reads kept: the last second's spans between them
QUIET_CORES = 0.75  # a span between reads with less of the machine busy than this: a core was free (a program
# holding one reads 0.99-1.10 over 0.1 s here)
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100  # the kernel's CPU counters per second


class Budget:
    """The cores as permits, handed out first come first served."""

    def __init__(self, total: int | None = None):
        self.total = total or cores()
        self.free = self.total
        self._queue: deque = deque()
        self._cond = threading.Condition()
        self._mine = threading.local()

    def held(self) -> int:
        """Permits the calling thread holds now."""
        return getattr(self._mine, "n", 0)

    @contextmanager
    def hold(self, want: int):
        """Wait for at least one permit, take up to `want`, and run the block on that many torch threads."""
        me = object()
        with self._cond:
            self._queue.append(me)
            while self._queue[0] is not me or not self.free:
                self._cond.wait()
            self._queue.popleft()
            n = min(max(1, want), self.free)
            self.free -= n
            self._cond.notify_all()
        self._mine.n = self.held() + n
        try:
            with torch_threads(n):
                yield n
        finally:
            self._mine.n -= n
            with self._cond:
                self.free += n
                self._cond.notify_all()


@dataclass
class _Request:
    model: object
    text: str
    arrived: float
    ahead: bool = False  # wanted soon, not yet: taken once no other request waits
    future: Future = field(default_factory=Future)


@dataclass
class Stats:
    """What the service did since it started (for benchmarks and the server's log)."""

    requests: int = 0  # calls to trace
    shared: int = 0  # calls answered by another call's trace of the same (model, text)
    batches: int = 0
    traced: int = 0  # texts traced
    largest: int = 0  # texts in the largest batch
    busy_s: float = 0.0  # seconds spent tracing
    wide: int = 0  # batches traced on more than one core
    split: int = 0  # of those, batches split over threads that never wait for one another (`trace_batch` workers)


class TraceService:
    """Traces from many threads, batched (see the module's docstring)."""

    def __init__(
        self,
        budget: Budget | None = None,
        window_ms: float = 5.0,
        busy_gap_ms: float = 30.0,
        busy_window_ms: float = 500.0,
        max_batch: int = 16,
        max_chars: int = 60_000,
        threads: int | None = None,
        small_work: float = SMALL_WORK,
    ):
        self.budget = budget or Budget()
        self.threads = threads  # cores of the budget per batch at most; None: all
        self.window, self.busy_gap, self.busy_window = window_ms / 1000, busy_gap_ms / 1000, busy_window_ms / 1000
        self.max_batch, self.max_chars, self.small_work = max_batch, max_chars, small_work
        self.stats = Stats()
        self._waiting: dict[tuple, _Request] = {}  # (id(model), text) -> request, in arrival order
        self._running: dict[tuple, _Request] = {}
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._looks: deque = deque(maxlen=LOOKS)  # cpu_counters() since the last batch ended, newest last

    def trace(self, model, text: str):
        """`model.trace(text)`, traced in a batch with whatever else is asked for at the same time."""
        return self.submit(model, text).result()

    def submit(self, model, text: str, ahead: bool = False) -> Future:
        """A future of `model.trace(text)`, traced as `trace` would; `ahead`: wanted soon, not yet
        (taken once no other request waits). Asking again without `ahead` hurries it."""
        if self.budget.held():  # inside a heavy job: trace on its cores here (the worker may need them)
            done: Future = Future()
            done.set_result(model.trace(text))
            return done
        text = normalise(text)
        key = (id(model), text)  # the request holds the model, so its id is not reused while it waits
        with self._cond:
            self.stats.requests += 1
            request = self._waiting.get(key) or self._running.get(key)
            if request is not None:
                request.ahead = request.ahead and ahead
                self.stats.shared += 1
            else:
                request = self._waiting[key] = _Request(model, text, time.monotonic(), ahead)
                self._start()
            self._cond.notify_all()
        return request.future

    def hurry(self, future: Future) -> None:
        """A request made `ahead` whose trace is now wanted: taken like any other."""
        with self._cond:
            for request in self._waiting.values():
                if request.future is future and request.ahead:
                    request.ahead = False
                    self._cond.notify_all()

    @staticmethod
    def work(model, chars: int) -> float:
        """Multiply-adds of tracing `chars` characters, about: characters x the layers' input and recurrent weights."""
        try:
            weights = sum(p.numel() for layer in range(model.config.layers) for p in model.layer_weights(layer)[:2])
        except AttributeError:  # not one of the library's models: never counted small
            return math.inf
        return weights * chars

    def _start(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._serve, name="lstm-viz-traces", daemon=True)
            self._worker.start()

    def _take(self) -> list[_Request]:
        """The next batch: the oldest request (of those not made `ahead`, if any) and those of the
        same model after it, within the limits."""
        with self._cond:
            while True:
                while not self._waiting:
                    self._look()
                    self._cond.wait(LOOK_S)
                first = next((r for r in self._waiting.values() if not r.ahead), None)
                if first is not None:
                    break
                first = next(iter(self._waiting.values()))  # only requests made ahead: after a window, no other came
                if (left := first.arrived + self.window - time.monotonic()) <= 0:
                    break
                self._cond.wait(left)

            def room() -> bool:
                return sum(r.model is first.model for r in self._waiting.values()) < self.max_batch

            while (left := first.arrived + self.window - time.monotonic()) > 0 and room():
                self._cond.wait(left)
            small = self.small([first])
            while not small and room() and idle_cores(self.budget.total, looks=1) < self.budget.total:
                last = max(r.arrived for r in self._waiting.values() if r.model is first.model)
                left = min(first.arrived + self.busy_window, last + self.busy_gap) - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.005))
            batch, chars = [], 0
            for key, request in list(self._waiting.items()):
                if request.model is not first.model or len(batch) == self.max_batch:
                    continue
                if batch and chars + len(request.text) > self.max_chars:
                    break
                batch.append(request)
                chars += len(request.text)
                self._running[key] = self._waiting.pop(key)
            return batch

    def small(self, batch: list[_Request]) -> bool:
        """Whether a batch is under `small_work` multiply-adds: one core traces it best."""
        return self.work(batch[0].model, sum(len(r.text) for r in batch)) < self.small_work

    def _serve(self) -> None:
        while True:
            batch = self._take()
            self._run(batch, 1 if self.small(batch) else self.threads or self.budget.total)

    def _run(self, batch: list[_Request], want: int) -> None:
        """Trace a batch on up to `want` cores of the budget and hand each caller its trace (or the error)."""
        start, threads, workers = time.perf_counter(), 0, 1
        try:
            with self.budget.hold(want) as threads:
                alone = len(batch) == 1 and self._quiet()  # one visitor's paste: their browser draws meanwhile
                free = threads == 1 or alone or idle_cores(self.budget.total) >= threads
                workers = 1 if free else threads  # 1: on OpenMP threads
                traces = trace_batch(batch[0].model, [r.text for r in batch], workers)
            error = None
        except Exception as e:  # every caller of the batch gets the error, and the service goes on
            traces, error = [None] * len(batch), e
        self._looks.clear()
        with self._cond:
            self.stats.batches += 1
            self.stats.wide += threads > 1
            self.stats.split += workers > 1
            self.stats.traced += len(batch)
            self.stats.largest = max(self.stats.largest, len(batch))
            self.stats.busy_s += time.perf_counter() - start
            for request in batch:
                del self._running[(id(request.model), request.text)]
        for request, tr in zip(batch, traces):
            if error is None:
                request.future.set_result(tr)
            else:
                request.future.set_exception(error)

    def _look(self) -> None:
        """Keep a read of the kernel's CPU counters (none where they cannot be read)."""
        counters = cpu_counters()
        if counters is not None:
            self._looks.append(counters)

    def _quiet(self) -> bool:
        """Whether, since the last batch ended, some span between two reads of the counters (at least
        0.8 `LOOK_S` long: the counters tick 100 times a second) saw under `QUIET_CORES` of the machine busy."""
        self._look()
        looks = list(self._looks)
        spans = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(looks, looks[1:])]  # (seconds, core-seconds busy)
        return any(seconds >= 0.8 * LOOK_S and busy / seconds < QUIET_CORES for seconds, busy in spans)


class Busy(RuntimeError):
    """Too many heavy jobs are waiting already; the message is one line for the page."""


class HeavyJobs:
    """At most `slots` heavy jobs at once, each on `threads` cores of the budget; the rest wait in order."""

    def __init__(
        self,
        budget: Budget | None = None,
        slots: int | None = None,
        threads: int = 1,
        max_waiting: int = 32,
        retell_s: float = 1.0,
    ):
        self.budget = budget or Budget()
        self.slots = slots or max(1, self.budget.total // 2)
        self.threads, self.max_waiting, self.retell_s = threads, max_waiting, retell_s
        self.running = 0
        self._queue: deque = deque()
        self._cond = threading.Condition()

    def ahead(self, ticket) -> int:
        """Jobs that start before this waiting one: those running and those waiting in front of it."""
        return self.running + self._queue.index(ticket)

    def run(self, fn, *args, waiting=None, **kwargs):
        """fn(*args, **kwargs) in this thread once a slot is free; `waiting(n)` is called (in this
        thread) while it waits, with the number of jobs ahead of it, each time that changes and
        every `retell_s` seconds; never if it starts at once. An exception from `waiting` leaves
        the queue. Raises `Busy` when `max_waiting` jobs are waiting already."""
        ticket = object()
        with self._cond:
            if self.running < self.slots and not self._queue:
                self.running += 1
                ticket = None
            elif len(self._queue) >= self.max_waiting:
                raise Busy(f"The server is busy (long jobs waiting: {len(self._queue)}). Try again in a minute.")
            else:
                self._queue.append(ticket)
        told = None
        try:
            while ticket is not None:
                with self._cond:
                    if self._queue[0] is ticket and self.running < self.slots:
                        self._queue.popleft()
                        self.running += 1
                        self._cond.notify_all()
                        break
                    ahead = self.ahead(ticket)
                    if ahead == told and not self._cond.wait(self.retell_s):
                        told = None  # nothing moved for retell_s: tell it again
                    if ahead == told:
                        continue
                told = ahead
                if waiting is not None:
                    waiting(ahead)  # outside the lock: it may draw on a page
        except BaseException:  # the caller gave up (its page went away): leave the queue
            with self._cond:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                self._cond.notify_all()
            raise
        try:
            with self.budget.hold(self.threads):
                return fn(*args, **kwargs)
        finally:
            with self._cond:
                self.running -= 1
                self._cond.notify_all()

    def status(self) -> tuple[int, int]:
        """(jobs running, jobs waiting)."""
        with self._cond:
            return self.running, len(self._queue)


def cpu_counters(stat: str = "/proc/stat") -> tuple[float, float] | None:
    """(monotonic seconds, core-seconds the machine has run work at normal priority since it
    started) from the kernel's counters: user, system, interrupt and stolen time, not niced work
    (a training at nice 19 gives way at once) nor idle; None where they cannot be read."""
    try:
        with open(stat) as f:
            name, *fields = f.readline().split()
        user, _nice, system, _idle, _iowait, irq, softirq, steal = ([int(v) for v in fields] + [0] * 8)[:8]
    except (OSError, ValueError):
        return None
    if name != "cpu":
        return None
    return time.monotonic(), (user + system + irq + softirq + steal) / TICKS


def idle_cores(total: int, stat: str = "/proc/stat", looks: int = 10, gap_s: float = 0.002) -> int:
    """How many of `total` cores no other thread on the machine wants: `total` less the runnable
    threads the kernel counts besides the caller, at least 1; the most of `looks` counts `gap_s`
    apart (a thread that ran for a moment, a browser taking a message, does not make a core
    busy); 1 where the count cannot be read."""
    idle = 1
    for k in range(looks):
        try:
            with open(stat) as f:
                running = next(int(line.split()[1]) for line in f if line.startswith("procs_running"))
        except (OSError, StopIteration, ValueError, IndexError):
            return 1
        idle = max(idle, min(total, total + 1 - running))
        if idle == total:
            break
        if k < looks - 1:
            time.sleep(gap_s)
    return idle


def trace_threads() -> int | None:
    """LSTM_VIZ_TRACE_THREADS if set, else None (each batch takes every core, used as `idle_cores` allows)."""
    value = os.environ.get("LSTM_VIZ_TRACE_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


@dataclass(frozen=True)
class Service:
    """The process's trace service and heavy-job queue, sharing one budget of its cores."""

    traces: TraceService
    jobs: HeavyJobs
    budget: Budget


_started: Service | None = None
_start_lock = threading.Lock()


def start() -> Service:
    """The process-wide service, started by the first call (later calls return the same one).
    Starting it sets torch's default thread count to one for the threads started from then on:
    torch work runs on more only while it holds more of the budget."""
    global _started
    with _start_lock:
        if _started is None:
            torch.set_num_threads(1)  # torch keeps this as the default of threads started later
            budget = Budget()
            _started = Service(TraceService(budget, threads=trace_threads()), HeavyJobs(budget), budget)
        return _started
