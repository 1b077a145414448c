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
