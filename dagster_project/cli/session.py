"""One `reconviction` command's Dagster session: the instance home, the log file that takes
Dagster's event stream (and library warnings), and running a job quietly.

Exports `Session`, `JobFailed`, `dagster_home`, `initialised_instance`.
"""

import logging
import os
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dagster_project.cli.refusals import expected_refusal
from dagster_project.settings import project_data_dir

_LOG_HANDLER = "reconviction-log-file"
# telemetry off; run monitoring on, so that the daemon of `dagster dev` fails runs whose worker
# died instead of leaving them STARTED (the CLI checks its own in-process runs itself)
_DEFAULT_CONFIG = """telemetry:
  enabled: false
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  poll_interval_seconds: 60
  max_runtime_seconds: 21600
"""


class JobFailed(Exception):
    """A run failed for a reason that is not the data's: the trace is in the log."""


def dagster_home() -> Path:
    """Record runs where `dg dev` will find them, unless the user chose a home. A home without
    dagster.yaml gets one with Dagster's defaults and telemetry off: no usage data leaves
    the machine, and no telemetry notice lands in the terminal."""
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(project_data_dir() / "dagster_home")
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # written whole, then renamed: a concurrent first command never reads half a file
        partial = home / f".dagster.yaml.{os.getpid()}"
        partial.write_text(_DEFAULT_CONFIG)
        os.replace(partial, config)
    return home


def initialised_instance():
    """The instance of DAGSTER_HOME, its storage created by one process at a time: two first
    commands creating SQLite run storage at once left it with two schema heads, after which
    every command failed. An exclusive lock on a file in the home serialises the creation;
    later commands take the lock only briefly."""
    import fcntl

    import dagster as dg

    home = dagster_home()
    with open(home / ".instance.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            instance = dg.DagsterInstance.get()
            # touch each storage so that it exists (and is migrated) before the lock is let go
            instance.get_runs_count()
            instance.event_log_storage.get_asset_records([])
            instance.schedule_storage and instance.schedule_storage.all_instigator_state()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return instance


def _open_log(command: str) -> Path:
    """`$DAGSTER_HOME/cli_logs/<command>-<time>.log`, which also takes Python warnings and library
    logs (Splink, DuckDB) that would otherwise reach the terminal."""
    # not `logs/`: Dagster keeps (and empties) that folder for its telemetry queue
    folder = dagster_home() / "cli_logs"
    folder.mkdir(exist_ok=True)
    path = folder / f"{command}-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.set_name(_LOG_HANDLER)
    root = logging.getLogger()
    for earlier in [h for h in root.handlers if h.get_name() == _LOG_HANDLER]:
        root.removeHandler(earlier)  # an earlier command in this process (tests)
        earlier.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    return path


@dataclass
class Session:
    """The instance and log file of one command; `run` executes a job and says how it went."""

    command: str

    def __post_init__(self) -> None:
        self.log = _open_log(self.command)
        print(f"log: {self.log}")
        from dagster_project.orchestration.stale_runs import (
            fail_stale_runs,
            remove_orphaned_spill_folders,
        )

        self.instance = initialised_instance()
        for run_id in fail_stale_runs(self.instance):
            print(f"run {run_id}: its process has gone; marked failed")
        for folder in remove_orphaned_spill_folders():
            print(f"removed {folder}: a spill folder whose process has gone")

    def run(self, job_name: str, why: str | None = None, **kwargs) -> str:
        """Run the job in this process, a line per stage on stdout; its run id, or a Refusal
        (the data's fault) or JobFailed (anything else) when it failed."""
        from dagster_project.cli.runs import execute_job, failure_causes, failure_messages
        from dagster_project.orchestration.progress import cli_run_config, finish_progress

        label = f"{job_name} {kwargs.get('partition_key', '')}".strip()
        print(f"{label}: {why}" if why else f"{label}:")
        started = time.perf_counter()
        result = execute_job(
            job_name, self.instance, run_config=cli_run_config(str(self.log)), **kwargs
        )
        elapsed = time.perf_counter() - started
        finish_progress(result.run_id)
        if result.success:
            print(f"{label}: done in {elapsed:.1f} s (run {result.run_id})")
            return result.run_id
        refusal = expected_refusal(failure_causes(result))
        if refusal is not None:
            raise refusal
        raise JobFailed(f"{label} failed in {elapsed:.1f} s (run {result.run_id}): "
                        f"{'; '.join(failure_messages(result))}; the trace is in {self.log}")

    def log_exception(self, exc: BaseException) -> None:
        logging.getLogger("reconviction").error("unexpected error", exc_info=exc)
