"""Shared by the check tests: the code location's own `defs` (every asset, check and job, as
`dagster dev` loads them), and a clean tiny warehouse.

Exports `check_definitions`, `run_job`, `clean_run`, `COHORT_YEAR`.
"""

import shutil

import dagster as dg
import pytest

from dagster_project.definitions import defs
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.vocabulary.job_names import COHORT_YEAR_JOB, REFRESH_JOB

COHORT_YEAR = "2006-07"


def check_definitions() -> dg.Definitions:
    """The code location's definitions: the tests run what production runs."""
    return defs


def run_job(defs: dg.Definitions, name: str, instance, **kwargs) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(name).execute_in_process(
        instance=instance, raise_on_error=False, **kwargs)


def environment(base) -> dict[str, str]:
    return {
        "RECONVICTION_LANDING_DIR": str(base / "landing"),
        "RECONVICTION_WAREHOUSE_URL": f"duckdb:///{base / 'warehouse.duckdb'}",
        "DAGSTER_HOME": str(base / "dagster_home"),
        "RECONVICTION_LINKAGE_METHOD": "deterministic",
        "RECONVICTION_OUTPUT_DIR": str(base / "reports"),
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
        with dg.instance_for_test() as instance:
            refresh = run_job(defs, REFRESH_JOB, instance)
            year = run_job(defs, COHORT_YEAR_JOB, instance, partition_key=COHORT_YEAR)
    return env, clean, refresh, year
