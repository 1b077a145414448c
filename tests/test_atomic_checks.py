"""Issue 12: a refresh stopped by a blocking check, or by a defective delivery, switches
nothing: a cohort year run afterwards gives exactly the tables of the previous delivery's
clean run. And every blocking check of the refresh guards an asset the switch waits for."""

import csv
import io
import shutil
from dataclasses import replace

import dagster as dg
import pytest

from assets.delivery import DELIVERY_ASSETS
from checks import all_asset_checks
from dagster_project.cli.runs import execute_job, failure_messages
from dagster_project.settings import Settings
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.warehouse.engine import Warehouse
from tests.atomic_support import (
    COHORT_YEAR,
    NEW,
    OLD,
    assert_same_tables,
    cohort_tables,
    own_database,
)
from tests.defective_deliveries import DEFECTS, make_defective
from tests.delivery_factory import write_manifest

pytestmark = pytest.mark.slow
EPISODES = "ndtms_episodes.csv"


def _header_only_episodes(folder):
    header = (folder / EPISODES).read_text(encoding="utf-8").splitlines()[0]
    (folder / EPISODES).write_text(header + "\n", encoding="utf-8")
    write_manifest(folder)


def _nul_byte(folder):
    data = (folder / EPISODES).read_bytes()
    lines = data.split(b"\n")
    lines[5] = lines[5].replace(b",", b"\x00,", 1)  # into the first field of a data row
    (folder / EPISODES).write_bytes(b"\n".join(lines))
    write_manifest(folder)


def _rows_of(folder):
    return list(csv.reader(io.StringIO((folder / EPISODES).read_text(encoding="utf-8"))))


# the issue's own defective deliveries, beside the check tests' ones that stop a refresh
ISSUE_DEFECTS = {"header_only_episodes": _header_only_episodes, "nul_byte": _nul_byte}
STOPPING = [name for name, (_, stop) in DEFECTS.items() if stop.step is not None]
# a blocking check's stop and the issue's two defects run the cohort year itself (time budget)
RUN_A_COHORT_YEAR = {"dob_all_iso", *ISSUE_DEFECTS}


def test_every_blocking_check_of_the_refresh_guards_what_the_switch_waits_for():
    """Dagster skips the assets downstream of a failed blocking check: each blocking check on
    a delivery-level table is on an asset `current_delivery` depends on, so no failed check
    can be followed by a switch."""
    waited_for = {key for a in DELIVERY_ASSETS for key in a.keys}
    blocking = {spec.asset_key for checks in all_asset_checks for spec in checks.check_specs
                if spec.blocking}
    delivery_level = {k for k in blocking if k in waited_for}
    assert len(delivery_level) >= 8, delivery_level  # raw, staging, linkage and journeys
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    upstream = graph.get(dg.AssetKey("current_delivery")).parent_keys
    assert waited_for <= upstream


def _old_delivery_loaded(base, warehouse_url: str):
    """A warehouse loaded with the old delivery and its cohort year; the clean new delivery
    to damage. Yields (instance, landing, clean new delivery, old tables, url)."""
    old = generate_delivery(replace(SynthConfig.for_scale("tiny"), extract_date=OLD),
                            out=base / "landing", seed=5)
    new = generate_delivery(replace(SynthConfig.for_scale("tiny"), extract_date=NEW),
                            out=base / "clean", seed=11)
    env = {
        "RECONVICTION_LANDING_DIR": str(base / "landing"),
        "RECONVICTION_WAREHOUSE_URL": warehouse_url,
        "RECONVICTION_OUTPUT_DIR": str(base / "reports"),
        "RECONVICTION_LINKAGE_METHOD": "deterministic",
        "RECONVICTION_PSEUDONYM_KEY": "issue-12-test-key",
        "DAGSTER_HOME": str(base / "dagster_home"),
    }
    (base / "dagster_home").mkdir()
    with pytest.MonkeyPatch.context() as patch, dg.instance_for_test() as instance:
        for name, value in env.items():
            patch.setenv(name, value)
        assert execute_job("refresh_delivery", instance).success
        assert execute_job("cohort_year", instance, partition_key=COHORT_YEAR).success
        yield instance, old.parent, new, cohort_tables(warehouse_url), warehouse_url


@pytest.fixture(scope="module")
def warehouse_with_old_delivery(tmp_path_factory):
    base = tmp_path_factory.mktemp("atomic_checks")
    yield from _old_delivery_loaded(base, f"duckdb:///{base / 'warehouse.duckdb'}")


@pytest.fixture(scope="module")
def postgres_with_old_delivery(tmp_path_factory, postgres_url):
    """The same on PostgreSQL, in a database of its own (schemas are per delivery)."""
    with own_database(postgres_url, "reconviction_stops") as url:
        yield from _old_delivery_loaded(tmp_path_factory.mktemp("atomic_checks_pg"), url)


def _stopped_refresh_switches_nothing(loaded, defect):
    instance, landing, clean_new, old_tables, url = loaded
    shutil.rmtree(landing / NEW, ignore_errors=True)
    if defect in DEFECTS:
        make_defective(clean_new, landing, defect)
    else:
        ISSUE_DEFECTS[defect](shutil.copytree(clean_new, landing / NEW))
    schema_before = Warehouse(url).search_path()
    refresh = execute_job("refresh_delivery", instance)
    assert not refresh.success
    assert Warehouse(url).search_path() == schema_before
    if defect not in RUN_A_COHORT_YEAR:
        return  # readers' schema is the one before: a cohort year reads what it read (time)
    year = execute_job("cohort_year", instance, partition_key=COHORT_YEAR)
    assert year.success, failure_messages(year)
    assert_same_tables(cohort_tables(url), old_tables)
    assert Settings.from_env().warehouse_url == url


@pytest.mark.parametrize("defect", [*STOPPING, *ISSUE_DEFECTS])
def test_a_stopped_refresh_leaves_cohort_years_on_the_previous_delivery(
    warehouse_with_old_delivery, defect
):
    _stopped_refresh_switches_nothing(warehouse_with_old_delivery, defect)


@pytest.mark.postgres
@pytest.mark.parametrize("defect", [*STOPPING, *ISSUE_DEFECTS])
def test_a_stopped_refresh_leaves_cohort_years_on_the_previous_delivery_on_postgres(
    postgres_with_old_delivery, defect
):
    # the NUL byte is the issue's PostgreSQL case: COPY failed after raw was replaced
    _stopped_refresh_switches_nothing(postgres_with_old_delivery, defect)
