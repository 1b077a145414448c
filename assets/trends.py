"""Trends stage: every materialised cohort year's headline rows side by side.

Unpartitioned, downstream of every partition of `outcome_table`: its input is read from the
warehouse for all cohort years at once, and the years never materialised simply have no rows.
It refreshes itself (declarative automation, when the automation sensor is on) after any
cohort year's outcome table changes, once no cohort-year run is still writing.

Exports `cohort_trends`, `trends_assets`.
"""

import dagster as dg
import pandas as pd

from dagster_project.analysis.trends import cohort_trends as tabulate_trends
from dagster_project.analysis.trends import year_column
from dagster_project.orchestration.metadata import table_metadata
from dagster_project.vocabulary.groups import TRENDS_GROUP
from dagster_project.vocabulary.partition import PARTITION_COLUMN

# eager() waits for every upstream partition to exist; most cohort years never will (immature
# or simply not analysed), so that part of eager() is dropped.
_AUTOMATION = (
    dg.AutomationCondition.eager()
    .without(~dg.AutomationCondition.any_deps_missing())
    .with_label("eager_allow_missing")
)


@dg.asset(group_name=TRENDS_GROUP, kinds={"pandas"}, automation_condition=_AUTOMATION)
def cohort_trends(outcome_table: pd.DataFrame) -> dg.MaterializeResult:
    """Headline outcomes (all, drug group, referral route, retention, exit) of every analysed
    cohort year side by side: n, convictions before and after, reduction and its 95% CI."""
    trends = tabulate_trends(outcome_table)
    years = sorted(outcome_table[PARTITION_COLUMN].unique())
    reductions = trends[trends["measure"] == "reduction"].drop(columns="measure")
    reductions = reductions.rename(columns={year_column(y): y for y in years})
    return dg.MaterializeResult(
        value=trends,
        metadata=table_metadata(
            trends,
            cohort_years=dg.MetadataValue.json(years),
            reductions=dg.MetadataValue.md(reductions.to_markdown(index=False, floatfmt=".3f")),
        ),
    )


trends_assets = [cohort_trends]
