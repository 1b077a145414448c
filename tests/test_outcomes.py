"""Outcome tables: sums, reductions, intervals, rates at risk, combinations (METHOD.md §5)."""

import numpy as np
import pandas as pd
import pytest

from dagster_project.cohort import CI_METHOD, DIMENSIONS, outcome_table
from dagster_project.settings import Settings

SETTINGS = Settings()


def members(*rows: dict) -> pd.DataFrame:
    base = {
        "cohort_year": "2006-07", "link_status": "matched", "age_band": "30-34", "sex": "1",
        "drug_group": "opiate_only", "referral_route": "self", "retention_days": 730,
        "retention_band": "retained_2y", "exit_group": "retained", "reentered": False,
        "before": 1, "after": 0, "after_post_exit": 0, "custody_days_before": 0,
        "custody_days_after": 0, "exit_date": None,
    }
    frame = pd.DataFrame([{**base, "person_key": f"p{i}", **row} for i, row in enumerate(rows)])
    frame["exit_date"] = pd.to_datetime(frame["exit_date"])
    return frame


def by_group(frame: pd.DataFrame) -> pd.DataFrame:
    """Every conviction of these members is theft."""
    return frame[["person_key", "before", "after"]].assign(offence_group="theft")


def table_of(frame: pd.DataFrame, groups: pd.DataFrame | None = None) -> pd.DataFrame:
    groups = by_group(frame) if groups is None else groups
    return outcome_table(frame, groups, SETTINGS).set_index(["dimension", "group"])


LEFT = {"retention_days": 100, "retention_band": "3-6m", "exit_date": "2006-09-09"}
MIXED = members(
    {"before": 4, "after": 1, "custody_days_before": 100},
    {"before": 2, "after": 3, "custody_days_after": 30, "drug_group": "crack_only"},
    {"before": 1, "after": 0, **LEFT, "exit_group": "dropped_out", "reentered": True},
    {"before": 3, "after": 2, "after_post_exit": 1, **LEFT, "exit_group": "dropped_out"},
    {"before": 5, "after": 1, "after_post_exit": 1, **LEFT, "retention_days": 182,
     "exit_group": "successful_completion"},
    {"before": 2, "after": 0, **LEFT, "retention_days": 183, "retention_band": "6-12m",
     "exit_group": "successful_completion", "reentered": True},
)


def test_all_row_equals_sums_over_members():
    row = table_of(MIXED).loc[("all", "all")]
    assert row["n"] == 6 and row["before"] == 17 and row["after"] == 7
    assert row["reduction"] == pytest.approx(1 - 7 / 17)
    assert row["persons_before"] == 6 and row["persons_after"] == 4
    assert row["ci_method"] == CI_METHOD


def test_delta_method_interval_contains_the_estimate_and_matches_the_formula():
    row = table_of(MIXED).loc[("all", "all")]
    a, b = MIXED["after"].to_numpy(float), MIXED["before"].to_numpy(float)
    ratio, n = a.sum() / b.sum(), len(a)
    se = np.sqrt(((a - ratio * b) ** 2).sum() / (n * (n - 1)) / b.mean() ** 2)
    assert row["ci_low"] == pytest.approx(1 - ratio - 1.959964 * se, rel=1e-6)
    assert row["ci_high"] == pytest.approx(1 - ratio + 1.959964 * se, rel=1e-6)
    assert row["ci_low"] < row["reduction"] < row["ci_high"]


def test_no_interval_for_one_person_and_no_reduction_without_before_convictions():
    table = table_of(MIXED)
    crack = table.loc[("drug_group", "crack_only")]
    assert crack["n"] == 1 and np.isnan(crack["ci_low"]) and np.isnan(crack["ci_high"])
    empty_before = members({"before": 0, "after": 2}, {"before": 0, "after": 1})
    row = table_of(empty_before).loc[("all", "all")]
    assert np.isnan(row["reduction"]) and np.isnan(row["ci_low"])


def test_rates_per_person_year_not_in_custody():
    row = table_of(MIXED).loc[("all", "all")]
    at_risk_before = (6 * 730 - 100) / 365.25
    at_risk_after = (6 * 730 - 30) / 365.25
    assert row["rate_before"] == pytest.approx(17 / at_risk_before)
    assert row["rate_after"] == pytest.approx(7 / at_risk_after)
    assert row["reduction_at_risk"] == pytest.approx(1 - row["rate_after"] / row["rate_before"])


def test_every_dimension_is_present_and_single_attributes_add_up_to_all():
    table = table_of(MIXED)
    assert set(table.index.get_level_values("dimension")) == set(DIMENSIONS)
    for dimension in ("drug_group", "referral_route", "retention_band", "exit_group",
                      "age_band", "sex"):
        assert table.loc[dimension, ["n", "before", "after"]].sum().tolist() == [6, 17, 7]


def test_offence_group_counts_members_with_a_conviction_of_the_group():
    groups = pd.DataFrame({
        "person_key": ["p0", "p0", "p1", "p2"],
        "offence_group": ["theft", "burglary", "theft", "burglary"],
        "before": [3, 1, 0, 1], "after": [1, 0, 3, 0],
    })
    table = table_of(MIXED, groups)
    theft = table.loc[("offence_group", "theft")]
    assert (theft["n"], theft["before"], theft["after"]) == (2, 3, 4)
    assert (theft["persons_before"], theft["persons_after"]) == (1, 2)
    assert table.loc[("offence_group", "burglary"), "n"] == 2


def test_nta_combinations():
    table = table_of(MIXED)
    assert table.loc[("completion_by_retention", "<6m"), "before"] == 5
    assert table.loc[("completion_by_retention", ">=6m"), "before"] == 2
    assert table.loc[("completion_by_reentry", "did_not_return"), "n"] == 1
    assert table.loc[("completion_by_reentry", "returned"), "before"] == 2
    assert table.loc[("dropout_by_reentry", "returned"), "before"] == 1
    assert table.loc[("dropout_by_reentry", "did_not_return"), "before"] == 3


def test_leavers_and_dropout_shares():
    table = table_of(MIXED)
    leavers = table.loc[("leavers_post_exit_share", "leavers")]
    assert leavers["n"] == 4 and leavers["share"] == pytest.approx(2 / 3)
    assert table.loc[("dropout_share_of_cohort", "dropped_out"), "share"] == pytest.approx(2 / 6)
    assert table.loc[("dropout_share_of_after", "dropped_out"), "share"] == pytest.approx(2 / 7)
    assert table.loc[("all", "all"), "cohort_year"] == "2006-07"


def test_empty_cohort_still_has_a_headline_row():
    empty = members({}).iloc[:0]
    table = outcome_table(empty, by_group(empty), SETTINGS)
    headline = table[table["dimension"] == "all"]
    assert headline["n"].tolist() == [0]
