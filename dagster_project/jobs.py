"""Jobs: a delivery refresh, and a cohort year.

Exports `refresh_delivery_job`, `cohort_year_job`, `DELIVERY_GROUPS`, `COHORT_YEAR_GROUPS`.
"""

import dagster as dg

from dagster_project.partitions import cohort_years

# stages that depend only on the delivery, and stages computed per cohort year
DELIVERY_GROUPS = ("reference", "raw", "staging", "linkage", "journeys")
COHORT_YEAR_GROUPS = ("cohort", "outcomes")

refresh_delivery_job = dg.define_asset_job(
    "refresh_delivery",
    selection=dg.AssetSelection.groups(*DELIVERY_GROUPS),
    description="Load the newest complete delivery through reference, raw, staging, linkage "
    "and journeys.",
)

cohort_year_job = dg.define_asset_job(
    "cohort_year",
    selection=dg.AssetSelection.groups(*COHORT_YEAR_GROUPS),
    partitions_def=cohort_years,
    description="One cohort year: cohort selection and outcome tables.",
)
