"""Blocking check: raw rows = staged rows + rejected rows, for every delivered file.

Counts are taken in the warehouse with SQL, so the check reads no row into memory.

Exports `row_accounting_checks`.
"""

import dagster as dg

from dagster_project.delivery.accounting import delivery_accounting
from dagster_project.delivery.schemas import (
    DELIVERY_FILES,
    RAW_TABLES,
    REJECTS_TABLE,
    STAGED_TABLES,
)
from dagster_project.orchestration.io_manager import WarehouseResource

_SPECS = [
    dg.AssetCheckSpec(
        "row_accounting",
        asset=STAGED_TABLES[f],
        additional_deps=[RAW_TABLES[f], REJECTS_TABLE],
        blocking=True,
        description=f"Every row of {f} is staged or rejected: raw = staged + rejected.",
    )
    for f in DELIVERY_FILES
]


@dg.multi_asset_check(specs=_SPECS, can_subset=True)
def row_accounting_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    wh = warehouse.warehouse()
    table = delivery_accounting(wh)
    selected = {key.asset_key for key in context.selected_asset_check_keys}
    for row in table.itertuples():  # four files, not data rows
        key = dg.AssetKey(STAGED_TABLES[row.file])
        if key not in selected:
            continue
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="row_accounting",
            passed=bool(row.balanced),
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "raw_rows": int(row.raw),
                "staged_rows": int(row.staged),
                "rejected_rows": int(row.rejected),
                "unaccounted_rows": int(row.unaccounted),
            },
        )
