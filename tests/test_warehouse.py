"""The warehouse on both backends: types round-trip, rewrites are atomic and idempotent, and
parallel processes share a DuckDB file."""

import datetime as dt
import multiprocessing
import time

import duckdb
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pytest
import sqlalchemy as sa

from dagster_project.warehouse.engine import Warehouse

COHORT = "cohort_year"


@pytest.fixture
def url(warehouse_url):
    return warehouse_url


@pytest.fixture
def wh(url):
    return Warehouse(url, lock_timeout=30)


def every_type() -> pd.DataFrame:
    """One column per supported type, each with a NULL, and awkward text."""
    return pd.DataFrame(
        {
            "name": pd.array(
                ["Zoë", None, "", 'O\'Brien, "Jr"\nline two', "NULL", "a,b;c\\d\t"], dtype="str"
            ),
            "count_n": pd.array([1, None, -3, 2**62, 0, 7], dtype="Int64"),
            "plain_int": np.arange(6, dtype="int64"),
            "ratio": [1.5, np.nan, 1e300, 0.1, -2.25, 0.0],
            "flag": pd.array([True, None, False, True, False, True], dtype="boolean"),
            "plain_flag": [True, False, True, True, False, False],
            "born": [dt.date(1970, 1, 1), None, dt.date(1900, 2, 28), dt.date(2020, 2, 29)]
            + [dt.date(2006, 4, 1), dt.date(2099, 12, 31)],
            "seen_at": pd.to_datetime(
                ["2020-01-01 10:00:00.123456", None, "2006-04-01 00:00:00.000000"]
                + ["1999-12-31 23:59:59.999999", "2010-06-15 12:30:00.000000"]
                + ["2030-01-01 00:00:00.000000"]
            ),
        }
    )


def test_every_type_round_trips_with_nulls(wh):
    df = every_type()
    assert wh.write_table("people", df) == 6
    back = wh.read_table("people")

    assert list(back.columns) == list(df.columns)
    assert back["name"].dtype == "str"
    assert back["count_n"].dtype == "Int64"
    assert back["plain_int"].dtype == "int64"
    assert back["ratio"].dtype == "float64"
    assert back["flag"].dtype == "boolean"
    assert back["plain_flag"].dtype == "bool"
    assert back["born"].dtype.kind == "M" and back["seen_at"].dtype.kind == "M"
    # NULL and the empty string stay distinct; "NULL" is text, not a null.
    assert back["name"].isna().tolist() == [False, True, False, False, False, False]
    assert back["name"].tolist()[2:] == ["", 'O\'Brien, "Jr"\nline two', "NULL", "a,b;c\\d\t"]
    assert back["name"][0] == "Zoë"
    pd.testing.assert_series_equal(back["count_n"], df["count_n"])
    pd.testing.assert_series_equal(back["ratio"], df["ratio"])
    pd.testing.assert_series_equal(back["flag"], df["flag"])
    expected_born = pd.to_datetime(pd.Series(df["born"], dtype="object"))
    assert back["born"].tolist() == expected_born.tolist()
    assert back["seen_at"].tolist() == df["seen_at"].tolist()


def test_empty_dataframe_creates_the_table(wh):
    empty = every_type().head(0)
    assert wh.write_table("nobody", empty) == 0
    assert wh.table_exists("nobody")
    back = wh.read_table("nobody")
    assert back.empty and list(back.columns) == list(empty.columns)
    assert wh.columns("nobody")["count_n"] == "integer"


def test_full_replace_is_idempotent_and_follows_new_columns(wh):
    df = every_type()
    wh.write_table("people", df)
    wh.write_table("people", df)
    assert wh.row_count("people") == 6
    wh.write_table("people", pd.DataFrame({"other": ["x", "y"]}))
    assert list(wh.read_table("people").columns) == ["other"]
    assert wh.row_count("people") == 2


def starters(n: int, tag: str = "a") -> pd.DataFrame:
    return pd.DataFrame({"person_key": [f"{tag}{i}" for i in range(n)], "age": range(n)})


def test_partition_rewrite_replaces_only_that_partition(wh):
    wh.write_table("starts", starters(3), partition=(COHORT, "2006-07"))
    wh.write_table("starts", starters(4), partition=(COHORT, "2007-08"))
    wh.write_table("starts", starters(2, "b"), partition=(COHORT, "2006-07"))
    wh.write_table("starts", starters(2, "b"), partition=(COHORT, "2006-07"))

    assert wh.partitions("starts", COHORT) == ["2006-07", "2007-08"]
    assert wh.row_count("starts", (COHORT, "2006-07")) == 2
    assert wh.row_count("starts", (COHORT, "2007-08")) == 4
    first = wh.read_table("starts", partition=(COHORT, "2006-07"))
    assert sorted(first["person_key"]) == ["b0", "b1"]
    both = wh.read_table("starts", partition=(COHORT, ["2006-07", "2007-08"]), columns=["age"])
    assert list(both.columns) == ["age"] and len(both) == 6


