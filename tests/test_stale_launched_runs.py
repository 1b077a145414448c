"""Issue 12, automation that heals: a run launched by Dagster's `DefaultRunLauncher` (the
webserver, the schedule, the sensor) whose worker and code server were both killed stays
STARTED, and Dagster's run monitoring cannot see it (that launcher has no worker health
check). The delivery sensor, evaluated in the code server, marks it failed once its worker
has gone, and then requests the refresh it was holding back."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest

from dagster_project.orchestration.resources import SettingsResource
from dagster_project.orchestration.sensors import delivery_sensor
from dagster_project.orchestration.stale_runs import fail_stale_runs
from tests.delivery_factory import make_delivery

pytestmark = pytest.mark.slow

_SLOW_JOB = """
import time
import dagster as dg

@dg.op
def wait_long():
    time.sleep(600)

@dg.job(name="refresh_delivery")  # what the delivery sensor waits for
def refresh_delivery():
    wait_long()

defs = dg.Definitions(jobs=[refresh_delivery])
"""
# runs are launched at once (no daemon to dequeue them), by the default launcher
_INSTANCE = """run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
telemetry:
  enabled: false
"""


@pytest.fixture
def landing(data_dir):
    """A landing folder with one good delivery, which the sensor would refresh from."""
    make_delivery(data_dir / "landing")
    return data_dir / "landing"


def _launch_slow_run(base) -> None:
    """`dagster job launch` of a run that waits ten minutes, on the instance in base."""
    (base / "dagster_home" / "dagster.yaml").write_text(_INSTANCE)
    (base / "slow.py").write_text(_SLOW_JOB)
    env = {**os.environ, "DAGSTER_HOME": str(base / "dagster_home")}
    # output to a file, not a pipe: the worker inherits it and outlives the command
    with open(base / "launch.log", "w") as log:
        launched = subprocess.run(
            [sys.executable, "-m", "dagster", "job", "launch", "-f", "slow.py", "-j",
             "refresh_delivery"], cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT,
            timeout=180)
    assert launched.returncode == 0, (base / "launch.log").read_text()


def _worker_pid(instance: dg.DagsterInstance, run_id: str, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records:
            pid = record.event_log_entry.dagster_event.engine_event_data.metadata.get("pid")
            if pid is not None:
                return int(pid.value)
        time.sleep(0.5)
    raise AssertionError("the launched run's worker never started")


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def _kill_tree(root: int) -> None:
    """SIGKILL `root` and every process below it at once, as when the machine dies: the
    worker's step process and its log tailers (`tail -F`) must not outlive the test."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = _parent(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue  # ended while we looked
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree, grew = tree | below, bool(below)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_launched_run_whose_worker_and_code_server_died_no_longer_holds_the_sensor(
        data_dir, landing):
    _launch_slow_run(data_dir)
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        run = instance.get_runs(limit=1)[0]
        worker = _worker_pid(instance, run.run_id)
        # the worker and the code server that launched it die together, as when the
        # machine or `dagster dev` is killed: nobody is left to report the run's end
        _kill_tree(_parent(worker))
        time.sleep(1)
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        # the command line, which may run on another host, leaves launched runs alone
        assert fail_stale_runs(instance) == []

        settings = {"settings": SettingsResource(landing_dir=str(landing))}
        requested = delivery_sensor(dg.build_sensor_context(instance=instance,
                                                            resources=settings))
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert isinstance(requested, dg.RunRequest), requested
        assert requested.job_name == "refresh_delivery"


def test_a_launched_run_whose_worker_lives_still_holds_the_sensor(data_dir, landing):
    _launch_slow_run(data_dir)
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        run = instance.get_runs(limit=1)[0]
        worker = _worker_pid(instance, run.run_id)
        try:
            settings = {"settings": SettingsResource(landing_dir=str(landing))}
            skip = delivery_sensor(dg.build_sensor_context(instance=instance,
                                                           resources=settings))
            assert "waiting for 1 refresh" in skip.skip_message
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        finally:
            _kill_tree(_parent(worker))
