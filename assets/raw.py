"""Raw stage: the newest complete delivery, every column as text, with provenance.

The four files are loaded a block at a time as they are read, into shadow tables that
replace the raw tables together only once every file has passed (`Warehouse.write_tables`),
so a malformed delivery fails the step and the warehouse keeps the raw tables it had, and a
national delivery is never whole in memory.

Exports `landing`, `raw_delivery`.
"""

import dagster as dg

from dagster_project.delivery.manifest import DeliveryError, newest_complete_delivery
from dagster_project.delivery.raw import extract_slices
from dagster_project.delivery.schemas import DELIVERY_FILES, RAW_TABLES
from dagster_project.orchestration.io_manager import WarehouseResource
from dagster_project.orchestration.metadata import settings_metadata, written_table_metadata
from dagster_project.orchestration.outs import table_outs
from dagster_project.orchestration.refresh import (
    RAW_CODE_VERSION,
    delivery_version,
    newest_landed_delivery,
)
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.vocabulary.groups import RAW_GROUP


@dg.observable_source_asset(group_name=RAW_GROUP)
def landing(settings: SettingsResource) -> dg.DataVersion:
    """Deliveries in the landing folder (RECONVICTION_LANDING_DIR): one sub-folder per extract
    date with manifest.json and four CSV files (EXTRACTS.md). Its data version names the
    newest complete delivery, so raw shows stale when a new one lands."""
    path, _ = newest_landed_delivery(settings.get().landing_dir)
    return dg.DataVersion(delivery_version(path) if path else "none")


@dg.multi_asset(
    deps=[landing],
    outs=table_outs(RAW_GROUP, RAW_CODE_VERSION, **{
        RAW_TABLES[f]: f"`{f}` of the newest complete delivery, every value as delivered "
        "(text), with extract date, file and line number."
        for f in DELIVERY_FILES
    }),
)
def raw_delivery(
    context: dg.AssetExecutionContext, settings: SettingsResource, warehouse: WarehouseResource
):
    """Verify the newest complete delivery against its manifest, then load its four files."""
    run_settings = settings.get()
    delivery, skipped = newest_complete_delivery(run_settings.landing_dir)
    if skipped:
        # the newest delivery is refused: load nothing rather than an older one quietly
        path, reason = skipped[0]
        raise DeliveryError(f"newest delivery {path.name} refused: {reason}; not falling "
                            f"back to {delivery.path.name}")
    extracts = {f: extract_slices(delivery, f) for f in DELIVERY_FILES}
    for f, (_, warnings) in extracts.items():
        for warning in warnings:
            context.log.warning(f"{f}: {warning}")
    # the four files swapped in together, loaded a block at a time as they are read: a
    # malformed record anywhere leaves the warehouse as it was
    wh = warehouse.warehouse()
    rows = wh.write_tables({RAW_TABLES[f]: slices for f, (slices, _) in extracts.items()})
    for f in DELIVERY_FILES:
        entry, table = delivery.files[f], RAW_TABLES[f]
        yield dg.MaterializeResult(
            asset_key=table,
            metadata=written_table_metadata(
                wh, table, rows[table],
                extract_date=delivery.extract_date.isoformat(),
                delivery_version=delivery_version(delivery.path),
                manifest_rows=entry.rows,
                sha256=entry.sha256,
                **settings_metadata(run_settings),
            ),
        )