def test_partition_write_adds_columns_and_refuses_type_conflicts(wh):
    wh.write_table("starts", starters(3), partition=(COHORT, "2006-07"))
    wider = starters(2).assign(sex=["F", "M"])
    wh.write_table("starts", wider, partition=(COHORT, "2007-08"))
    back = wh.read_table("starts", partition=(COHORT, "2006-07"))
    assert back["sex"].isna().all()

    clash = starters(2).assign(age=["old", "young"])
    with pytest.raises(ValueError, match="starts.age is integer"):
        wh.write_table("starts", clash, partition=(COHORT, "2006-07"))
    assert wh.row_count("starts", (COHORT, "2006-07")) == 3


def test_partition_values_in_the_frame_must_match(wh):
    wrong = starters(2).assign(cohort_year=["2006-07", "2008-09"])
    with pytest.raises(ValueError, match="other than the partition"):
        wh.write_table("starts", wrong, partition=(COHORT, "2006-07"))


def test_partition_write_refuses_an_unpartitioned_table(wh):
    wh.write_table("starts", starters(3))
    with pytest.raises(ValueError, match="without partition column"):
        wh.write_table("starts", starters(2), partition=(COHORT, "2006-07"))
    assert wh.row_count("starts") == 3


def test_in_memory_duckdb_keeps_its_tables_between_operations():
    wh = Warehouse("duckdb:///:memory:")
    wh.write_table("starts", starters(2))
    assert wh.row_count("starts") == 2


def fail_after_clearing(monkeypatch, only: str | None = None):
    """Make the bulk insert fail, after the old rows were deleted in the same transaction."""
    original = Warehouse._bulk_insert

    def broken(self, conn, name, frame):
        if only is None or name == only:
            raise RuntimeError("disk full")
        return original(self, conn, name, frame)

    monkeypatch.setattr(Warehouse, "_bulk_insert", broken)


