"""Report stage, per cohort year: the HTML report an analyst can publish, and the published
tables as CSV files and a workbook, all disclosure-controlled (METHOD.md §6).

Exports `cohort_report`, `report_assets`.
"""

from datetime import datetime

import dagster as dg
import pandas as pd

import dagster_project.report as reporting
from dagster_project.analysis.summary import extract_date_in_use
from dagster_project.orchestration.io_manager import WarehouseResource
from dagster_project.orchestration.metadata import settings_metadata
from dagster_project.orchestration.partitions import cohort_years
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.report.provenance import REPORT_FILE, is_synthetic
from dagster_project.vocabulary.groups import REPORT_GROUP
from dagster_project.vocabulary.partition import PARTITION_COLUMN

# the only cohort year the NTA study published figures for (REFERENCE_FIGURES.md)
PUBLISHED_COHORT_YEAR = "2006-07"


def _replication(warehouse, cohort_year: str) -> pd.DataFrame | None:
    """The replication table for the published cohort year, when it has been written."""
    if cohort_year != PUBLISHED_COHORT_YEAR or not warehouse.table_exists("replication"):
        return None
    table = warehouse.read_table("replication", partition=(PARTITION_COLUMN, cohort_year))
    return table.sort_values("id", key=lambda ids: ids.str[1:].astype(int)) if len(table) else None


def _partition_of(warehouse, table: str, cohort_year: str) -> pd.DataFrame | None:
    """A cohort-year table's rows for the year, when it has been written."""
    if not warehouse.table_exists(table):
        return None
    rows = warehouse.read_table(table, partition=(PARTITION_COLUMN, cohort_year))
    return rows if len(rows) else None


def _sensitivity(warehouse, cohort_year: str) -> pd.DataFrame | None:
    """The cohort year's linkage sensitivity table, when it has been written."""
    if not warehouse.table_exists("linkage_sensitivity"):
        return None
    table = warehouse.read_table("linkage_sensitivity", partition=(PARTITION_COLUMN, cohort_year))
    return table if len(table) else None


@dg.asset(
    partitions_def=cohort_years,
    group_name=REPORT_GROUP,
    kinds={"html", "csv"},
    # read from the warehouse (replication: 2006-07 only), so dependencies, not inputs
    deps=["replication", "linkage_sensitivity", "treatment_episodes", "comparison_outcomes",
          "comparison_balance"],
)
def cohort_report(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    warehouse: WarehouseResource,
    cohort_funnel: pd.DataFrame,
    outcome_table: pd.DataFrame,
) -> dg.MaterializeResult:
    """The cohort year's report (one self-contained HTML file: funnel, headline, subgroup
    charts with CIs, offence groups, published figures, method, limits, provenance) and its
    published tables as CSV and a workbook, in `$RECONVICTION_OUTPUT_DIR/<cohort year>/`."""
    run_settings, wh = settings.get(), warehouse.warehouse()
    cohort_year = context.partition_key
    replication = _replication(wh, cohort_year)
    sensitivity = _sensitivity(wh, cohort_year)
    inputs = reporting.ReportInputs(
        cohort_year=cohort_year, funnel=cohort_funnel, outcomes=outcome_table,
        settings=run_settings.as_metadata(), extract_date=extract_date_in_use(wh),
        code_version=reporting.code_version(),
        generated_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        replication=replication, sensitivity=sensitivity,
        comparison=_partition_of(wh, "comparison_outcomes", cohort_year),
        balance=_partition_of(wh, "comparison_balance", cohort_year),
        synthetic=is_synthetic(run_settings.landing_dir, extract_date_in_use(wh)),
    )
    folder = reporting.output_dir(cohort_year)
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / REPORT_FILE
    report.write_text(reporting.render_report(inputs), encoding="utf-8")
    tables = {"cohort_funnel": cohort_funnel, "outcome_table": outcome_table}
    if replication is not None:
        tables["replication"] = replication
    if sensitivity is not None:
        tables["linkage_sensitivity"] = sensitivity
    for name, table in (("comparison_outcomes", inputs.comparison),
                        ("comparison_balance", inputs.balance)):
        if table is not None:
            tables[name] = table
    files = reporting.export_tables(tables, folder, inputs.threshold)
    context.log.info(f"wrote the report {report} and {len(files)} exported files")
    headline = reporting.headline_markdown(outcome_table, inputs.threshold)
    return dg.MaterializeResult(metadata={
        "report_path": dg.MetadataValue.path(str(report)),
        "report_url": dg.MetadataValue.url(report.resolve().as_uri()),
        "exports": dg.MetadataValue.json([str(f) for f in files]),
        "headline": dg.MetadataValue.md(headline),
        "extract_date": inputs.extract_date,
        "code_version": inputs.code_version,
        **settings_metadata(run_settings),
    })


report_assets = [cohort_report]
