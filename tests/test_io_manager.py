"""The warehouse IO manager in real Dagster materialisations, on DuckDB and PostgreSQL."""


import dagster as dg
import pandas as pd
import pytest

from dagster_project.orchestration.io_manager import (
    WarehouseIOManager,
    WarehouseResource,
    table_name,
)
from dagster_project.warehouse.engine import Warehouse

COHORT_YEARS = dg.StaticPartitionsDefinition(["2006-07", "2007-08", "2008-09"])
STARTERS_PER_YEAR = {"2006-07": 3, "2007-08": 2, "2008-09": 4}


@dg.asset(partitions_def=COHORT_YEARS, key_prefix=["cohort"])
def starters(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """Treatment starters of one cohort year."""
    n = STARTERS_PER_YEAR[context.partition_key]
    return pd.DataFrame({"person_key": [f"p{i}" for i in range(n)], "age": range(20, 20 + n)})


@dg.asset(partitions_def=COHORT_YEARS, ins={"starters": dg.AssetIn(key=["cohort", "starters"])})
def starters_seen(starters: pd.DataFrame) -> pd.DataFrame:
    """What a partitioned downstream receives: the years and rows of its input."""
    years = ",".join(sorted(starters["cohort_year"].unique()))
    return pd.DataFrame({"rows_seen": [len(starters)], "years_seen": [years]})


@dg.asset(ins={"starters": dg.AssetIn(key=["cohort", "starters"])})
def all_starters(starters: pd.DataFrame) -> pd.DataFrame:
    """An unpartitioned downstream: every cohort year."""
    return starters


@dg.asset(partitions_def=COHORT_YEARS)
def starters_of_a_range(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """One DataFrame for a whole range of cohort years."""
    return pd.DataFrame({"year": context.partition_keys})


@dg.asset
def nothing_stored():
    """Returns None: the IO manager must store nothing."""
    return None


@pytest.fixture
def url(warehouse_url, monkeypatch):
    # the warehouse resources take their URL from the settings, i.e. the environment
    monkeypatch.setenv("RECONVICTION_WAREHOUSE_URL", warehouse_url)
    return warehouse_url


def run(url: str, assets, partition_key: str | None = None, **kwargs) -> dg.ExecuteInProcessResult:
    resources = {"io_manager": WarehouseIOManager()}
    result = dg.materialize(assets, resources=resources, partition_key=partition_key, **kwargs)
    assert result.success
    return result


def test_table_name_joins_the_key_path():
    assert table_name(dg.AssetKey(["cohort", "starters"])) == "cohort_starters"


def test_partitions_are_rewritten_not_duplicated(url):
    wh = Warehouse(url)
    result = run(url, [starters, starters_seen], "2006-07")
    assert wh.row_count("cohort_starters") == 3
    assert wh.partitions("cohort_starters", "cohort_year") == ["2006-07"]
    (materialization,) = result.asset_materializations_for_node("cohort__starters")
    assert materialization.metadata["dagster/row_count"].value == 3

    run(url, [starters, starters_seen], "2006-07")  # a rerun changes nothing
    assert wh.row_count("cohort_starters") == 3
    assert wh.row_count("starters_seen") == 1

    run(url, [starters, starters_seen], "2007-08")  # another year adds its rows
    assert wh.row_count("cohort_starters") == 5
    seen = wh.read_table("starters_seen").sort_values("cohort_year")
    # each downstream partition read only its own cohort year
    assert seen["rows_seen"].tolist() == [3, 2]
    assert seen["years_seen"].tolist() == ["2006-07", "2007-08"]
    assert seen["cohort_year"].tolist() == ["2006-07", "2007-08"]


def test_unpartitioned_downstream_reads_every_partition(url):
    for key in ("2006-07", "2007-08", "2008-09"):
        run(url, [starters], key)
    run(url, [starters, all_starters], selection=[all_starters])
    back = Warehouse(url).read_table("all_starters")
    assert len(back) == 9
    assert back.groupby("cohort_year").size().to_dict() == STARTERS_PER_YEAR


def test_none_output_stores_nothing(url):
    run(url, [nothing_stored])
    assert not Warehouse(url).table_exists("nothing_stored")


def test_partition_range_in_one_run_is_refused(url):
    tags = {
        "dagster/asset_partition_range_start": "2006-07",
        "dagster/asset_partition_range_end": "2007-08",
    }
    resources = {"io_manager": WarehouseIOManager()}
    result = dg.materialize(
        [starters_of_a_range], resources=resources, tags=tags, raise_on_error=False
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    error, messages = failure.step_failure_data.error, []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    assert any("cannot store one output for 2 partitions" in m for m in messages), messages
    assert not Warehouse(url).table_exists("starters_of_a_range")


def test_resource_gives_a_warehouse(url):
    wh = WarehouseResource().warehouse()
    wh.write_table("probe", pd.DataFrame({"a": [1, 2]}))
    assert wh.query("SELECT sum(a) AS s FROM probe")["s"].tolist() == [3]
