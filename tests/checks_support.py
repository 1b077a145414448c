"""Shared by the check tests: Definitions with every check (built here rather than from
`dagster_project.definitions`, which the lead wires), and a clean tiny warehouse.

Exports `check_definitions`, `run_job`, `clean_run`, `ENV`.
"""

import shutil

import dagster as dg
import pytest

from assets.cohort import cohort_tables
from assets.comparison import comparison_pool, comparison_tables
from assets.delivery import current_delivery
from assets.journeys import treatment_journeys
from assets.linkage import linkage_assets
from assets.outcomes import outcome_table
from assets.raw import landing, raw_delivery
from assets.reference import reference_assets
from assets.replication import replication
from assets.sensitivity import linkage_sensitivity
from assets.staging import staged_delivery
from checks import all_asset_checks
from checks.accounting import row_accounting_checks
from dagster_project.partitions import cohort_years
from dagster_project.resources import build_resources
from dagster_project.synth import SynthConfig, generate_delivery

ASSETS = [
    *reference_assets, landing, raw_delivery, staged_delivery, *linkage_assets,
    treatment_journeys, comparison_pool, current_delivery, cohort_tables, outcome_table,
    replication, linkage_sensitivity, comparison_tables,
]
COHORT_YEAR = "2006-07"


def check_definitions(with_checks: bool = True) -> dg.Definitions:
    """The code location's assets and jobs, with all checks or with row accounting only."""
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=all_asset_checks if with_checks else [row_accounting_checks],
        jobs=[
            dg.define_asset_job("refresh_delivery", selection=dg.AssetSelection.groups(
                "reference", "raw", "staging", "linkage", "journeys", "comparison_pool",
                "delivery")),
            dg.define_asset_job("cohort_year", selection=dg.AssetSelection.groups(
                "cohort", "outcomes", "comparison"), partitions_def=cohort_years),
        ],
        resources=build_resources(),
    )


def run_job(defs: dg.Definitions, name: str, instance, **kwargs) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(name).execute_in_process(
        instance=instance, raise_on_error=False, **kwargs)


def environment(base) -> dict[str, str]:
    return {
        "RECONVICTION_LANDING_DIR": str(base / "landing"),
        "RECONVICTION_WAREHOUSE_URL": f"duckdb:///{base / 'warehouse.duckdb'}",
        "DAGSTER_HOME": str(base / "dagster_home"),
        "RECONVICTION_LINKAGE_METHOD": "deterministic",
    }


def tiny_delivery(base):
    return generate_delivery(SynthConfig.for_scale("tiny"), out=base / "synth", seed=5)


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory):
    """A clean tiny delivery run through refresh and one cohort year with every check:
    (environment, clean delivery folder, refresh result, cohort-year result)."""
    base = tmp_path_factory.mktemp("clean_checks")
    clean = tiny_delivery(base)
    env = environment(base)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        (base / "dagster_home").mkdir()
        shutil.copytree(clean, base / "landing" / clean.name)
        defs = check_definitions()
        with dg.instance_for_test() as instance:
            refresh = run_job(defs, "refresh_delivery", instance)
            year = run_job(defs, "cohort_year", instance, partition_key=COHORT_YEAR)
    return env, clean, refresh, year
