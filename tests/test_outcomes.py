"""Outcome tables: sums, reductions, intervals, rates at risk, combinations (METHOD.md §5)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

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


def test_fieller_bounds_are_both_roots_when_the_group_is_large_enough():
    rng = np.random.default_rng(3)
    frame = members(*[{"before": int(b) + 2, "after": int(a)}
                      for b, a in zip(rng.poisson(3, 80), rng.poisson(2, 80), strict=True)])
    row = table_of(frame).loc[("all", "all")]
    a, b = frame["after"].to_numpy(float), frame["before"].to_numpy(float)
    for bound in ("ci_low", "ci_high"):
        assert fieller_gap(a, b, 1 - row[bound]) == pytest.approx(0, abs=1e-6)
    assert row["ci_low"] < row["reduction"] < row["ci_high"] < 1


def test_all_row_equals_sums_over_members():
    row = table_of(MIXED).loc[("all", "all")]
    assert row["n"] == 6 and row["before"] == 17 and row["after"] == 7
    assert row["reduction"] == pytest.approx(1 - 7 / 17)
    assert row["persons_before"] == 6 and row["persons_after"] == 4
    assert row["ci_method"] == CI_METHOD


def fieller_gap(a: np.ndarray, b: np.ndarray, rho: float) -> float:
    """(Σa − ρΣb)² − c²·n·Var(a − ρb): zero at Fieller's bounds, computed per person; c is
    t(n − 1) widened by (2z² + 1)/6 · |skewness of a − R·b| / √n."""
    n, ratio = len(a), a.sum() / b.sum()
    z = stats.norm.ppf(0.975)
    t = stats.t.ppf(0.975, n - 1)
    c = t + min(t, (2 * z * z + 1) / 6 * abs(stats.skew(a - ratio * b)) / np.sqrt(n))
    return (a.sum() - rho * b.sum()) ** 2 - c * c * n * np.var(a - rho * b, ddof=1)


def test_fieller_interval_solves_its_equation_and_contains_the_estimate():
    row = table_of(MIXED).loc[("all", "all")]
    a, b = MIXED["after"].to_numpy(float), MIXED["before"].to_numpy(float)
    # the reduction's lower bound is 1 − the upper bound of after/before
    assert fieller_gap(a, b, 1 - row["ci_low"]) == pytest.approx(0, abs=1e-6)
    # with 6 persons the lower root of after/before is below 0: capped, a 100% upper bound
    assert row["ci_high"] == 1 and fieller_gap(a, b, 0.0) < 0
    assert row["ci_low"] < row["reduction"] < row["ci_high"]
    assert row["ci_method"] == CI_METHOD and not row["not_estimable"]
    assert row["imprecise"]  # 6 persons


def test_no_interval_for_one_person_and_no_reduction_without_before_convictions():
    table = table_of(MIXED)
    crack = table.loc[("drug_group", "crack_only")]
    assert crack["n"] == 1 and np.isnan(crack["ci_low"]) and np.isnan(crack["ci_high"])
    assert crack["not_estimable"] and np.isnan(crack["ci_at_risk_low"])
    empty_before = members({"before": 0, "after": 2}, {"before": 0, "after": 1})
    row = table_of(empty_before).loc[("all", "all")]
    assert np.isnan(row["reduction"]) and np.isnan(row["ci_low"]) and row["not_estimable"]


def test_nobody_convicted_after_is_a_full_reduction_without_an_interval():
    row = table_of(members(*[{"before": k % 3 + 1} for k in range(60)])).loc[("all", "all")]
    assert row["reduction"] == 1 and row["after"] == 0
    assert row["not_estimable"] and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
    assert not row["imprecise"]  # 60 persons


def test_all_zero_counts_and_an_unbounded_interval_are_not_estimable():
    zeros = members(*[{"before": 0, "after": 0} for _ in range(3)])
    assert table_of(zeros).loc[("all", "all"), "not_estimable"]
    # one person holds nearly every conviction before: Σbefore is not clearly above zero
    skewed = members({"before": 40, "after": 3}, {"before": 1, "after": 2},
                     {"before": 1, "after": 0})
    row = table_of(skewed).loc[("all", "all")]
    assert row["not_estimable"] and np.isnan(row["ci_low"])
    assert row["reduction"] == pytest.approx(1 - 5 / 42)


def test_upper_bounds_never_exceed_100_percent():
    rng = np.random.default_rng(7)
    for _ in range(40):
        size = int(rng.integers(5, 40))
        frame = members(*[{"before": int(b) + 1, "after": int(a)}
                          for b, a in zip(rng.negative_binomial(1, 0.4, size),
                                          rng.negative_binomial(0.3, 0.6, size), strict=True)])
        table = table_of(frame)
        assert (table["ci_high"].dropna() <= 1).all()
        assert (table["ci_at_risk_high"].dropna() <= 1).all()
        shown = table.dropna(subset=["ci_low"])
        assert (shown["ci_low"] <= shown["reduction"]).all()
        assert (shown["reduction"] <= shown["ci_high"]).all()


def test_time_at_risk_interval_is_the_ratio_interval_scaled_by_person_time():
    row = table_of(MIXED).loc[("all", "all")]
    scale = row["rate_after"] / row["rate_before"] / (1 - row["reduction"])
    # rate ratio = R · (person-time before / after): the bounds scale the same way
    assert 1 - row["ci_at_risk_low"] == pytest.approx(scale * (1 - row["ci_low"]))
    assert row["ci_at_risk_low"] < row["reduction_at_risk"] < row["ci_at_risk_high"]


def test_rates_per_person_year_not_in_custody():
    row = table_of(MIXED).loc[("all", "all")]
    at_risk_before = (6 * 730 - 100) / 365.25
    at_risk_after = (6 * 730 - 30) / 365.25
    assert row["rate_before"] == pytest.approx(17 / at_risk_before)
    assert row["rate_after"] == pytest.approx(7 / at_risk_after)
    assert row["reduction_at_risk"] == pytest.approx(1 - row["rate_after"] / row["rate_before"])


def test_rate_after_of_a_death_discharge_stops_at_the_discharge():
    died = {"days_at_risk_after": 100}
    frame = MIXED.assign(days_at_risk_after=730 - MIXED["custody_days_after"])
    frame.loc[2, "days_at_risk_after"] = died["days_at_risk_after"]
    row = table_of(frame).loc[("all", "all")]
    assert row["rate_after"] == pytest.approx(7 / ((5 * 730 - 30 + 100) / 365.25))
    unchanged = table_of(MIXED).loc[("all", "all")]
    assert row[["n", "before", "after", "reduction", "rate_before"]].tolist() == \
        unchanged[["n", "before", "after", "reduction", "rate_before"]].tolist()


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
