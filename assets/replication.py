"""The published figures of the 2012 study beside this pipeline's, under both linkage rules.

The configured rule's figures come from the cohort year's own tables; the other rule's from
the links the linkage stage made for it once per delivery (`linkage_alternatives`).

Exports `replication`.
"""

import dagster as dg
import pandas as pd

from dagster_project.analysis.replication import replication_table
from dagster_project.analysis.sensitivity import (
    ALTERNATIVE_OFFENCES,
    cohort_year_under,
    offences_for_year,
)
from dagster_project.orchestration.io_manager import WarehouseResource
from dagster_project.orchestration.metadata import settings_metadata, table_metadata
from dagster_project.orchestration.partitions import cohort_years
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.settings import LINKAGE_METHODS
from dagster_project.vocabulary.groups import OUTCOMES_GROUP


@dg.asset(
    partitions_def=cohort_years,
    group_name=OUTCOMES_GROUP,
    kinds={"pandas"},
    deps=["treatment_journeys", "linkage_alternatives", ALTERNATIVE_OFFENCES],
)
def replication(context: dg.AssetExecutionContext, settings: SettingsResource,
                warehouse: WarehouseResource, cohort_funnel: pd.DataFrame,
                outcome_table: pd.DataFrame) -> dg.MaterializeResult:
    """Each figure of REFERENCE_FIGURES.md (F1–F25) beside the pipeline's, for both linkage
    rules, with pass/fail against the tolerance (counts ±5%, reductions ±3 points)."""
    run_settings, wh = settings.get(), warehouse.warehouse()
    tables = {run_settings.linkage_method: (cohort_funnel, outcome_table)}
    journeys, alternatives = wh.read_table("treatment_journeys"), wh.read_table(
        "linkage_alternatives")
    inputs = {
        "journeys": journeys, "alternatives": alternatives,
        "offences": offences_for_year(wh, context.partition_key, journeys, alternatives),
    }
    for method in LINKAGE_METHODS:
        if method not in tables:
            # the other rule's links were made once for the delivery: nothing is linked here
            threshold = None if method == "deterministic" else run_settings.match_threshold
            other = cohort_year_under(method, threshold, context.partition_key, run_settings,
                                      **inputs)
            tables[method] = (other.funnel, other.outcomes)
    rows = [replication_table(f, o, method) for method, (f, o) in tables.items()]
    table = pd.concat(rows, ignore_index=True)
    wide = table.pivot(index=["id", "figure", "published"], columns="method",
                       values=["pipeline", "passes"])
    wide.columns = [f"{value}_{method}" for value, method in wide.columns]
    wide = wide.reset_index().sort_values("id", key=lambda s: s.str[1:].astype(int))
    passed = {m: int(table.query("method == @m")["passes"].sum()) for m in tables}
    return dg.MaterializeResult(
        value=wide.reset_index(drop=True),
        metadata=table_metadata(
            wide, preview=False,
            replication=dg.MetadataValue.md(wide.to_markdown(index=False)),
            **{f"figures_passed_{m}": n for m, n in passed.items()},
            **settings_metadata(run_settings),
        ),
    )
