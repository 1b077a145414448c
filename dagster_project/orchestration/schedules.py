"""The yearly schedule: the newest cohort year whose follow-up the newest delivery covers.

Not simply the last financial year: a cohort year needs an extract dated 31 March Y+1 + 730 +
183 days or later (METHOD.md §2), so a delivery of 31 October 2012 covers `2009-10` at most.
The tick looks at the newest complete delivery dated on or before the tick (a catch-up tick
for an earlier year must not use a later delivery), and requests its newest mature cohort
year only when that delivery is the one loaded and its refresh has finished; otherwise it
skips and says why (the delivery sensor loads new deliveries).

Each request's run key is `cohort_year-<year>@<extract date>`, so a tick never repeats a run,
and a cohort year already written from the loaded delivery is skipped.

Exports `yearly_cohort_year_schedule`, `yearly_cohort_year_request`, `defs`.
"""

from datetime import date, datetime

import dagster as dg

from dagster_project.cohort.years import ImmatureCohortYear, newest_mature_cohort_year
from dagster_project.orchestration import instance_state, sensors
from dagster_project.orchestration.jobs import cohort_year_job
from dagster_project.orchestration.partitions import COHORT_YEAR_KEYS
from dagster_project.orchestration.refresh import newest_landed_delivery
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.settings import Settings
from dagster_project.vocabulary.job_names import REFRESH_JOB

# Deliveries are extracted at the end of October; a tick on 1 December finds the year's
# delivery loaded (by the delivery sensor) and its newest mature cohort year waiting.
YEARLY_CRON = "0 6 1 12 *"
TIMEZONE = "Europe/London"


def yearly_cohort_year_request(
    instance: dg.DagsterInstance, settings: Settings, day: date
) -> dg.RunRequest | dg.SkipReason:
    """What the schedule's tick on `day` requests, or why it requests nothing."""
    landed, passed_over = newest_landed_delivery(settings.landing_dir, dated_by=day.isoformat())
    if landed is None:
        why = "; ".join(passed_over) or "none"
        return dg.SkipReason(
            f"no complete delivery dated on or before {day} in {settings.landing_dir} "
            f"(incomplete: {why})"
        )
    extract_date = landed.name
    try:
        cohort_year = newest_mature_cohort_year(extract_date, settings)
    except ImmatureCohortYear as exc:
        return dg.SkipReason(f"nothing is mature: {exc}")
    if cohort_year not in COHORT_YEAR_KEYS:
        # mature, but before the first year the treatment records can support
        return dg.SkipReason(
            f"nothing is mature: the newest cohort year the delivery {extract_date} covers is "
            f"{cohort_year}, before the first cohort year {COHORT_YEAR_KEYS[0]}"
        )
    if instance_state.runs_under_way(instance, REFRESH_JOB):
        return dg.SkipReason("a refresh is queued or running; a cohort year must not read it")
    state = instance_state.warehouse_state(instance)
    if state.extract_date != extract_date:
        loaded = state.extract_date or "nothing"
        return dg.SkipReason(
            f"delivery {extract_date} (newest mature cohort year {cohort_year}) is not fully "
            f"loaded: the warehouse holds {loaded} for readers (refresh unfinished or not "
            "run); the delivery sensor or `reconviction run` loads it"
        )
    if instance_state.cohort_year_is_current(instance, cohort_year, state):
        return dg.SkipReason(f"cohort year {cohort_year} is already done from {extract_date}")
    return dg.RunRequest(
        run_key=sensors.cohort_year_run_key(cohort_year, extract_date),
        partition_key=cohort_year,
        tags={sensors.EXTRACT_DATE_TAG: extract_date},
    )


@dg.schedule(
    job=cohort_year_job,
    cron_schedule=YEARLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Yearly: the newest cohort year whose follow-up the newest delivery covers.",
)
def yearly_cohort_year_schedule(context: dg.ScheduleEvaluationContext, settings: SettingsResource):
    when = context.scheduled_execution_time or datetime.now()
    return yearly_cohort_year_request(context.instance, settings.get(), when.date())


defs = dg.Definitions(schedules=[yearly_cohort_year_schedule])