def test_failed_partition_write_keeps_previous_rows(wh, monkeypatch):
    wh.write_table("starts", starters(3), partition=(COHORT, "2006-07"))
    fail_after_clearing(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        wh.write_table("starts", starters(5, "b"), partition=(COHORT, "2006-07"))
    assert sorted(wh.read_table("starts")["person_key"]) == ["a0", "a1", "a2"]


def test_failed_full_replace_keeps_previous_table(wh, monkeypatch):
    wh.write_table("people", starters(3))
    fail_after_clearing(monkeypatch)
    with pytest.raises(RuntimeError):
        wh.write_table("people", pd.DataFrame({"other": [1]}))  # would recreate the table
    assert list(wh.read_table("people").columns) == ["person_key", "age"]
    assert wh.row_count("people") == 3


def test_write_tables_is_all_or_nothing(wh, monkeypatch):
    assert wh.write_tables({"first": starters(2), "second": starters(3)}) == {
        "first": 2,
        "second": 3,
    }
    fail_after_clearing(monkeypatch, only="second")
    with pytest.raises(RuntimeError):
        wh.write_tables({"first": starters(9), "second": starters(9), "third": starters(1)})
    assert wh.row_count("first") == 2 and wh.row_count("second") == 3
    assert not wh.table_exists("third")


def test_write_tables_takes_slices_and_a_failing_slice_rolls_every_table_back(wh):
    def slices(n: int, fail_after: int | None = None):
        for i in range(n):
            if i == fail_after:
                raise RuntimeError("malformed record")
            yield pa.Table.from_pandas(starters(2).assign(age=[2 * i, 2 * i + 1]),
                                       preserve_index=False)

    assert wh.write_tables({"first": slices(3), "second": starters(1)}) == {
        "first": 6, "second": 1}
    assert sorted(wh.read_table("first")["age"]) == list(range(6))
    with pytest.raises(RuntimeError, match="malformed"):
        wh.write_tables({"first": slices(5, fail_after=3), "second": starters(4)})
    assert wh.row_count("first") == 6 and wh.row_count("second") == 1
    assert not wh.table_exists("first__loading")  # the half-loaded shadow is gone
    with pytest.raises(ValueError, match="not even an empty slice"):
        wh.write_tables({"first": iter([])})
    assert wh.row_count("first") == 6


def test_a_query_joins_a_small_frame_inside_the_engine(wh):
    wh.write_table("starts", starters(5))
    keys = pd.DataFrame({"person_key": ["a1", "a3", "zz"], "weight": [0.5, 2.0, 9.0]})
    found = wh.query("SELECT s.age, k.weight FROM starts s JOIN wanted k USING (person_key) "
                     "ORDER BY s.age", frames={"wanted": keys})
    assert found.to_dict("list") == {"age": [1, 3], "weight": [0.5, 2.0]}
    # seen by that statement only
    with pytest.raises((sa.exc.DBAPIError, duckdb.Error, psycopg.Error), match="wanted"):
        wh.query("SELECT * FROM wanted")


def test_read_rows_reads_only_the_rows_of_the_values_given(wh):
    wh.write_table("starts", pd.concat([starters(5), starters(2)], ignore_index=True))
    found = wh.read_rows("starts", "person_key", pd.Series(["a1", "a4", None, "a1", "nobody"]))
    pairs = sorted(zip(found["person_key"], found["age"], strict=True))
    assert pairs == [("a1", 1), ("a1", 1), ("a4", 4)]
    assert list(found.columns) == ["person_key", "age"]
    none = wh.read_rows("starts", "person_key", [])
    assert none.empty and list(none.columns) == ["person_key", "age"]


def test_a_stream_is_the_table_in_its_order_a_slice_at_a_time(wh):
    # awkward text (quotes, commas, a newline inside a value) is where PostgreSQL's CSV stream
    # must be cut at a row's end, not at a newline
    table = pd.concat([every_type()] * 400, ignore_index=True).assign(
        row=np.arange(2400, dtype="int64"))
    wh.write_table("awkward", table)
    statement = sa.select(sa.text("*")).select_from(sa.table("awkward"))
    slices = list(wh.stream(statement, batch_rows=100))
    assert len(slices) > 3  # about 100 rows each: it did come in slices
    streamed = pa.concat_tables(slices).to_pandas()
    whole = wh.read_table("awkward")
    assert streamed["row"].tolist() == list(range(2400))  # the table's own order
    pd.testing.assert_frame_equal(streamed[["name", "row"]], whole[["name", "row"]],
                                  check_dtype=False)
    none = list(wh.stream(statement.where(sa.text("row < 0")), batch_rows=100))
    assert len(none) == 1 and none[0].num_rows == 0 and "row" in none[0].column_names


def test_query_execute_and_drop(wh):
    wh.write_table("starts", starters(5))
    found = wh.query("SELECT person_key FROM starts WHERE age >= :low ORDER BY age", {"low": 3})
    assert found["person_key"].tolist() == ["a3", "a4"]
    assert wh.query("SELECT count(*) AS n FROM starts")["n"].tolist() == [5]
    wh.execute("DELETE FROM starts WHERE age < :cut", {"cut": 2})
    assert wh.row_count("starts") == 3
    wh.drop_table("starts")
    assert not wh.table_exists("starts")
    assert wh.partitions("starts", COHORT) == []


@pytest.mark.parametrize("bad", ["People", "a-b", "x; DROP TABLE y", "1st", "", "naïve"])
def test_identifiers_are_validated(wh, bad):
    with pytest.raises(ValueError, match="not a valid"):
        wh.write_table(bad, starters(1))
    with pytest.raises(ValueError, match="not a valid"):
        wh.write_table("ok", pd.DataFrame({bad: [1]}))
    with pytest.raises(ValueError, match="not a valid"):
        wh.read_table("ok", columns=[bad])
    with pytest.raises(ValueError, match="not a valid"):
        wh.row_count("ok", partition=(bad, "2006-07"))
    assert not wh.table_exists("ok")


# ---- DuckDB's one-process-at-a-time file lock ------------------------------------------------


def _hold_lock(path: str, seconds: float, ready) -> None:
    conn = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    conn.close()


def _write_years(url: str, tag: str, ready, results) -> None:
    warehouse = Warehouse(url, lock_timeout=60)
    ready.put(tag)
    started = time.monotonic()
    for year in range(2006, 2011):
        key = f"{year}-{str(year + 1)[2:]}"
        warehouse.write_table(f"starts_{tag}", starters(1000, tag), partition=(COHORT, key))
        warehouse.write_table("shared", starters(10, tag + key), partition=(COHORT, tag + key))
    results.put((tag, time.monotonic() - started))


def test_parallel_writers_wait_for_the_duckdb_lock(tmp_path):
    path = str(tmp_path / "warehouse.duckdb")
    url = f"duckdb:///{path}"
    Warehouse(url).write_table("shared", starters(1), partition=(COHORT, "seed"))
    spawn = multiprocessing.get_context("spawn")
    ready, results = spawn.Queue(), spawn.Queue()
    writers = [spawn.Process(target=_write_years, args=(url, t, ready, results)) for t in "xy"]
    holder = duckdb.connect(path)  # another "process" (here: this one) has the file open
    for writer in writers:
        writer.start()
    assert {ready.get(timeout=60), ready.get(timeout=60)} == {"x", "y"}
    time.sleep(1.0)
    holder.close()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    elapsed = dict(results.get(timeout=5) for _ in writers)
    assert min(elapsed.values()) >= 0.5  # both really waited for the lock
    wh = Warehouse(url)
    assert wh.row_count("starts_x") == wh.row_count("starts_y") == 5000
    assert wh.row_count("shared") == 101


def test_lock_timeout_gives_up_with_the_lock_error(tmp_path):
    path = str(tmp_path / "warehouse.duckdb")
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    holder = spawn.Process(target=_hold_lock, args=(path, 3.0, ready))
    holder.start()
    assert ready.wait(timeout=60)
    started = time.monotonic()
    with pytest.raises(sa.exc.OperationalError, match="lock"):
        Warehouse(f"duckdb:///{path}", lock_timeout=0.3).table_exists("x")
    assert time.monotonic() - started < 2.5
    holder.join(timeout=30)
