"""The trace service batches requests from many threads, computes each (model, text) once, keeps
torch within the machine's cores (a batch on the cores idle when it starts, a job on one), and
queues heavy jobs in order, saying how many are ahead."""

import threading
import time

import numpy as np
import pytest
import torch

from lstm_viz.serve import service as service_module
from lstm_viz.serve.service import Budget, Busy, HeavyJobs, TraceService, cpu_quota

TEXTS = [f'text {i}: the cat said "hello (there)"\n' * (i + 1) for i in range(8)]
WAIT = 120  # seconds a test waits for a thread at most: the machine may be very busy
cpu_counters = service_module.cpu_counters  # the real one: tests replace the service's


@pytest.fixture(autouse=True)
def unknown_recent_work(monkeypatch):
    """What the machine did lately is unknown (its CPU counters unread) unless a test says."""
    monkeypatch.setattr(service_module, "cpu_counters", lambda stat="/proc/stat": None)


class Counters:
    """The kernel's CPU counters of a machine whose other work keeps `cores` busy from now on."""

    def __init__(self, cores: float):
        self.cores, self.at, self.busy = cores, time.monotonic(), 0.0

    def __call__(self, stat="/proc/stat"):
        now = time.monotonic()
        self.busy += self.cores * (now - self.at)
        self.at = now
        return now, self.busy


def in_threads(fn, args_list):
    """fn(*args) in one thread each, started together; their results in order (re-raising errors)."""
    results, errors = [None] * len(args_list), []
    start = threading.Barrier(len(args_list))

    def one(i, args):
        start.wait()
        try:
            results[i] = fn(*args)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i, args)) for i, args in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive(), "a thread never finished"
    if errors:
        raise errors[0]
    return results


def test_requests_arriving_together_are_traced_as_one_batch_each_getting_its_own_trace(tiny_model):
    service = TraceService(Budget(2), window_ms=WAIT * 1000, max_batch=len(TEXTS))  # the batch closes when all are in
    traces = in_threads(service.trace, [(tiny_model, t) for t in TEXTS])
    assert (service.stats.batches, service.stats.largest, service.stats.traced) == (1, len(TEXTS), len(TEXTS))
    for tr, text in zip(traces, TEXTS):
        single = tiny_model.trace(text)
        assert tr.text == single.text
        np.testing.assert_allclose(tr.cell, single.cell, atol=1e-5)
        np.testing.assert_allclose(tr.log_probs, single.log_probs, atol=1e-5)


def test_the_same_model_and_text_asked_for_at_once_is_traced_once(tiny_model):
    service = TraceService(Budget(2), window_ms=WAIT * 1000, max_batch=3)
    asks = [TEXTS[0]] * 6 + [TEXTS[1], TEXTS[2]]
    traces = in_threads(service.trace, [(tiny_model, t) for t in asks])
    assert service.stats.traced == 3 and service.stats.shared == 5 and service.stats.requests == 8
    assert all(tr is traces[0] for tr in traces[:6])
    assert [tr.text for tr in traces] == asks


def test_a_later_request_is_served_alone_after_the_window(tiny_model):
    service = TraceService(Budget(2), window_ms=1)
    first = service.trace(tiny_model, TEXTS[0])
    again = service.trace(tiny_model, TEXTS[0])
    assert service.stats.batches == 2 and first is not again  # finished traces are the caller's to cache
    np.testing.assert_array_equal(first.cell, again.cell)


@pytest.mark.slow
def test_while_no_core_is_free_a_batch_waits_for_company_as_long_as_it_keeps_coming(tiny_model, monkeypatch):
    def batches(service, pauses):  # requests with these pauses between them; the batches they made
        threads = []
        for pause in [0, *pauses]:
            time.sleep(pause)
            threads.append(threading.Thread(target=service.trace, args=(tiny_model, TEXTS[len(threads)])))
            threads[-1].start()
        for t in threads:
            t.join(WAIT)
        return service.stats.batches

    def service():
        return TraceService(Budget(2), window_ms=1, busy_gap_ms=150, busy_window_ms=2000, small_work=0)  # never small

    monkeypatch.setattr(service_module, "idle_cores", lambda total, looks=10: 1)  # the other core is busy
    assert batches(service(), [0.05, 0.05, 0.05]) == 1  # they kept coming: one batch
    assert batches(service(), [0.05, 0.6]) == 2  # the third came after the gap
    monkeypatch.setattr(service_module, "idle_cores", lambda total, looks=10: total)  # an idle machine
    assert batches(service(), [0.05]) == 2


