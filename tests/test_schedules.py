"""The yearly schedule and the delivery sensor's follow-up, against a real (temporary) Dagster
instance whose event log says which delivery is loaded, and landing folders whose deliveries
are complete as far as a tick looks (manifest and files present)."""

import json
from datetime import datetime

import dagster as dg
import pytest

from dagster_project.delivery.schemas import DELIVERY_FILES, RAW_TABLES
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.orchestration.schedules import yearly_cohort_year_schedule
from dagster_project.orchestration.sensors import (
    FOLLOW_UP_TAG,
    delivery_sensor,
    newly_mature_cohort_years,
)
from dagster_project.settings import Settings

HANDOVER = ["treatment_episodes", "client_link_status", "linked_offences", "treatment_journeys"]


def _landed(landing, extract_date: str, complete: bool = True):
    """A delivery folder a tick takes as complete (files are not hashed until the refresh)."""
    folder = landing / extract_date
    folder.mkdir(parents=True)
    files = {name: {"rows": 0, "sha256": "0" * 64} for name in DELIVERY_FILES}
    manifest = {"extract_date": extract_date, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for name in DELIVERY_FILES[: None if complete else -1]:
        (folder / name).touch()


def _loaded(instance, extract_date: str, finished: bool = True):
    """Record a refresh of the delivery in the event log, as the raw and linkage assets do,
    and, when it finished, the switch of readers to it (the refresh's last step)."""
    raw = RAW_TABLES[DELIVERY_FILES[0]]
    instance.report_runless_asset_event(
        dg.AssetMaterialization(raw, metadata={"extract_date": extract_date})
    )
    for key in HANDOVER if finished else HANDOVER[:1]:
        instance.report_runless_asset_event(dg.AssetMaterialization(key))
    if finished:
        instance.report_runless_asset_event(
            dg.AssetMaterialization("current_delivery", metadata={"extract_date": extract_date})
        )


def _run_under_way(instance, job_name: str, **tags):
    instance.add_run(dg.DagsterRun(job_name, status=dg.DagsterRunStatus.STARTED, tags=tags))


@pytest.fixture(scope="module")
def _module_instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def instance(_module_instance, data_dir):
    """A temporary instance with no runs and no events (one per module: creating its storage
    costs seconds)."""
    (data_dir / "landing").mkdir()
    _module_instance.wipe()
    return _module_instance


def _schedule_tick(instance, day: str):
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime.fromisoformat(day),
        resources={"settings": SettingsResource()},
    )
    return yearly_cohort_year_schedule(context)


@pytest.mark.parametrize(
    ("extract_date", "tick", "cohort_year"),
    [
        ("2009-10-31", "2009-12-01", "2006-07"),
        ("2009-09-29", "2009-12-01", "2006-07"),  # 31 March 2007 + 730 + 183 days, exactly
        ("2009-09-28", "2009-12-01", "2005-06"),  # a day short
        ("2012-10-31", "2012-12-01", "2009-10"),  # not 2011-12, the last financial year
        ("2012-10-31", "2014-12-01", "2009-10"),  # no newer delivery: still its newest year
    ],
)
def test_schedule_requests_the_newest_mature_cohort_year(
    instance, data_dir, extract_date, tick, cohort_year
):
    _landed(data_dir / "landing", extract_date)
    _loaded(instance, extract_date)
    request = _schedule_tick(instance, tick)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == cohort_year
    assert request.run_key == f"cohort_year-{cohort_year}@{extract_date}"


def test_schedule_ignores_deliveries_dated_after_the_tick(instance, data_dir):
    for extract_date in ("2011-10-31", "2012-10-31"):
        _landed(data_dir / "landing", extract_date)
    _loaded(instance, "2011-10-31")
    request = _schedule_tick(instance, "2012-06-01")
    assert request.partition_key == "2008-09"
    # on the next tick the newer delivery is there but not loaded: wait for it, say why
    skip = _schedule_tick(instance, "2012-12-01")
    assert isinstance(skip, dg.SkipReason)
    assert "2012-10-31" in skip.skip_message and "holds 2011-10-31" in skip.skip_message


def test_schedule_skips_when_nothing_is_mature(instance, data_dir):
    _landed(data_dir / "landing", "2007-09-28")
    _loaded(instance, "2007-09-28")
    skip = _schedule_tick(instance, "2007-12-01")
    assert isinstance(skip, dg.SkipReason)
    assert "nothing is mature" in skip.skip_message


def test_schedule_skips_without_a_complete_delivery(instance, data_dir):
    _landed(data_dir / "landing", "2012-10-31", complete=False)
    skip = _schedule_tick(instance, "2012-12-01")
    assert isinstance(skip, dg.SkipReason)
    assert "no complete delivery" in skip.skip_message and "missing" in skip.skip_message


