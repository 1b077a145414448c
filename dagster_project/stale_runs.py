"""Runs whose process has gone: marked failed, so that nothing waits on them forever.

A run executed in the `reconviction` command's own process (`execute_in_process`) that is
killed (SIGKILL, a closed laptop, an out-of-memory kill) never reports its end: the instance
keeps it STARTED, and the delivery sensor, which waits for runs under way, would wait for ever.
Such runs carry the process's id, host and start time as tags; a run on this host whose
process is no longer that process is marked failed, by the next command or sensor tick. Runs
launched by the daemon are watched by Dagster's run monitoring (`run_monitoring` in
deploy/*/dagster.yaml), which knows their workers.

Exports `process_tags`, `fail_stale_runs`, `PID_TAG`, `HOST_TAG`, `STARTED_TAG`.
"""

import os
import socket
from pathlib import Path

import dagster as dg

PID_TAG, HOST_TAG, STARTED_TAG = "reconviction/pid", "reconviction/host", "reconviction/pid_started"
_UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def _process_started(pid: int) -> str | None:
    """When the process started (clock ticks since boot, from /proc), so that a pid reused by
    another process is not taken for the run's; None where /proc is not there."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def process_tags() -> dict[str, str]:
    """Tags naming this process, for a run executed in it."""
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(),
            STARTED_TAG: _process_started(pid) or ""}


def _gone(tags) -> bool:
    try:
        pid = int(tags[PID_TAG])
    except (KeyError, ValueError):
        return False
    if tags.get(HOST_TAG) != socket.gethostname():
        return False  # another machine's process: not ours to judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    started = tags.get(STARTED_TAG)
    return bool(started) and _process_started(pid) not in (None, started)


def fail_stale_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every unfinished run of this host whose process has gone; their ids."""
    failed = []
    for run in instance.get_runs(dg.RunsFilter(statuses=_UNFINISHED)):
        if _gone(run.tags):
            instance.report_run_failed(
                run, message=f"the process that ran it (pid {run.tags[PID_TAG]}) has gone: "
                "marked failed, so that nothing waits for it"
            )
            failed.append(run.run_id)
    return failed
