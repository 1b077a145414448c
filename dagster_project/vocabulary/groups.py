"""Asset groups: each names a stage of the asset graph; the jobs select groups.

Exports one constant per group, `DELIVERY_GROUPS`, `COHORT_YEAR_GROUPS`, `TRENDS_GROUPS`.
"""

REFERENCE_GROUP = "reference"
RAW_GROUP = "raw"
STAGING_GROUP = "staging"
LINKAGE_GROUP = "linkage"
JOURNEYS_GROUP = "journeys"
POOL_GROUP = "comparison_pool"  # per delivery: refreshed with the delivery's stages
DELIVERY_POINTER_GROUP = "delivery"
COHORT_GROUP = "cohort"
OUTCOMES_GROUP = "outcomes"
COMPARISON_GROUP = "comparison"
REPORT_GROUP = "report"
TRENDS_GROUP = "trends"

# stages that depend only on the delivery, and stages computed per cohort year
DELIVERY_GROUPS = (
    REFERENCE_GROUP, RAW_GROUP, STAGING_GROUP, LINKAGE_GROUP, JOURNEYS_GROUP, POOL_GROUP,
    DELIVERY_POINTER_GROUP,
)
COHORT_YEAR_GROUPS = (COHORT_GROUP, OUTCOMES_GROUP, COMPARISON_GROUP, REPORT_GROUP)
TRENDS_GROUPS = (TRENDS_GROUP,)