def test_schedule_skips_a_cohort_year_already_done_from_the_delivery(instance, data_dir):
    _landed(data_dir / "landing", "2012-10-31")
    _loaded(instance, "2012-10-31")
    done = dg.AssetMaterialization("outcome_table", partition="2009-10")
    instance.report_runless_asset_event(done)
    skip = _schedule_tick(instance, "2013-12-01")
    assert isinstance(skip, dg.SkipReason)
    assert "already done" in skip.skip_message
    # a newer load of the same delivery (a rerun of the refresh) makes it stale again
    _loaded(instance, "2012-10-31")
    assert isinstance(_schedule_tick(instance, "2013-12-01"), dg.RunRequest)


def test_schedule_never_reads_a_refresh_in_progress(instance, data_dir):
    _landed(data_dir / "landing", "2012-10-31")
    _loaded(instance, "2012-10-31", finished=False)
    skip = _schedule_tick(instance, "2012-12-01")
    assert isinstance(skip, dg.SkipReason) and "refresh unfinished" in skip.skip_message
    _loaded(instance, "2012-10-31")
    _run_under_way(instance, "refresh_delivery")
    skip = _schedule_tick(instance, "2012-12-01")
    assert isinstance(skip, dg.SkipReason) and "refresh is queued or running" in skip.skip_message


# ---- the delivery sensor's follow-up ---------------------------------------------------------


def test_newly_mature_cohort_years_compare_two_extract_dates():
    settings = Settings()
    assert newly_mature_cohort_years("2011-10-31", "2012-10-31", settings) == ["2009-10"]
    assert newly_mature_cohort_years("2009-10-31", "2012-10-31", settings) == [
        "2007-08", "2008-09", "2009-10",
    ]
    assert newly_mature_cohort_years("2012-10-31", "2012-12-31", settings) == []
    assert newly_mature_cohort_years(None, "2007-10-31", settings) == ["2004-05"]


def _sensor_tick(instance, cursor):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"settings": SettingsResource()}
    )
    return delivery_sensor(context), context


def test_sensor_refreshes_then_requests_the_years_that_became_mature(instance, data_dir):
    landing = data_dir / "landing"
    _landed(landing, "2011-10-31")
    _loaded(instance, "2011-10-31")
    _landed(landing, "2012-10-31")
    request, context = _sensor_tick(instance, "2011-10-31")
    assert request.job_name == "refresh_delivery" and request.run_key == "delivery-2012-10-31"
    assert context.cursor == "2012-10-31"

    # while the refresh runs, or once it has written only part of the tables: nothing
    _loaded(instance, "2012-10-31", finished=False)
    skip, _ = _sensor_tick(instance, context.cursor)
    assert "has not finished writing" in skip.skip_message

    _loaded(instance, "2012-10-31")
    requests, _ = _sensor_tick(instance, context.cursor)
    assert [(r.job_name, r.partition_key, r.run_key) for r in requests] == [
        ("cohort_year", "2009-10", "cohort_year-2009-10@2012-10-31")
    ]
    _run_under_way(instance, "cohort_year", **requests[0].tags)
    skip, _ = _sensor_tick(instance, context.cursor)
    assert "waiting for 0 refresh and 1 cohort-year runs" in skip.skip_message


def test_sensor_requests_every_mature_year_after_the_first_delivery(instance, data_dir):
    _landed(data_dir / "landing", "2009-10-31")
    _loaded(instance, "2009-10-31")
    requests, _ = _sensor_tick(instance, "2009-10-31")
    assert [r.partition_key for r in requests] == ["2004-05", "2005-06", "2006-07"]
    instance.add_run(
        dg.DagsterRun("cohort_year", status=dg.DagsterRunStatus.SUCCESS,
                      tags={FOLLOW_UP_TAG: "2009-10-31"})
    )
    skip, _ = _sensor_tick(instance, "2009-10-31")
    assert "already requested" in skip.skip_message


def test_sensor_holds_a_new_delivery_while_cohort_years_run(instance, data_dir):
    _landed(data_dir / "landing", "2012-10-31")
    _run_under_way(instance, "cohort_year")
    skip, context = _sensor_tick(instance, None)
    assert isinstance(skip, dg.SkipReason) and "cohort-year runs" in skip.skip_message
    assert context.cursor is None  # looked at again on the next tick


def test_a_refresh_whose_run_failed_is_not_analysed(instance, data_dir):
    """A blocking check failing after the last table was written fails the run: its tables
    are materialised, but no cohort year may read them."""
    _landed(data_dir / "landing", "2012-10-31")
    _loaded(instance, "2012-10-31", finished=False)

    def table(name):
        return dg.asset(name=name, deps=["raw_ndtms_episodes"])(lambda: None)

    @dg.asset(deps=HANDOVER)
    def blocking_check_failed():
        raise RuntimeError("a blocking check failed")

    result = dg.materialize(
        [*map(table, HANDOVER), blocking_check_failed], instance=instance,
        selection=[*HANDOVER, "blocking_check_failed"], raise_on_error=False,
    )
    assert not result.success
    skip = _schedule_tick(instance, "2012-12-01")
    assert isinstance(skip, dg.SkipReason) and "refresh unfinished" in skip.skip_message
    skip, _ = _sensor_tick(instance, "2012-10-31")
    assert "has not finished writing" in skip.skip_message
