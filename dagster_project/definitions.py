"""The code location: `dagster dev` and `dagster asset materialize -m dagster_project.definitions`.

Exports `defs`.
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
from checks import all_asset_checks
from dagster_project.cli.progress import CLI_LOGGER, cli_logger
from dagster_project.orchestration.jobs import cohort_year_job, refresh_delivery_job, trends_job
from dagster_project.orchestration.resources import build_resources
from dagster_project.orchestration.schedules import schedules
from dagster_project.orchestration.sensors import sensors

defs = dg.Definitions(
    assets=[
        *reference_assets, landing, raw_delivery, staged_delivery, *linkage_assets,
        treatment_journeys, comparison_pool, current_delivery, cohort_tables, outcome_table,
        comparison_tables, replication, linkage_sensitivity,
        *report_assets,
        *trends_assets,
    ],
    asset_checks=all_asset_checks,
    jobs=[refresh_delivery_job, cohort_year_job, trends_job],
    schedules=schedules,
    sensors=sensors,
    resources=build_resources(),
    # the console logger stays the default; the CLI picks its own (events to a log file)
    loggers={"console": dg.colored_console_logger, CLI_LOGGER: cli_logger},
)