def test_each_batch_holds_one_model(tiny_model):
    other = type(tiny_model)(tiny_model.config, tiny_model.vocab).eval()
    service = TraceService(Budget(2), window_ms=WAIT * 1000, max_batch=2)  # a batch closes when its model has two
    traces = in_threads(
        service.trace, [(tiny_model, TEXTS[0]), (other, TEXTS[0]), (tiny_model, TEXTS[1]), (other, TEXTS[1])]
    )
    assert service.stats.batches == 2 and service.stats.traced == 4
    np.testing.assert_allclose(traces[1].cell, other.trace(TEXTS[0]).cell, atol=1e-5)
    np.testing.assert_allclose(traces[0].cell, tiny_model.trace(TEXTS[0]).cell, atol=1e-5)


def test_a_request_made_ahead_waits_while_a_page_waits_for_another(tiny_model, monkeypatch):
    other = type(tiny_model)(tiny_model.config, tiny_model.vocab).eval()
    order = []

    def recording(model, texts, workers=1):
        order.append(model)
        return [model.trace(t) for t in texts]

    monkeypatch.setattr(service_module, "trace_batch", recording)
    service = TraceService(Budget(2), window_ms=2000, max_batch=1)  # one text a batch: the order shows
    soon = service.submit(other, TEXTS[0], ahead=True)
    now = service.trace(tiny_model, TEXTS[1])
    assert soon.result(timeout=WAIT).text == TEXTS[0]
    assert order == [tiny_model, other]
    np.testing.assert_allclose(now.cell, tiny_model.trace(TEXTS[1]).cell, atol=1e-5)


def test_a_request_made_ahead_runs_when_nothing_else_waits_and_once_asked_for_without_waiting(tiny_model):
    alone = TraceService(Budget(2), window_ms=1)
    np.testing.assert_allclose(
        alone.submit(tiny_model, TEXTS[0], ahead=True).result(timeout=WAIT).cell,
        tiny_model.trace(TEXTS[0]).cell,
        atol=1e-5,
    )
    held = TraceService(Budget(2), window_ms=WAIT * 2000, max_batch=1)  # made ahead, it would wait past WAIT
    soon = held.submit(tiny_model, TEXTS[0], ahead=True)
    time.sleep(0.2)
    assert not soon.done()
    assert held.trace(tiny_model, TEXTS[0]) is soon.result(timeout=WAIT)  # asked for again: hurried, shared
    later = held.submit(tiny_model, TEXTS[1], ahead=True)
    held.hurry(later)
    assert later.result(timeout=WAIT).text == TEXTS[1]


class Broken:
    """A model whose trace fails."""

    vocab = property(lambda self: (_ for _ in ()).throw(RuntimeError("broken model")))


def test_an_error_reaches_the_callers_of_its_batch_and_the_service_goes_on(tiny_model):
    service = TraceService(Budget(2), window_ms=1)
    with pytest.raises(RuntimeError, match="broken model"):
        service.trace(Broken(), "abc")
    np.testing.assert_allclose(service.trace(tiny_model, TEXTS[0]).cell, tiny_model.trace(TEXTS[0]).cell, atol=1e-5)


