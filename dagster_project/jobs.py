"""Jobs: what a delivery refresh materialises.

Exports `refresh_delivery_job`, `DELIVERY_GROUPS`.
"""

import dagster as dg

# the stages that depend only on the delivery (not on a cohort year)
DELIVERY_GROUPS = ("reference", "raw", "staging")

refresh_delivery_job = dg.define_asset_job(
    "refresh_delivery",
    selection=dg.AssetSelection.groups(*DELIVERY_GROUPS),
    description="Load the newest complete delivery: reference code lists, raw and staging.",
)
