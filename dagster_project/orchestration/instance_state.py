"""What the Dagster instance knows about the warehouse: which delivery is loaded (and whether its
refresh finished), which runs are under way, and whether a cohort year is up to date.

Sensors and schedules read this from the instance's run and event storage, never from the
warehouse itself: a tick must not wait on the DuckDB file lock held by a running step, and the
event log says which tables a refresh has finished writing, which the tables cannot.

Exports `WarehouseState`, `warehouse_state`, `latest_switch`, `cohort_year_is_current`,
`runs_under_way`, `POINTER_KEY`.
"""

from dataclasses import dataclass

import dagster as dg

# the refresh's last step: each materialisation is a delivery that readers were switched to
POINTER_KEY = dg.AssetKey("current_delivery")
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

    `extract_date`: the delivery readers use (None: none switched yet). `complete`: a
    delivery is in use (kept for callers of the earlier shape). `previous_extract_date`: the
    delivery used before it (None: it is the first). `handover_storage_id`: event-log
    position of the switch."""

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


def latest_switch(instance: dg.DagsterInstance):
    """The materialisation of the last switch of readers to a delivery (None: never)."""
    record = _latest(instance, POINTER_KEY)
    return record.event_log_entry.asset_materialization if record else None


def warehouse_state(instance: dg.DagsterInstance) -> WarehouseState:
    """The delivery readers use and the one before it. A refresh that did not finish (killed,
    failed, stopped by a blocking check) never switched readers, so the state names the
    previous complete delivery; what readers see is always complete."""
    switches = instance.fetch_materializations(POINTER_KEY, limit=_HISTORY).records
    if not switches:
        return WarehouseState()
    current = _extract_date(switches[0])
    previous = next((d for d in map(_extract_date, switches[1:]) if d != current), None)
    return WarehouseState(current, previous, True, switches[0].storage_id)


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
