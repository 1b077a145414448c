"""Backfills of cohort years from the command line: four years in parallel runs on one embedded
DuckDB warehouse give exactly the tables of a sequential backfill; and the trends across them."""

import shutil

import dagster as dg
import pandas as pd
import pytest

from dagster_project.analysis.trends import cohort_trends
from dagster_project.cli.backfill import parse_cohort_years
from dagster_project.cli.main import main
from dagster_project.cli.runs import execute_job
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.warehouse.engine import Warehouse

# a delivery of 31 October 2012 covers cohort years up to 2009-10 (METHOD.md §2)
EXTRACT_DATE = "2012-10-31"
YEARS = ["2005-06", "2006-07", "2007-08", "2008-09"]
PER_YEAR_TABLES = [
    "cohort_funnel", "cohort_members", "cohort_convictions_by_group", "outcome_table",
    "replication",
]


def test_parse_cohort_years():
    assert parse_cohort_years("2005-06:2008-09") == YEARS
    assert parse_cohort_years("2006-07,2004-05") == ["2006-07", "2004-05"]
    with pytest.raises(ValueError, match="runs backwards"):
        parse_cohort_years("2008-09:2005-06")
    with pytest.raises(ValueError, match="not a cohort year"):
        parse_cohort_years("2003-04:2005-06")


def test_trends_put_cohort_years_side_by_side():
    outcomes = pd.DataFrame({
        "cohort_year": ["2007-08", "2006-07", "2006-07", "2006-07"],
        "dimension": ["all", "all", "sex", "drug_group"],
        "group": ["all", "all", "female", "opiates"],
        "n": [10, 20, 5, 7], "before": [30, 40, 9, None], "after": [20, 20, 3, 4],
        "reduction": [1 / 3, 0.5, 2 / 3, None], "ci_low": 0.1, "ci_high": 0.9,
    })
    trends = cohort_trends(outcomes)
    assert list(trends.columns) == ["dimension", "group", "measure", "y2006_07", "y2007_08"]
    assert list(trends["dimension"].unique()) == ["all", "drug_group"]  # sex is no headline
    row = trends.set_index(["dimension", "group", "measure"])
    assert row.loc[("all", "all", "n")].tolist() == [20, 10]
    assert row.loc[("drug_group", "opiates", "before")].isna().all()  # suppressed, or absent


def _partition_rows(warehouse: Warehouse, table: str, year: str) -> pd.DataFrame:
    rows = warehouse.read_table(table, partition=("cohort_year", year))
    columns = sorted(rows.columns)
    return rows[columns].sort_values(columns, ignore_index=True)


@pytest.mark.slow
def test_parallel_backfill_matches_sequential(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("RECONVICTION_LINKAGE_METHOD", "deterministic")
    monkeypatch.setenv("RECONVICTION_PSEUDONYM_KEY", "test-key")
    config = SynthConfig.for_scale("tiny", extract_date=EXTRACT_DATE)
    generate_delivery(config, out=data_dir / "landing", seed=5)
    with dg.instance_for_test() as instance:
        assert execute_job("refresh_delivery", instance).success
    loaded = data_dir / "warehouse.duckdb"
    warehouses = {}
    for mode, parallel in (("sequential", "1"), ("parallel", "4")):
        # each backfill starts from the same refreshed warehouse, in a file of its own
        path = data_dir / f"{mode}.duckdb"
        shutil.copy(loaded, path)
        monkeypatch.setenv("RECONVICTION_WAREHOUSE_URL", f"duckdb:///{path}")
        assert main(["backfill", f"{YEARS[0]}:{YEARS[-1]}", "--parallel", parallel]) == 0
        warehouses[mode] = Warehouse(f"duckdb:///{path}")
    out = capsys.readouterr().out
    assert out.count("backfill ") == 2 and "4/4 cohort years" in out

    sequential, parallel = warehouses["sequential"], warehouses["parallel"]
    for table in PER_YEAR_TABLES:
        assert parallel.partitions(table, "cohort_year") == YEARS, table
        for year in YEARS:
            expected = _partition_rows(sequential, table, year)
            assert len(expected) > 0, (table, year)
            pd.testing.assert_frame_equal(_partition_rows(parallel, table, year), expected)
    trends = parallel.read_table("cohort_trends")
    pd.testing.assert_frame_equal(trends, sequential.read_table("cohort_trends"))
    assert [c for c in trends.columns if c.startswith("y")] == [
        "y2005_06", "y2006_07", "y2007_08", "y2008_09",
    ]
    # the runs are in the instance, each tagged with its backfill
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(job_name="cohort_year"))
    assert sorted(r.tags["dagster/partition"] for r in runs) == sorted(YEARS * 2)
    assert len({r.tags["reconviction/backfill"] for r in runs}) == 2