def test_the_budget_never_hands_out_more_threads_than_cores():
    budget = Budget(2)
    lock, out, peak, seen = threading.Lock(), [0], [0], []

    def work(want):
        with budget.hold(want) as n:
            with lock:
                out[0] += n
                peak[0] = max(peak[0], out[0])
                seen.append((n, torch.get_num_threads()))
            torch.ones(200_000).cumsum(0)
            with lock:
                out[0] -= n

    before = torch.get_num_threads()
    in_threads(work, [(2,), (1,), (2,), (1,), (2,), (1,)])
    assert peak[0] <= 2 and budget.free == 2
    assert all(1 <= n <= 2 and threads == n for n, threads in seen)
    assert torch.get_num_threads() == before


def test_a_trace_asked_for_inside_a_heavy_job_runs_there_even_when_it_holds_every_core(tiny_model):
    budget = Budget(1)
    service, jobs = TraceService(budget, window_ms=1), HeavyJobs(budget, slots=1)
    [tr] = in_threads(lambda: jobs.run(service.trace, tiny_model, TEXTS[0]), [()])
    np.testing.assert_allclose(tr.cell, tiny_model.trace(TEXTS[0]).cell, atol=1e-5)


def test_heavy_jobs_wait_in_order_and_are_told_how_many_are_ahead():
    jobs = HeavyJobs(Budget(2), slots=1, max_waiting=2)
    release, started, order, told = threading.Event(), threading.Event(), [], {"b": [], "c": []}
    release_b = threading.Event()

    def first():
        started.set()
        release.wait(WAIT)
        order.append("a")

    a = threading.Thread(target=jobs.run, args=(first,))
    a.start()
    started.wait(WAIT)
    queued = threading.Barrier(3)

    def queue(name):
        def on_wait(ahead):
            told[name].append(ahead)
            if len(told[name]) == 1:
                queued.wait(WAIT)

        jobs.run(lambda: (order.append(name), name == "b" and release_b.wait(WAIT)), waiting=on_wait)

    b = threading.Thread(target=queue, args=("b",))
    b.start()
    while jobs.status() != (1, 1):
        threading.Event().wait(0.01)
    c = threading.Thread(target=queue, args=("c",))
    c.start()
    queued.wait(WAIT)  # both have said where they stand
    assert jobs.status() == (1, 2)
    with pytest.raises(Busy, match="busy"):
        jobs.run(order.append, "d")
    release.set()
    while told["c"][-1] != 1 or order != ["a", "b"]:  # a is done and b runs: c is next
        threading.Event().wait(0.01)
    assert jobs.status() == (1, 1)
    release_b.set()
    for t in (a, b, c):
        t.join(WAIT)
    assert order == ["a", "b", "c"]
    assert changes(told["b"]) == [1] and changes(told["c"]) == [2, 1]
    assert jobs.status() == (0, 0)


def changes(told: list[int]) -> list[int]:
    """What a waiting job was told, repeats (retold every retell_s) left out."""
    return [n for i, n in enumerate(told) if i == 0 or told[i - 1] != n]


def test_a_waiting_job_is_retold_where_it_stands_so_a_page_that_went_away_leaves_the_queue():
    jobs = HeavyJobs(Budget(2), slots=1, retell_s=0.05)
    release, started = threading.Event(), threading.Event()
    a = threading.Thread(target=jobs.run, args=(lambda: (started.set(), release.wait(WAIT)),))
    a.start()
    started.wait(WAIT)
    told = []

    def gone_after_three(ahead):
        told.append(ahead)
        if len(told) == 3:
            raise KeyboardInterrupt  # the page went away while nothing moved in the queue

    with pytest.raises(KeyboardInterrupt):
        jobs.run(lambda: 1, waiting=gone_after_three)
    assert told == [1, 1, 1] and jobs.status() == (1, 0)
    release.set()
    a.join(WAIT)


def test_a_job_that_starts_at_once_is_not_told_to_wait_and_one_that_gives_up_leaves_the_queue():
    jobs = HeavyJobs(Budget(2), slots=1)
    told = []
    assert jobs.run(lambda: 7, waiting=told.append) == 7 and told == []
    release, started = threading.Event(), threading.Event()
    a = threading.Thread(target=jobs.run, args=(lambda: (started.set(), release.wait(WAIT)),))
    a.start()
    started.wait(WAIT)

    def give_up(ahead):
        raise KeyboardInterrupt  # what a page that went away does to its script thread

    with pytest.raises(KeyboardInterrupt):
        jobs.run(lambda: 1, waiting=give_up)
    assert jobs.status() == (1, 0)
    release.set()
    a.join(WAIT)
    assert jobs.status() == (0, 0)


