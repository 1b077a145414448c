"""Issue 12: deliveries are picked out loud. A delivery dated after today, a manifest with an
impossible count, a folder not named by a date, a date delivered again with other bytes and a
symbolic link out of the landing folder each get one clear line from `reconviction run` (which
exits 2 when the delivery it would have used is refused) and in the delivery sensor's skip
reason; a run whose process has gone no longer holds the sensor; ten first commands at once on
a fresh DAGSTER_HOME all succeed."""

import json
import os
import subprocess
import sys
from datetime import date, timedelta

import dagster as dg
import pytest

from dagster_project.cli.main import main
from dagster_project.orchestration.refresh import delivery_version
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.orchestration.sensors import delivery_sensor
from dagster_project.orchestration.stale_runs import HOST_TAG, PID_TAG, process_tags
from tests.delivery_factory import EXTRACT_DATE, make_delivery

NEWER = "2010-10-31"


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def landing(data_dir):
    """A landing folder with one good (handwritten) delivery, dated 2009-10-31."""
    landing = data_dir / "landing"
    make_delivery(landing)
    return landing


def _newer(landing, extract_date: str = NEWER, **manifest_changes):
    folder = make_delivery(landing, extract_date)
    if manifest_changes:
        manifest = json.loads((folder / "manifest.json").read_text())
        for file_name, rows in manifest_changes.items():
            manifest["files"][file_name.replace("__", ".")]["rows"] = rows
        (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _sensor_skip(cursor=None) -> str:
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"settings": SettingsResource()}
        )
        result = delivery_sensor(context)
    assert isinstance(result, dg.SkipReason), result
    return result.skip_message


@pytest.mark.parametrize("rows", [-1, 1e30, 797.0, 10**15])
def test_an_impossible_manifest_count_refuses_the_run(landing, capsys, rows):
    _newer(landing, ndtms_episodes__csv=rows)
    assert main(["run", "--cohort-year", "2006-07"]) == 2
    refusal = _one_line(capsys.readouterr().err)
    assert f"{NEWER}: manifest.json: ndtms_episodes.csv: rows {rows!r}" in refusal
    assert "not a possible count" in refusal and f"not falling back to {EXTRACT_DATE}" in refusal
    assert "not a possible count" in _sensor_skip(cursor=EXTRACT_DATE)


def test_a_delivery_dated_after_today_is_refused(landing, capsys):
    future = (date.today() + timedelta(days=400)).replace(month=10, day=31).isoformat()
    _newer(landing, extract_date=future)
    assert main(["run", "--cohort-year", "2006-07"]) == 2
    refusal = _one_line(capsys.readouterr().err)
    assert f"extract_date {future} is in the future" in refusal
    assert "is in the future" in _sensor_skip(cursor=EXTRACT_DATE)


def test_a_folder_not_named_by_a_date_is_said_out_loud(landing, capsys):
    os.rename(_newer(landing), landing / f"{NEWER}_v2")
    assert main(["run", "--cohort-year", "2030-31"]) == 2  # refused later, for maturity
    out = capsys.readouterr().out
    assert f"landing: {NEWER}_v2: ignored, not named by an extract date (YYYY-MM-DD)" in out
    assert f"{NEWER}_v2: ignored" in _sensor_skip(cursor=EXTRACT_DATE)


def test_a_symbolic_link_out_of_the_landing_folder_is_refused(landing, tmp_path, capsys):
    outside = make_delivery(tmp_path / "elsewhere", NEWER)
    (landing / NEWER).symlink_to(outside, target_is_directory=True)
    assert main(["run", "--cohort-year", "2006-07"]) == 2
    assert "a symbolic link leading out of the landing folder" in _one_line(
        capsys.readouterr().err)
    assert "symbolic link" in _sensor_skip(cursor=EXTRACT_DATE)
    capsys.readouterr()  # the sensor's own log lines
    # a file linked from elsewhere into a delivery folder is refused too
    (landing / NEWER).unlink()
    folder = _newer(landing)
    (folder / "pnc_aliases.csv").unlink()
    (folder / "pnc_aliases.csv").symlink_to(outside / "pnc_aliases.csv")
    assert main(["run", "--cohort-year", "2006-07"]) == 2
    refusal = _one_line(capsys.readouterr().err)
    assert "pnc_aliases.csv: a symbolic link leading out of the landing folder" in refusal


def test_a_date_delivered_again_with_other_bytes_is_refused(landing, data_dir, capsys,
                                                            monkeypatch):
    # the instance records that 2009-10-31 was loaded with other files
    home = data_dir / "dagster_home"
    home.mkdir(exist_ok=True)
    with dg.DagsterInstance.get() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(
            "current_delivery",
            metadata={"extract_date": EXTRACT_DATE, "delivery_version": f"{EXTRACT_DATE}:0"},
        ))
    assert delivery_version(landing / EXTRACT_DATE) != f"{EXTRACT_DATE}:0"
    assert main(["run", "--cohort-year", "2006-07"]) == 2
    refusal = _one_line(capsys.readouterr().err)
    assert f"delivery {EXTRACT_DATE} was loaded before with other files" in refusal
    assert f"RECONVICTION_ACCEPT_REDELIVERY={EXTRACT_DATE}" in refusal
    with dg.DagsterInstance.get() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=EXTRACT_DATE,
                                          resources={"settings": SettingsResource()})
        skip = delivery_sensor(context)
    assert "was loaded before with other files" in skip.skip_message


# ---- automation that heals -------------------------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_run_whose_process_has_gone_no_longer_holds_the_sensor(landing):
    with dg.instance_for_test() as instance:
        gone = {**process_tags(), PID_TAG: str(_dead_pid())}
        stale = dg.DagsterRun("refresh_delivery", status=dg.DagsterRunStatus.STARTED, tags=gone)
        alive = dg.DagsterRun("refresh_delivery", status=dg.DagsterRunStatus.STARTED,
                              tags={**process_tags()})
        elsewhere = dg.DagsterRun("refresh_delivery", status=dg.DagsterRunStatus.STARTED,
                                  tags={**gone, HOST_TAG: "another-host"})
        for run in (stale, alive, elsewhere):
            instance.add_run(run)
        context = dg.build_sensor_context(
            instance=instance, resources={"settings": SettingsResource()}
        )
        skip = delivery_sensor(context)
        # the live run (this process) and the other host's still hold it, the dead one not
        assert "waiting for 2 refresh" in skip.skip_message
        assert instance.get_run_by_id(stale.run_id).status == dg.DagsterRunStatus.FAILURE
        for run in (alive, elsewhere):
            instance.delete_run(run.run_id)
        request = delivery_sensor(dg.build_sensor_context(
            instance=instance, resources={"settings": SettingsResource()}))
        assert isinstance(request, dg.RunRequest) and request.job_name == "refresh_delivery"


_FIRST_COMMAND = """
import dagster as dg
from dagster_project.cli.session import initialised_instance

@dg.op
def probe():
    return 1

@dg.job
def first_run():
    probe()

assert first_run.execute_in_process(instance=initialised_instance()).success
"""


def test_ten_first_commands_at_once_on_a_fresh_dagster_home(tmp_path):
    home = tmp_path / "dagster_home"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    processes = [
        subprocess.Popen([sys.executable, "-c", _FIRST_COMMAND], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(10)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * 10, outputs
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_runs_count() == 10
