"""What the Dagster instance knows about the warehouse: which delivery is loaded (and whether its
refresh finished), which runs are under way, and whether a cohort year is up to date.

Sensors and schedules read this from the instance's run and event storage, never from the
warehouse itself: a tick must not wait on the DuckDB file lock held by a running step, and the
event log says which tables a refresh has finished writing, which the tables cannot.

Exports `WarehouseState`, `warehouse_state`, `cohort_year_is_current`, `runs_under_way`,
`REFRESH_JOB`, `COHORT_YEAR_JOB`.
"""

from dataclasses import dataclass

import dagster as dg

from dagster_project.schemas import RAW_TABLES

REFRESH_JOB = "refresh_delivery"
COHORT_YEAR_JOB = "cohort_year"
# the raw table whose materialisations carry the loaded delivery's extract date
_RAW_KEY = dg.AssetKey(RAW_TABLES["ndtms_episodes.csv"])
# what a cohort-year run reads: a refresh is finished once all of these are newer than raw
_HANDOVER_KEYS = [
    dg.AssetKey(name)
    for name in (
        "treatment_episodes", "client_link_status", "linked_offences", "treatment_journeys"
    )
]
_OUTCOME_KEY = dg.AssetKey("outcome_table")
_UNDER_WAY = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# how far back to look for the delivery loaded before the current one (reruns of one delivery
# add records with the same date)
_HISTORY = 100


@dataclass(frozen=True)
class WarehouseState:
    """The delivery in the warehouse as the instance records it.

    `extract_date`: the newest loaded delivery (None: never loaded). `complete`: its refresh
    wrote every table a cohort year reads, in runs that succeeded. `previous_extract_date`:
    the delivery loaded before it (None: it is the first). `handover_storage_id`: event-log
    position of its last write."""

    extract_date: str | None = None
    previous_extract_date: str | None = None
    complete: bool = False
    handover_storage_id: int | None = None


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None = None):
    records_filter = dg.AssetRecordsFilter(
        asset_key=key, asset_partitions=[partition] if partition else None
    )
    records = instance.fetch_materializations(records_filter, limit=1).records
    return records[0] if records else None


def _extract_date(record) -> str | None:
    entry = record.event_log_entry.asset_materialization.metadata.get("extract_date")
    return None if entry is None else str(entry.value)


def warehouse_state(instance: dg.DagsterInstance) -> WarehouseState:
    """The loaded delivery, the one before it, and whether its refresh is complete."""
    raw = instance.fetch_materializations(_RAW_KEY, limit=_HISTORY).records
    if not raw:
        return WarehouseState()
    current = _extract_date(raw[0])
    previous = next((d for d in map(_extract_date, raw[1:]) if d != current), None)
    handover = [_latest(instance, key) for key in _HANDOVER_KEYS]
    complete = all(r is not None and r.storage_id > raw[0].storage_id for r in handover)
    complete = complete and _runs_succeeded(instance, {r.run_id for r in handover})
    last = max(r.storage_id for r in handover) if complete else None
    return WarehouseState(current, previous, complete, last)


def _runs_succeeded(instance: dg.DagsterInstance, run_ids: set[str]) -> bool:
    """Whether the runs that wrote the tables succeeded: a blocking check that fails after
    its table is written fails the run, and the table must not be analysed. (Events reported
    outside a run have no run to judge.)"""
    for run_id in run_ids - {""}:
        run = instance.get_run_by_id(run_id)
        if run is None or run.status != dg.DagsterRunStatus.SUCCESS:
            return False
    return True


def cohort_year_is_current(
    instance: dg.DagsterInstance, cohort_year: str, state: WarehouseState
) -> bool:
    """Whether the cohort year's outcome table was written after the loaded delivery's refresh
    finished (so recomputing it would give the same tables)."""
    if not state.complete:
        return False
    record = _latest(instance, _OUTCOME_KEY, cohort_year)
    return record is not None and record.storage_id > state.handover_storage_id


def runs_under_way(instance: dg.DagsterInstance, job_name: str) -> int:
    """How many runs of the job are queued or running."""
    return instance.get_runs_count(dg.RunsFilter(job_name=job_name, statuses=_UNDER_WAY))