def threads_per_batch(monkeypatch) -> list[tuple[int, int]]:
    """(torch threads, workers) of each batch the service traces, as they are appended."""
    threads = []
    batch = service_module.trace_batch
    monkeypatch.setattr(
        service_module,
        "trace_batch",
        lambda model, texts, workers=1: (
            threads.append((torch.get_num_threads(), workers)) or batch(model, texts, workers)
        ),
    )
    return threads


def test_a_batch_runs_on_openmp_threads_only_when_no_core_is_busy_and_else_on_workers(tiny_model, monkeypatch):
    threads = threads_per_batch(monkeypatch)
    idle = iter([2, 1, 2])  # what the machine leaves idle as each batch starts
    # as each batch starts (a batch's wait for company takes one look; here it finds the machine idle)
    monkeypatch.setattr(service_module, "idle_cores", lambda total, looks=10: next(idle) if looks > 1 else total)
    service = TraceService(Budget(2), window_ms=1, small_work=0)  # the tiny model's batches as large ones
    for text in TEXTS[:3]:
        service.trace(tiny_model, text)
    assert threads == [(2, 1), (2, 2), (2, 1)] and service.budget.free == 2
    assert service.stats.wide == 3 and service.stats.split == 1


def test_a_batch_runs_on_openmp_threads_after_a_quiet_spell_though_a_core_is_busy_as_it_starts(tiny_model, monkeypatch):
    threads = threads_per_batch(monkeypatch)
    monkeypatch.setattr(service_module, "idle_cores", lambda total, looks=10: 1)  # a browser drawing the page
    counters = Counters(cores=1.5)
    monkeypatch.setattr(service_module, "cpu_counters", counters)
    service = TraceService(Budget(2), window_ms=1, busy_gap_ms=1, small_work=0)  # the tiny model as a large one
    service.trace(tiny_model, TEXTS[0])  # the first batch: nothing known of the machine's past
    counters.cores = 0.1  # then a quiet spell: the other core was free for a while
    time.sleep(4 * service_module.LOOK_S)
    service.trace(tiny_model, TEXTS[1])
    counters.cores = 1.5  # another program holds a core all the while
    time.sleep(4 * service_module.LOOK_S)
    service.trace(tiny_model, TEXTS[2])
    assert threads == [(2, 2), (2, 1), (2, 2)]


