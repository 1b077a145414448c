"""Issue 12: a refresh killed (SIGKILL to the command's process group) after any stage leaves
readers on the previous complete delivery: a cohort year run then gives exactly the tables of
that delivery's clean run; a clean rerun gives exactly the new delivery's. On DuckDB and on
PostgreSQL."""

import shutil

import pytest

from tests.atomic_support import (
    COHORT_YEAR,
    NEW,
    OLD,
    Env,
    assert_same_tables,
    cli,
    cohort_tables,
    own_database,
    run_cohort_year_in_process,
)

pytestmark = pytest.mark.slow

# a table each stage writes, killed as soon as it is written (later stages still to come)
KILL_AFTER = {
    "raw": "raw_ndtms_episodes",
    "staging": "staging_rejects",
    "linkage": "client_links",
    "hand-over": "linked_offences",
}


@pytest.fixture(scope="module")
def new_delivery_reference(tmp_path_factory):
    """The cohort year's tables from a clean run of the new delivery alone."""
    env = Env(tmp_path_factory.mktemp("reference"), "")
    env.warehouse_url = f"duckdb:///{env.base / 'warehouse.duckdb'}"
    env.land(NEW, seed=11)
    code, output, _ = cli(env, "run", "--cohort-year", COHORT_YEAR)
    assert code == 0, output
    return cohort_tables(env.warehouse_url)


def _old_then_new(env: Env):
    """The old delivery loaded cleanly with its cohort year; the new one landed. Returns the
    old delivery's cohort-year tables."""
    env.land(OLD, seed=5)
    code, output, _ = cli(env, "run", "--cohort-year", COHORT_YEAR)
    assert code == 0, output
    old = cohort_tables(env.warehouse_url)
    env.land(NEW, seed=11)
    return old


def _kill_then_check(env: Env, stages, old, new):
    for stage in stages:
        code, output, killed = cli(env, "run", "--cohort-year", COHORT_YEAR,
                                   kill_after=KILL_AFTER[stage])
        assert killed, f"the refresh ended before {stage} was written: {output}"
        # the cohort year of the delivery in use, without a refresh (as `backfill` runs it)
        run_cohort_year_in_process(env)
        assert_same_tables(cohort_tables(env.warehouse_url), old)
    code, output, _ = cli(env, "run", "--cohort-year", COHORT_YEAR)
    assert code == 0, output
    assert_same_tables(cohort_tables(env.warehouse_url), new)


def test_killed_refresh_leaves_the_previous_delivery_on_duckdb(tmp_path, new_delivery_reference):
    env = Env(tmp_path, f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    old = _old_then_new(env)
    with pytest.raises(AssertionError):  # the two deliveries differ, or the test proves nothing
        assert_same_tables(old, new_delivery_reference)
    _kill_then_check(env, list(KILL_AFTER), old, new_delivery_reference)


@pytest.mark.postgres
def test_killed_refresh_leaves_the_previous_delivery_on_postgres(
    tmp_path, postgres_url, new_delivery_reference
):
    try:
        with own_database(postgres_url, "reconviction_atomic") as url:
            env = Env(tmp_path, url)
            old = _old_then_new(env)
            _kill_then_check(env, list(KILL_AFTER), old, new_delivery_reference)
    finally:
        shutil.rmtree(tmp_path / "landing", ignore_errors=True)


def test_a_cohort_year_is_recomputed_from_a_kept_earlier_delivery(tmp_path,
                                                                  new_delivery_reference):
    env = Env(tmp_path, f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    old = _old_then_new(env)
    code, output, _ = cli(env, "run", "--cohort-year", COHORT_YEAR)
    assert code == 0, output
    assert_same_tables(cohort_tables(env.warehouse_url), new_delivery_reference)

    code, output, _ = cli(env, "backfill", COHORT_YEAR, "--delivery", OLD, "--no-trends")
    assert code == 0, output
    assert_same_tables(cohort_tables(env.warehouse_url), old)
    # the delivery in use is still the new one, and an extract never loaded is refused
    from dagster_project.warehouse.delivery_pointer import loaded_deliveries
    from dagster_project.warehouse.engine import Warehouse

    in_use = loaded_deliveries(Warehouse(env.warehouse_url))["extract_date"].astype(str)
    assert in_use.tolist()[0] == NEW
    code, output, _ = cli(env, "backfill", COHORT_YEAR, "--delivery", "2008-10-31")
    assert code == 2 and "delivery 2008-10-31 is not kept in the warehouse (kept: " \
        f"{OLD}, {NEW})" in output
