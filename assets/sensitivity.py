"""Linkage sensitivity, per cohort year (METHOD.md §7, §8): the headline rows under the NTA
rule and under the probabilistic rule at each threshold, from the links made once per
delivery.

Exports `linkage_sensitivity`.
"""

import dagster as dg
import pandas as pd

from dagster_project.analysis.sensitivity import (
    ALTERNATIVE_OFFENCES,
    linkage_sensitivity_table,
    offences_for_year,
)
from dagster_project.orchestration.io_manager import WarehouseResource
from dagster_project.orchestration.metadata import settings_metadata, table_metadata
from dagster_project.orchestration.partitions import cohort_years
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.vocabulary.groups import OUTCOMES_GROUP

SUMMARY_COLUMNS = ["method", "match_threshold", "study_population", "cohort", "n", "reduction",
                   "ci_low", "ci_high"]


@dg.asset(partitions_def=cohort_years, group_name=OUTCOMES_GROUP, kinds={"pandas"},
          deps=[ALTERNATIVE_OFFENCES])
def linkage_sensitivity(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    warehouse: WarehouseResource,
    treatment_journeys: pd.DataFrame,
    linkage_alternatives: pd.DataFrame,
) -> dg.MaterializeResult:
    """Every headline figure (the `all` row and the reproduced combinations) under each
    linkage rule and threshold, with the study population and cohort at each (published:
    disclosure-controlled, rows that differ from another rule's by 1–4 persons blanked)."""
    run_settings, cohort_year = settings.get(), context.partition_key
    offences = offences_for_year(warehouse.warehouse(), cohort_year, treatment_journeys,
                                 linkage_alternatives)
    table = linkage_sensitivity_table(
        cohort_year, run_settings, journeys=treatment_journeys,
        alternatives=linkage_alternatives, offences=offences,
    )
    summary = table.loc[table["dimension"].eq("all"), SUMMARY_COLUMNS]
    return dg.MaterializeResult(
        value=table,
        metadata=table_metadata(
            table,
            headline=dg.MetadataValue.md(summary.to_markdown(index=False, floatfmt=".3f")),
            **settings_metadata(run_settings),
        ),
    )