def test_the_machines_recent_work_is_read_from_the_kernels_counters_leaving_niced_work_out(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 5000 30 400 10 5 5 2 0 0\ncpu0 50 2500 15 200 5 2 2 1 0 0\n")
    _, busy = cpu_counters(str(stat))
    assert busy == (100 + 30 + 5 + 5 + 2) / service_module.TICKS  # user, system, irq, softirq, steal; not nice
    stat.write_text("intr 1 2 3\n")
    assert cpu_counters(str(stat)) is None
    assert cpu_counters(str(tmp_path / "missing")) is None


def test_a_batch_asking_for_every_core_gets_those_a_heavy_job_leaves(tiny_model, monkeypatch):
    threads = threads_per_batch(monkeypatch)
    monkeypatch.setattr(service_module, "idle_cores", lambda total, looks=10: total)  # nothing else on the machine
    budget, started, release = Budget(2), threading.Event(), threading.Event()

    def job():  # a heavy job on another page: one core until released
        with budget.hold(1):
            started.set()
            release.wait(WAIT)

    service = TraceService(budget, window_ms=1, threads=2, small_work=0)  # the tiny model's batches as large ones
    service.trace(tiny_model, TEXTS[0])
    worker = threading.Thread(target=job)
    worker.start()
    started.wait(WAIT)
    service.trace(tiny_model, TEXTS[1])
    release.set()
    worker.join(WAIT)
    assert threads == [(2, 1), (1, 1)] and budget.free == 2


@pytest.mark.slow
def test_a_small_batch_neither_waits_for_company_nor_takes_a_second_core(tiny_model, monkeypatch):
    threads = threads_per_batch(monkeypatch)
    monkeypatch.setattr(service_module, "idle_cores", lambda total, looks=10: 1)  # the other core is busy
    work = TraceService.work(tiny_model, len(TEXTS[0]))
    assert 0 < work < service_module.SMALL_WORK

    def batches(small_work: float) -> int:  # two requests 50 ms apart on a busy machine
        service = TraceService(Budget(2), window_ms=1, busy_gap_ms=500, busy_window_ms=2000, small_work=small_work)
        first = threading.Thread(target=service.trace, args=(tiny_model, TEXTS[0]))
        first.start()
        time.sleep(0.05)
        service.trace(tiny_model, TEXTS[1])
        first.join(WAIT)
        return service.stats.batches

    assert batches(small_work=0) == 1 and threads == [(2, 2)]  # a large batch waited for the second text
    threads.clear()
    assert batches(small_work=service_module.SMALL_WORK) == 2 and threads == [(1, 1), (1, 1)]  # each at once, one core


def test_idle_cores_are_the_cores_less_the_other_runnable_threads(tmp_path):
    stat = tmp_path / "stat"
    for running, idle in [(1, 2), (2, 1), (3, 1), (40, 1)]:
        stat.write_text(f"cpu  1 2 3 4\nprocs_running {running}\nprocs_blocked 0\n")
        assert service_module.idle_cores(2, str(stat)) == idle
    assert service_module.idle_cores(4, str(stat.with_name("missing"))) == 1


def test_a_thread_that_runs_for_a_moment_does_not_make_a_core_busy(tmp_path, monkeypatch):
    stat = tmp_path / "stat"

    def looks(counts):  # the runnable threads at each look, the file rewritten between looks
        counts = iter(counts)
        stat.write_text(f"procs_running {next(counts)}\n")
        monkeypatch.setattr(service_module.time, "sleep", lambda s: stat.write_text(f"procs_running {next(counts)}\n"))

    looks([3, 3, 1])  # at the third look the caller alone wants a core
    assert service_module.idle_cores(2, str(stat), looks=3) == 2
    looks([3, 3, 3, 3, 3])
    assert service_module.idle_cores(2, str(stat), looks=5) == 1


def test_the_started_service_traces_on_as_many_threads_as_the_environment_says(monkeypatch):
    monkeypatch.setattr(service_module, "_started", None)
    monkeypatch.setenv("LSTM_VIZ_TRACE_THREADS", "2")
    assert service_module.start().traces.threads == 2
    monkeypatch.setattr(service_module, "_started", None)
    monkeypatch.delenv("LSTM_VIZ_TRACE_THREADS")
    assert service_module.start().traces.threads is None  # every core, used as the machine allows batch by batch


def test_the_service_starts_once_its_traces_and_jobs_on_one_budget(monkeypatch):
    monkeypatch.setattr(service_module, "_started", None)
    started = service_module.start()
    assert service_module.start() is started
    assert started.traces.budget is started.jobs.budget is started.budget


def test_threads_started_after_the_service_starts_run_torch_on_one_thread(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(service_module, "_started", None)  # as in a fresh server process, whatever ran before
    torch.set_num_threads(2)
    try:
        service_module.start()
        assert in_threads(torch.get_num_threads, [()]) == [1]
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "200000 100000\n"}, 2),  # cgroup v2, docker run --cpus 2
        ({"cpu.max": "150000 100000\n"}, 2),  # 1.5 CPUs: two threads, rounded up
        ({"cpu.max": "max 100000\n"}, None),  # v2 without a quota
        ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # cgroup v1
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),  # v1 without a quota
        ({}, None),  # no cgroup files at all
    ],
)
def test_a_containers_cpu_quota_caps_the_cores(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cpu_quota(tmp_path) == expected
