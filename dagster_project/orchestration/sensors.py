"""The delivery sensor: a new complete delivery requests a refresh; once that refresh has
finished, the cohort years the delivery made mature (METHOD.md §2) are requested.

Why one sensor does both, on separate ticks: a cohort-year run reads what the refresh writes,
so the two must never overlap. The sensor requests a refresh only while no refresh or
cohort-year run is queued or running, and requests cohort years only once the instance's
event log shows the refresh wrote every table a cohort year reads (and no refresh is queued
or running). Sensor ticks are evaluated one at a time, so these checks and the requests they
allow cannot interleave.

The cursor is the newest extract date whose refresh was requested (or found done: a delivery
`reconviction run` loaded, with the same data and code versions, is not loaded again), so each
delivery is loaded once; an incomplete delivery (still being copied, or corrupt) is skipped
with its reason and looked at again on the next tick. Cohort-year requests carry the run key
`cohort_year-<year>@<extract date>`, so no year is requested twice for one delivery.

Exports `delivery_sensor`, `newly_mature_cohort_years`, `defs`.
"""

from pathlib import Path

import dagster as dg

from dagster_project.cohort.years import is_mature
from dagster_project.delivery.manifest import ignored_folders, is_complete
from dagster_project.orchestration.instance_state import runs_under_way, warehouse_state
from dagster_project.orchestration.jobs import cohort_year_job, refresh_delivery_job
from dagster_project.orchestration.partitions import COHORT_YEAR_KEYS
from dagster_project.orchestration.refresh import (
    newest_landed_delivery,
    redelivery_problem,
    refresh_reason,
)
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.orchestration.stale_runs import fail_stale_runs, remove_orphaned_spill_folders
from dagster_project.settings import Settings
from dagster_project.vocabulary.job_names import COHORT_YEAR_JOB, REFRESH_JOB

EXTRACT_DATE_TAG = "reconviction/extract_date"
# marks the cohort-year runs this sensor requested after a delivery's refresh
FOLLOW_UP_TAG = "reconviction/follow_up_of"


def newly_mature_cohort_years(
    previous_extract_date: str | None, extract_date: str, settings: Settings
) -> list[str]:
    """Cohort years mature on `extract_date` but not on the previous delivery's (all mature
    years when there was none), oldest first."""
    return [
        year
        for year in COHORT_YEAR_KEYS
        if is_mature(year, extract_date, settings)
        and not (previous_extract_date and is_mature(year, previous_extract_date, settings))
    ]


def cohort_year_run_key(cohort_year: str, extract_date: str) -> str:
    """One run per cohort year and delivery, whoever requests it."""
    return f"{COHORT_YEAR_JOB}-{cohort_year}@{extract_date}"


def _instance(context: dg.SensorEvaluationContext) -> dg.DagsterInstance | None:
    # A context built in a unit test may have no instance; the daemon always passes one.
    try:
        return context.instance
    except dg.DagsterInvariantViolationError:
        return None


def _busy(instance: dg.DagsterInstance) -> str | None:
    """Why nothing may be requested now, or None. Runs whose process has gone are marked
    failed first: a killed command's run must not hold the sensor for ever."""
    fail_stale_runs(instance, launched=True)  # this is the code server that launches runs
    remove_orphaned_spill_folders()
    refreshing = runs_under_way(instance, REFRESH_JOB)
    cohort_years = runs_under_way(instance, COHORT_YEAR_JOB)
    if refreshing or cohort_years:
        return (
            f"waiting for {refreshing} refresh and {cohort_years} cohort-year runs to finish "
            "(a refresh must not rewrite tables a cohort year is reading)"
        )
    return None


def _folder(landing_dir: Path, name: str | None) -> Path | None:
    folder = Path(landing_dir) / name if name else None
    return folder if folder is not None and is_complete(folder)[0] else None


def _loaded_already(instance: dg.DagsterInstance, settings: Settings, path: Path) -> bool:
    """Whether the instance records this delivery loaded by today's code and settings."""
    return refresh_reason(instance, settings, path, look_in_warehouse=False) is None


