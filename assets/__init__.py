"""Dagster's assets, one module per stage: each reads its inputs, calls one domain function,
writes its table and metadata (docs/ARCHITECTURE.md).

Exports `defs`: every asset, in the order of the stages, for the code location.
"""

import dagster as dg

from assets.cohort import cohort_tables
from assets.comparison import comparison_pool, comparison_tables
from assets.delivery import current_delivery
from assets.journeys import treatment_journeys
from assets.linkage import linkage_assets
from assets.outcomes import outcome_table
from assets.raw import landing, raw_delivery
from assets.reference import reference_assets
from assets.replication import replication
from assets.report import report_assets
from assets.sensitivity import linkage_sensitivity
from assets.staging import staged_delivery
from assets.trends import trends_assets

defs = dg.Definitions(
    assets=[
        *reference_assets, landing, raw_delivery, staged_delivery, *linkage_assets,
        treatment_journeys, *comparison_pool, current_delivery, cohort_tables, outcome_table,
        comparison_tables, replication, linkage_sensitivity,
        *report_assets,
        *trends_assets,
    ],
)
