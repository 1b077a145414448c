"""The refresh's last step: the delivery it loaded becomes the one every reader uses.

Every table of a refresh is written into the run's own schema; this asset depends on all of
them, so Dagster runs it only when each one was written and none of their blocking checks
failed. It then switches the pointer in one transaction (`delivery_pointer.py`). Until then
cohort-year runs, the report, the schedule and the sensor see the previous complete delivery.

Exports `current_delivery`, `DELIVERY_ASSETS`.
"""

import dagster as dg

from assets.comparison import comparison_pool
from assets.journeys import treatment_journeys
from assets.linkage import linkage_assets
from assets.raw import raw_delivery
from assets.reference import reference_assets
from assets.staging import staged_delivery
from dagster_project.delivery.schemas import DELIVERY_FILES, RAW_TABLES
from dagster_project.orchestration.io_manager import WarehouseResource, table_name
from dagster_project.orchestration.metadata import settings_metadata
from dagster_project.orchestration.refresh import RAW_CODE_VERSION, STAGING_CODE_VERSION
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.vocabulary.groups import DELIVERY_POINTER_GROUP
from dagster_project.vocabulary.job_names import REFRESH_JOB
from dagster_project.warehouse.delivery_pointer import (
    loaded_deliveries,
    namespace_for,
    switch_delivery,
)
from dagster_project.warehouse.engine import Warehouse

DELIVERY_ASSETS = [
    *reference_assets, raw_delivery, staged_delivery, *linkage_assets, treatment_journeys,
    *comparison_pool,
]
_TABLES = sorted({table_name(key) for a in DELIVERY_ASSETS for key in a.keys})


def _raw_materialization(context: dg.AssetExecutionContext):
    """This refresh's load of the raw episodes (its delivery's extract date and version)."""
    records = context.instance.fetch_materializations(
        dg.AssetKey(RAW_TABLES[DELIVERY_FILES[0]]), limit=20
    ).records
    runs = {context.run.run_id, context.run.root_run_id}
    mine = [r for r in records if r.run_id in runs or _same_root(context, r.run_id)]
    if not mine:
        raise RuntimeError("this refresh loaded no raw tables: nothing to switch to")
    return mine[0].event_log_entry.asset_materialization


def _same_root(context: dg.AssetExecutionContext, run_id: str) -> bool:
    run = context.instance.get_run_by_id(run_id)
    return run is not None and (run.root_run_id or run.run_id) == context.run.root_run_id


@dg.asset(
    group_name=DELIVERY_POINTER_GROUP,
    deps=[key for a in DELIVERY_ASSETS for key in a.keys],
    kinds={"sql"},
)
def current_delivery(
    context: dg.AssetExecutionContext, settings: SettingsResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The delivery readers use: switched to this refresh's tables once all of them are
    written and checked; the previous deliveries kept (RECONVICTION_KEEP_DELIVERIES)."""
    wh = warehouse.warehouse()
    if context.run.job_name != REFRESH_JOB or wh.namespace is None:
        raise dg.Failure(
            f"current_delivery is switched only by the {REFRESH_JOB} job, which writes a whole "
            "delivery; launch that job"
        )
    raw = _raw_materialization(context)
    extract_date = str(raw.metadata["extract_date"].value)
    version = str(raw.metadata["delivery_version"].value)
    under_way = context.instance.get_runs(
        dg.RunsFilter(job_name=REFRESH_JOB, statuses=[dg.DagsterRunStatus.STARTED])
    )
    busy = {namespace_for(r.root_run_id or r.run_id) for r in under_way}
    base = Warehouse(wh.url, wh.lock_timeout)  # the pointer lives in the base schema
    dropped = switch_delivery(base, wh.namespace, extract_date, version, _TABLES, busy)
    kept = loaded_deliveries(base)
    context.log.info(
        f"readers now use delivery {extract_date} (schema {wh.namespace}); dropped {dropped}"
    )
    return dg.MaterializeResult(
        metadata={
            "extract_date": extract_date,
            "delivery_version": version,
            "schema": wh.namespace,
            "raw_code_version": RAW_CODE_VERSION,
            "staging_code_version": STAGING_CODE_VERSION,
            "kept": dg.MetadataValue.json(kept["extract_date"].drop_duplicates().tolist()),
            "dropped": dg.MetadataValue.json(dropped),
            **settings_metadata(settings.get()),
        }
    )
