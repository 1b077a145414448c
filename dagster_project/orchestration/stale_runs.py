"""Runs whose process has gone: marked failed, so that nothing waits on them forever.

A run executed in the `reconviction` command's own process (`execute_in_process`) that is
killed (SIGKILL, a closed laptop, an out-of-memory kill) never reports its end: the instance
keeps it STARTED, and the delivery sensor, which waits for runs under way, would wait for ever.
Such runs carry the process's id, host and start time as tags; a run on this host whose
process is no longer that process is marked failed, by the next command or sensor tick.

Runs launched by the webserver, the schedule or the sensor (Dagster's `DefaultRunLauncher`)
have a worker process too, and Dagster's run monitoring does not watch it: that launcher
cannot tell a dead worker from a live one (`supports_check_run_worker_health` is false), so a
killed worker's run would stay STARTED for ever. Such a worker is started by the code server,
on the code server's host, and its first event names its pid ("Started process for run");
the delivery sensor, which is evaluated in that code server, judges those runs as well
(`launched=True`). The command line does not: it may run on another host than the code
server. `run_monitoring.max_runtime_seconds` in deploy/*/dagster.yaml is the backstop.

DuckDB's spill folders are named by the pid of the process that spills into it
(`SPILL_PREFIX`): a killed process cannot remove its own (gigabytes, nationally), so
`remove_orphaned_spill_folders` removes those whose process has gone, at the same moments.

Exports `process_tags`, `fail_stale_runs`, `remove_orphaned_spill_folders`, `PID_TAG`,
`HOST_TAG`, `STARTED_TAG`.
"""

import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

import dagster as dg

from dagster_project.warehouse.connection import SPILL_PREFIX

PID_TAG, HOST_TAG, STARTED_TAG = "reconviction/pid", "reconviction/host", "reconviction/pid_started"
_WORKER_STARTED = "Started process for run"
_UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first); None where the
    process or /proc is not there."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _process_started(pid: int) -> str | None:
    """When the process started (clock ticks since boot, from /proc), so that a pid reused by
    another process is not taken for the run's; None where /proc is not there."""
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def process_tags() -> dict[str, str]:
    """Tags naming this process, for a run executed in it."""
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(),
            STARTED_TAG: _process_started(pid) or ""}


def _dead(pid: int) -> bool:
    """No such process, or one that has exited and waits to be reaped (a zombie: a killed
    worker whose parent, the code server, was killed too, until the system reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    fields = _stat_fields(pid)
    return fields is not None and fields[0] in ("Z", "X")


def _gone(tags) -> bool:
    try:
        pid = int(tags[PID_TAG])
    except (KeyError, ValueError):
        return False
    if tags.get(HOST_TAG) != socket.gethostname():
        return False  # another machine's process: not ours to judge
    if _dead(pid):
        return True
    started = tags.get(STARTED_TAG)
    return bool(started) and _process_started(pid) not in (None, started)


def _launched_worker(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid of a launched run's worker and when it said it started, from its first
    "Started process for run" event; None before the worker has started."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20).records
    for record in records:
        entry = record.event_log_entry
        if entry.dagster_event and entry.dagster_event.message.startswith(_WORKER_STARTED):
            pid = entry.dagster_event.engine_event_data.metadata.get("pid")
            if pid is not None:
                return int(pid.value), entry.timestamp
    return None


def _worker_gone(worker: tuple[int, float] | None) -> bool:
    if worker is None:
        return False  # not started yet: run monitoring's start timeout covers that
    pid, said_at = worker
    if _dead(pid):
        return True
    started_at = _process_start_time(pid)
    # a process younger than the worker's own first event is another one with its pid
    return started_at is not None and started_at > said_at + 2


def _process_start_time(pid: int) -> float | None:
    """When a process started, in seconds since the epoch (Linux /proc); None elsewhere."""
    started, boot = _process_started(pid), _boot_time()
    if started is None or boot is None:
        return None
    return boot + int(started) / os.sysconf("SC_CLK_TCK")


def _boot_time() -> float | None:
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return None
    return next((float(line.split()[1]) for line in lines if line.startswith("btime ")), None)


def fail_stale_runs(instance: dg.DagsterInstance, launched: bool = False) -> list[str]:
    """Mark failed every unfinished run of this host whose process has gone; their ids. With
    `launched`, in the code server that launches runs (the sensor), also the runs of
    `DefaultRunLauncher` whose worker process has gone."""
    judge_launched = launched and isinstance(instance.run_launcher, dg.DefaultRunLauncher)
    failed = []
    for run in instance.get_runs(dg.RunsFilter(statuses=_UNFINISHED)):
        if PID_TAG in run.tags:
            gone, pid = _gone(run.tags), run.tags[PID_TAG]
        elif judge_launched and run.status == dg.DagsterRunStatus.STARTED:
            worker = _launched_worker(instance, run.run_id)
            gone, pid = _worker_gone(worker), worker[0] if worker else None
        else:
            continue
        if gone:
            instance.report_run_failed(
                run, message=f"the process that ran it (pid {pid}) has gone: "
                "marked failed, so that nothing waits for it"
            )
            failed.append(run.run_id)
    return failed


def remove_orphaned_spill_folders(folder: str | Path | None = None) -> list[Path]:
    """Remove the DuckDB spill folders in `folder` (the system's temporary folder) whose
    process has gone; the folders removed. A folder whose pid is alive is left alone, even
    if the pid was reused: a stale folder kept is better than a live one removed."""
    removed = []
    pattern = re.compile(re.escape(SPILL_PREFIX) + r"(\d+)(-.*)?")
    for path in Path(folder or tempfile.gettempdir()).glob(f"{SPILL_PREFIX}*"):
        named = pattern.fullmatch(path.name)
        if named and path.is_dir() and _dead(int(named.group(1))):
            shutil.rmtree(path, ignore_errors=True)  # another user's folder stays
            if not path.exists():
                removed.append(path)
    return removed
