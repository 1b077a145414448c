"""Outcomes stage, per cohort year: the outcome table of METHOD.md §5 under disclosure control.

Exports `outcome_table`.
"""

import dagster as dg
import pandas as pd

from dagster_project.cohort import outcome_table as tabulate_outcomes
from dagster_project.cohort import publish_outcome_table
from dagster_project.orchestration.metadata import settings_metadata, table_metadata
from dagster_project.orchestration.partitions import cohort_years
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.vocabulary.dimensions import HEADLINE_DIMENSIONS
from dagster_project.vocabulary.groups import OUTCOMES_GROUP

HEADLINE_COLUMNS = [
    "dimension", "group", "n", "before", "after", "reduction", "ci_low", "ci_high",
    "reduction_at_risk",
]


@dg.asset(partitions_def=cohort_years, group_name=OUTCOMES_GROUP, kinds={"pandas"})
def outcome_table(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    cohort_members: pd.DataFrame,
    cohort_convictions_by_group: pd.DataFrame,
    cohort_funnel: pd.DataFrame,
) -> dg.MaterializeResult:
    """Convictions before and after, reductions with 95% CIs and time-at-risk rates, for the
    cohort and every subgroup (published: no cell of fewer than 5 persons)."""
    run_settings = settings.get()
    table = tabulate_outcomes(cohort_members, cohort_convictions_by_group, run_settings)
    # audited together with the funnel already published for the year (METHOD.md §6)
    published = publish_outcome_table(table, run_settings.disclosure_threshold, cohort_members,
                                      cohort_convictions_by_group, cohort_funnel)
    headline = published.loc[
        published["dimension"].isin(HEADLINE_DIMENSIONS), HEADLINE_COLUMNS
    ]
    return dg.MaterializeResult(
        value=published,
        metadata=table_metadata(
            published,
            headline=dg.MetadataValue.md(headline.to_markdown(index=False, floatfmt=".3f")),
            **settings_metadata(run_settings),
        ),
    )
