"""How much memory a step used, for the `peak_memory_*` metadata of every asset and check.

Under the multiprocess executor (the UI, the daemon) each step runs in a process of its own,
so that process's high-water mark is the step's peak: `peak_memory_mb`. Under the in-process
executor (the CLI, backfill workers, tests) every step shares one process whose high-water
mark only grows, so it would charge a 21-row code list with the memory of the steps before
it; there the figure is how far resident memory rose during the step, from the step's start
(its STEP_START event) to its highest sample since: `peak_memory_increase_mb`. A daemon
thread samples resident memory every 100 ms for that.

Exports `step_memory_metadata`.
"""

import bisect
import os
import resource
import threading
import time
from collections import deque

import dagster as dg

_INTERVAL_S = 0.1
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# (wall time, resident bytes); an hour of samples at 100 ms (a few MB)
_samples: deque[tuple[float, int]] = deque(maxlen=36_000)
_lock = threading.Lock()
_sampler: threading.Thread | None = None


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:  # not Linux: fall back to the high-water mark
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _sample_forever() -> None:
    while True:
        _samples.append((time.time(), _resident_bytes()))
        time.sleep(_INTERVAL_S)


def _restart_in_child() -> None:
    """A forked process (the forkserver's steps) has no sampler thread, only the flag that
    one was started: start its own, with samples of its own."""
    global _sampler, _lock
    _lock, _sampler = threading.Lock(), None
    _samples.clear()
    start_sampling()


def start_sampling() -> None:
    """Start the sampler once per process (before any step starts: definitions import it)."""
    global _sampler
    with _lock:
        if _sampler is None:
            _sampler = threading.Thread(target=_sample_forever, name="step-memory", daemon=True)
            _sampler.start()


def increase_since(started: float, now_bytes: int | None = None) -> int:
    """Bytes resident memory rose above its level at `started` (wall time), highest sample
    since then or now, whichever is higher."""
    samples = list(_samples)
    first = bisect.bisect_left(samples, (started,))
    window = [rss for _, rss in samples[first:]]
    now_bytes = _resident_bytes() if now_bytes is None else now_bytes
    baseline = samples[first - 1][1] if first > 0 else (window[0] if window else now_bytes)
    return max(0, max([*window, now_bytes]) - baseline)


def _step_events(context) -> tuple[float | None, bool]:
    """When the step started, and whether the run began in another process (the multiprocess
    executor gives each step a process of its own)."""
    records = context.instance.all_logs(
        context.run_id, of_type={dg.DagsterEventType.RUN_START, dg.DagsterEventType.STEP_START}
    )
    started, own_process = None, False
    for entry in records:
        event = entry.dagster_event
        if event.event_type == dg.DagsterEventType.RUN_START:
            own_process = event.pid != os.getpid()
        elif event.step_key == context.get_step_execution_context().step.key:
            started = entry.timestamp
    return started, own_process


def _current_context():
    try:
        return dg.OpExecutionContext.get()
    except Exception:  # outside a step (a pure-function test): no step to measure
        return None


def step_memory_metadata() -> dict[str, int]:
    """`peak_memory_mb` (the step's own process) or `peak_memory_increase_mb` (in-process)."""
    peak_mb = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    context = _current_context()
    if context is None:
        return {"peak_memory_mb": peak_mb}
    started, own_process = _step_events(context)
    if own_process or started is None:
        return {"peak_memory_mb": peak_mb}
    return {"peak_memory_increase_mb": int(increase_since(started) / 2**20)}


start_sampling()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_restart_in_child)
