"""Staging: typed tables per METHOD.md §9, codes mapped through the reference tables, and
every row that could not be staged kept in `staging_rejects` with its file, line and reason.

Exports `staged_delivery`, `STAGING_GROUP`.
"""

import dagster as dg
import pandas as pd

from dagster_project.metadata import settings_metadata, table_metadata
from dagster_project.reference import REFERENCE_TABLES
from dagster_project.resources import SettingsResource
from dagster_project.schemas import DELIVERY_FILES, RAW_TABLES, REJECTS_TABLE, STAGED_TABLES
from dagster_project.staging import stage_delivery, unknown_code_counts

STAGING_GROUP = "staging"

_INS = {RAW_TABLES[f]: dg.AssetIn() for f in DELIVERY_FILES} | {
    name: dg.AssetIn() for name in REFERENCE_TABLES
}


@dg.multi_asset(
    ins=_INS,
    outs={
        STAGED_TABLES[f]: dg.AssetOut(
            group_name=STAGING_GROUP,
            kinds={"pandas"},
            description=f"`{f}` typed and validated; codes mapped through the reference tables.",
        )
        for f in DELIVERY_FILES
    }
    | {
        REJECTS_TABLE: dg.AssetOut(
            group_name=STAGING_GROUP,
            kinds={"pandas"},
            description="Every delivered row that was not staged: file, line and reason.",
        )
    },
)
def staged_delivery(
    context: dg.AssetExecutionContext, settings: SettingsResource, **inputs: pd.DataFrame
):
    """Stage the four raw tables; rows failing a rule of METHOD.md §9 go to the rejects."""
    raws = {f: inputs[RAW_TABLES[f]] for f in DELIVERY_FILES}
    refs = {name: inputs[name] for name in REFERENCE_TABLES}
    staged, rejects = stage_delivery(raws, refs)
    for f in DELIVERY_FILES:
        rejected = int((rejects["source_file"] == f).sum())
        yield dg.MaterializeResult(
            asset_key=STAGED_TABLES[f],
            value=staged[f],
            metadata=table_metadata(
                staged[f],
                raw_rows=len(raws[f]),
                rejected_rows=rejected,
                unknown_codes=dg.MetadataValue.json(unknown_code_counts(staged[f])),
                **settings_metadata(settings.get()),
            ),
        )
    reasons = rejects.groupby(["source_file", "reason"]).size().rename("rows").reset_index()
    # reasons carry rule and column only, never a delivered value: safe to preview
    yield dg.MaterializeResult(
        asset_key=REJECTS_TABLE,
        value=rejects,
        metadata=table_metadata(
            rejects, reasons=dg.MetadataValue.md(reasons.to_markdown(index=False) or "none")
        ),
    )