def _refresh_request(context, path: Path) -> dg.RunRequest:
    context.update_cursor(path.name)
    return dg.RunRequest(
        run_key=f"delivery-{path.name}",
        job_name=REFRESH_JOB,
        tags={"extract_date": path.name, EXTRACT_DATE_TAG: path.name},
    )


def _cohort_year_requests(context, instance, settings: Settings):
    """Requests for the cohort years the loaded delivery made mature, or why there are none."""
    state = warehouse_state(instance)
    if state.extract_date is None:
        return dg.SkipReason(
            f"no delivery is in use yet: the refresh of {context.cursor} has not finished "
            "writing the tables a cohort year reads; re-execute it if it failed"
        )
    if context.cursor is not None and state.extract_date < context.cursor:
        # the refresh this sensor asked for did not switch readers (failed, killed, stopped by
        # a check): its cohort years wait for it, and the older delivery's are not re-asked
        return dg.SkipReason(
            f"the refresh of delivery {context.cursor} has not finished writing the tables a "
            f"cohort year reads (readers use {state.extract_date}); re-execute it if it failed"
        )
    done = instance.get_runs_count(
        dg.RunsFilter(job_name=COHORT_YEAR_JOB, tags={FOLLOW_UP_TAG: state.extract_date})
    )
    if done:
        return dg.SkipReason(f"cohort years of delivery {state.extract_date} already requested")
    years = newly_mature_cohort_years(state.previous_extract_date, state.extract_date, settings)
    if not years:
        return dg.SkipReason(
            f"delivery {state.extract_date} makes no cohort year mature that "
            f"{state.previous_extract_date} did not"
        )
    context.log.info(f"delivery {state.extract_date} made {', '.join(years)} mature")
    return [
        dg.RunRequest(
            run_key=cohort_year_run_key(year, state.extract_date),
            job_name=COHORT_YEAR_JOB,
            partition_key=year,
            tags={EXTRACT_DATE_TAG: state.extract_date, FOLLOW_UP_TAG: state.extract_date},
        )
        for year in years
    ]


@dg.sensor(
    jobs=[refresh_delivery_job, cohort_year_job],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests a refresh when a new complete delivery lands, then the cohort years "
    "it made mature once the refresh has finished.",
)
def delivery_sensor(context: dg.SensorEvaluationContext, settings: SettingsResource):
    run_settings = settings.get()
    landing_dir = run_settings.landing_dir
    instance = _instance(context)
    busy = _busy(instance) if instance else None
    if busy:
        return dg.SkipReason(busy)
    path, skipped = newest_landed_delivery(landing_dir, newer_than=context.cursor)
    for line in skipped:
        context.log.info(f"skipped incomplete delivery {line}")
    skipped += ignored_folders(landing_dir)
    if instance is not None:
        # a delivery loaded before, landed again under its date with other files: nothing is
        # requested until someone decides which files the extract date names
        problems = [redelivery_problem(instance, p)
                    for p in {p for p in (path, _folder(landing_dir, context.cursor)) if p}]
        if any(problems):
            return dg.SkipReason("; ".join([*filter(None, problems), *skipped]))
    if path is not None and instance is not None and _loaded_already(instance, run_settings, path):
        # `reconviction run` (or a launch from the UI) loaded it: the same versions, no reload
        context.log.info(f"delivery {path.name} is loaded already")
        context.update_cursor(path.name)
        path = None
    if path is not None:
        return _refresh_request(context, path)
    if instance is not None and context.cursor is not None:
        follow_up = _cohort_year_requests(context, instance, run_settings)
        if not isinstance(follow_up, dg.SkipReason):
            return follow_up
        skipped.append(follow_up.skip_message)
    reason = "; ".join(skipped) or f"no delivery newer than {context.cursor} in {landing_dir}"
    return dg.SkipReason(reason)


defs = dg.Definitions(sensors=[delivery_sensor])
