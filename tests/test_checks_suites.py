"""Every rule of every Great Expectations suite passes on the clean tiny warehouse and fails
on a copy of the table damaged to break that rule alone, reporting positions, never values."""

import pandas as pd
import pytest

from checks.framework import Tables
from checks.ge_runner import run_suite
from checks.layers import LAYERS, PARTITIONED_LAYERS
from dagster_project.settings import Settings
from dagster_project.warehouse.engine import Warehouse
from tests.checks_support import COHORT_YEAR, clean_run  # noqa: F401  (fixture)

CONTRACTS = [c for layer in (LAYERS, PARTITIONED_LAYERS) for checks in layer.values()
             for c in checks if c.name in ("contract", "plausible")]


def _other(value):
    """A value of the same kind that no value set contains."""
    if isinstance(value, pd.Timestamp):
        return pd.Timestamp("1800-01-01")
    return "zz_not_a_code"


def _damage(frame: pd.DataFrame, rule) -> pd.DataFrame:
    """`frame` with one row (or column) changed so that `rule` alone must fail."""
    df, kw = frame.copy(), rule.kwargs
    rows = df
    if rule.where:
        column, values, negate = rule.where
        rows = df[df[column].isin(list(values)) != negate]
    at = rows.index[0]
    kind = rule.expectation
    if kind == "types":
        column = next(iter(kw["families"]))
        df[column] = [object()] * len(df)
    elif kind == "ExpectTableColumnsToMatchSet":
        df = df.drop(columns=kw["column_set"][0])
    elif kind == "ExpectColumnValuesToNotBeNull":
        df[kw["column"]] = df[kw["column"]].astype(object)
        df.loc[at, kw["column"]] = None
    elif kind == "ExpectColumnValuesToBeNull":
        df.loc[at, kw["column"]] = "zz"
    elif kind in ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"):
        columns = kw.get("column_list") or [kw["column"]]
        present = df.dropna(subset=columns)
        df = pd.concat([df, present.iloc[[0]]], ignore_index=True)
    elif kind == "ExpectColumnValuesToBeInSet":
        df[kw["column"]] = df[kw["column"]].astype(object)
        df.loc[at, kw["column"]] = _other(df.loc[at, kw["column"]])
    elif kind == "ExpectColumnValuesToBeBetween":
        low, high = kw["min_value"], kw["max_value"]
        df[kw["column"]] = df[kw["column"]].astype("float64")
        df.loc[at, kw["column"]] = high + 1 if high is not None else low - 1
    elif kind == "ExpectColumnPairValuesAToBeGreaterThanB":
        later, earlier = kw["column_A"], kw["column_B"]
        both = df.dropna(subset=[later, earlier]).index
        if len(both) == 0:  # e.g. no closed modality: make one row comparable
            both = df.index[:1]
            df.loc[both[0], earlier] = df[earlier].dropna().iloc[0] if df[earlier].notna().any() \
                else df[later].dropna().iloc[0]
        later_value = df.loc[both[0], later]
        if pd.isna(later_value):
            later_value = df[later].dropna().iloc[0]
        df.loc[both[0], later] = later_value
        df.loc[both[0], earlier] = later_value + (pd.Timedelta(days=1) if isinstance(
            later_value, pd.Timestamp) else 1)
    else:
        raise AssertionError(f"no damage for {kind}")
    return df


@pytest.fixture(scope="module")
def tables(clean_run):  # noqa: F811
    env = clean_run[0]
    return Tables(Warehouse(env["RECONVICTION_WAREHOUSE_URL"]), Settings(), COHORT_YEAR)


@pytest.mark.parametrize("check", CONTRACTS, ids=lambda c: f"{c.asset}:{c.name}")
def test_suite_passes_clean_and_each_rule_fails_on_damage(tables, check):
    suite = check.evaluate.args[1]
    index_columns = check.evaluate.args[2]
    frame = tables.read(check.asset)
    assert all(o.passed for o in run_suite(check.asset, frame, suite, index_columns)), check
    for rule in suite:
        outcome = run_suite(check.asset, _damage(frame, rule), [rule], index_columns)[0]
        assert not outcome.passed, (check.asset, rule.rule)
        if outcome.failing_rows and index_columns and rule.expectation != "types":
            assert outcome.examples, rule.rule


_SLICED = [c for c in CONTRACTS if c.asset in ("raw_ndtms_episodes", "staged_pnc_offences")]


@pytest.mark.parametrize("check", _SLICED, ids=lambda c: f"{c.asset}:{c.name}")
def test_a_suite_read_in_slices_of_lines_finds_what_it_finds_whole(tables, check,
                                                                     warehouse_url, monkeypatch):
    """A large delivery table's suite runs its row-wise rules a slice of lines at a time
    (checks/chunks.py): every rule, on the clean table and on one damaged to break every rule
    the warehouse can hold the damage of, passes or fails as on the whole table, with as
    many failing rows."""
    from checks import chunks

    suite, index_columns = check.evaluate.args[1], check.evaluate.args[2]
    clean = tables.read(check.asset)
    monkeypatch.setattr(chunks, "SLICE_ROWS", len(clean) // 2 + 1)
    damaged = clean
    for rule in suite:
        if rule.expectation not in ("types", "ExpectTableColumnsToMatchSet"):
            damaged = _damage(damaged, rule)  # object() and a lost column: not storable
    for frame in (clean, damaged):
        warehouse = Warehouse(warehouse_url)
        warehouse.write_table(check.asset, frame)
        sliced_tables = Tables(warehouse, Settings())
        present = sliced_tables.columns(check.asset)
        assert chunks.needs_slices(sliced_tables, check.asset, present)
        whole = run_suite(check.asset, warehouse.read_table(check.asset), suite, index_columns,
                          all_columns=present)
        sliced = chunks.sliced_suite(check.asset, suite, index_columns, sliced_tables, present)
        for w, s in zip(whole, sliced, strict=True):
            assert (s.rule, s.passed, s.failing_rows) == (w.rule, w.passed, w.failing_rows)
            assert len(s.examples) == len(w.examples)
        if frame is damaged:
            assert not all(s.passed for s in sliced)
        warehouse.drop_table(check.asset)
        warehouse.dispose()
