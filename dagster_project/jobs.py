"""Jobs: a delivery refresh, a cohort year, and the trends across cohort years.

Exports `refresh_delivery_job`, `cohort_year_job`, `trends_job`, `DELIVERY_GROUPS`,
`COHORT_YEAR_GROUPS`, `TRENDS_GROUPS`.
"""

import dagster as dg

from dagster_project.partitions import cohort_years

# stages that depend only on the delivery, and stages computed per cohort year
DELIVERY_GROUPS = (
    "reference", "raw", "staging", "linkage", "journeys", "comparison_pool", "delivery")
COHORT_YEAR_GROUPS = ("cohort", "outcomes", "comparison", "report")

refresh_delivery_job = dg.define_asset_job(
    "refresh_delivery",
    # observing `landing` first records which delivery raw was loaded from (its data
    # version), however the refresh was launched: CLI, sensor or UI
    selection=dg.AssetSelection.groups(*DELIVERY_GROUPS) | dg.AssetSelection.keys("landing"),
    description="Load the newest complete delivery through reference, raw, staging, linkage "
    "and journeys into a schema of its own, then switch readers to it (current_delivery).",
)

cohort_year_job = dg.define_asset_job(
    "cohort_year",
    selection=dg.AssetSelection.groups(*COHORT_YEAR_GROUPS),
    partitions_def=cohort_years,
    description="One cohort year: cohort selection, outcome tables and the report.",
)

TRENDS_GROUPS = ("trends",)

trends_job = dg.define_asset_job(
    "trends",
    selection=dg.AssetSelection.groups(*TRENDS_GROUPS),
    description="Every materialised cohort year's headline rows side by side.",
)
