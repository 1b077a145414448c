"""Outcome tables: convictions before and after, by subgroup, with confidence intervals and
time-at-risk rates (METHOD.md §5, §8).

Exports `outcome_table`, `person_row_sets`, `OUTCOME_COLUMNS`, `DIMENSIONS`, `CI_METHOD`,
`IMPRECISE_BELOW`.

Confidence interval: Fieller's interval for R = Σafter / Σbefore with persons as units
(`intervals.py`: Student's t critical value widened for the counts' skewness); the
reduction is 1 − R, its upper bound at most 100%. The bounds are empty
and `not_estimable` is true when the interval is unbounded, when nobody in the group was
convicted after (R = 0 says nothing about how far below 100% the truth may be), or when the
group has fewer than two persons or no convictions before. Groups of fewer than
`IMPRECISE_BELOW` persons are flagged `imprecise`.

Time at risk: a window of `window_days` less the days spent in custody in it, in person-years
of 365.25 days; `rate_*` = convictions per person-year at risk, `reduction_at_risk` =
1 − rate_after / rate_before. A member whose journey ended with a death discharge inside the
after window is at risk until that discharge date (inclusive) only: the cohort stage's
`days_at_risk_after`. Its interval (`ci_at_risk_low/high`) is R's Fieller interval scaled by
the ratio of person-time (treated as fixed, measured exposure, as for Poisson rates).
"""

import numpy as np
import pandas as pd

from dagster_project.cohort.intervals import CI_METHOD, fieller_ratio, reduction_interval
from dagster_project.settings import Settings
from dagster_project.vocabulary.partition import PARTITION_COLUMN

DAYS_PER_YEAR = 365.25
IMPRECISE_BELOW = 50  # persons (METHOD.md §5)

# single attributes of members, in the order the table lists them
ATTRIBUTE_DIMENSIONS = [
    "drug_group", "referral_route", "retention_band", "exit_group", "age_band", "sex",
]
# the NTA study's combinations: dimension -> (exit group it selects, how it splits)
COMBINATIONS = {
    "completion_by_retention": "successful_completion",
    "completion_by_reentry": "successful_completion",
    "dropout_by_reentry": "dropped_out",
}
SHARE_DIMENSIONS = ["leavers_post_exit_share", "dropout_share_of_cohort", "dropout_share_of_after"]
DIMENSIONS = ["all", *ATTRIBUTE_DIMENSIONS, "offence_group", *COMBINATIONS, *SHARE_DIMENSIONS]
SIX_MONTHS_DAYS = 183  # the first day of the 6-12m retention band

OUTCOME_COLUMNS = [
    "dimension", "group", "n", "before", "after", "reduction", "ci_low", "ci_high", "ci_method",
    "rate_before", "rate_after", "reduction_at_risk", "ci_at_risk_low", "ci_at_risk_high",
    "not_estimable", "imprecise", "persons_before", "persons_after", "share",
]
_PERSON_VALUES = ["before", "after", "custody_days_before", "days_at_risk_after"]


def _summarise(persons: pd.DataFrame, dimension: str, window_days: int) -> pd.DataFrame:
    """One row per `group` of a frame of persons (one row each) carrying `_PERSON_VALUES`."""
    p = persons.assign(
        ab=persons["after"] * persons["before"],
        aa=persons["after"] ** 2,
        bb=persons["before"] ** 2,
        # third-order sums: the skewness that widens the interval's critical value
        aaa=persons["after"] ** 3,
        aab=persons["after"] ** 2 * persons["before"],
        abb=persons["after"] * persons["before"] ** 2,
        bbb=persons["before"] ** 3,
        persons_before=persons["before"] > 0,
        persons_after=persons["after"] > 0,
        at_risk_before=window_days - persons["custody_days_before"],
        at_risk_after=persons["days_at_risk_after"],
    )
    sums = p.groupby("group", sort=True)[
        ["before", "after", "ab", "aa", "bb", "aaa", "aab", "abb", "bbb", "persons_before",
         "persons_after", "at_risk_before", "at_risk_after"]
    ].sum().astype(np.float64)
    n = p.groupby("group", sort=True).size().astype(np.float64)
    low, high = fieller_ratio(n, sums["after"], sums["before"], sums["aa"], sums["bb"],
                              sums["ab"], third=[sums[c] for c in ("aaa", "aab", "abb", "bbb")])
    estimable = ~np.isnan(low) & (sums["persons_after"].to_numpy() > 0)
    low, high = np.where(estimable, low, np.nan), np.where(estimable, high, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sums["before"] > 0, sums["after"] / sums["before"], np.nan)
        rate_before = sums["before"] / (sums["at_risk_before"] / DAYS_PER_YEAR)
        rate_after = sums["after"] / (sums["at_risk_after"] / DAYS_PER_YEAR)
        rate_ratio = np.where(rate_before > 0, rate_after / rate_before, np.nan)
        exposure = (sums["at_risk_before"] / sums["at_risk_after"]).to_numpy()
    ci_low, ci_high = reduction_interval(low, high)
    risk_low, risk_high = reduction_interval(low, high, exposure)
    return pd.DataFrame({
        "dimension": dimension,
        "group": sums.index.astype("str"),
        "n": n.astype(np.int64).to_numpy(),
        "before": sums["before"].astype(np.int64).to_numpy(),
        "after": sums["after"].astype(np.int64).to_numpy(),
        "reduction": 1 - ratio,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "ci_method": CI_METHOD,
        "rate_before": rate_before.to_numpy(),
        "rate_after": rate_after.to_numpy(),
        "reduction_at_risk": 1 - rate_ratio,
        "ci_at_risk_low": risk_low,
        "ci_at_risk_high": risk_high,
        "not_estimable": ~estimable,
        "imprecise": n.to_numpy() < IMPRECISE_BELOW,
        "persons_before": sums["persons_before"].astype(np.int64).to_numpy(),
        "persons_after": sums["persons_after"].astype(np.int64).to_numpy(),
        "share": np.nan,
    })


def _combination_groups(members: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The NTA study's combinations, each a frame of the selected members with `group`."""
    returned = np.where(members["reentered"], "returned", "did_not_return")
    by_retention = np.where(members["retention_days"] < SIX_MONTHS_DAYS, "<6m", ">=6m")
    splits = {
        "completion_by_retention": by_retention,
        "completion_by_reentry": returned,
        "dropout_by_reentry": returned,
    }
    return {
        dimension: members.assign(group=splits[dimension])[members["exit_group"] == exit_group]
        for dimension, exit_group in COMBINATIONS.items()
    }


def person_row_sets(members: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    """The persons of every row of `outcome_table` except `offence_group`'s, as boolean masks
    over `members` (the same definitions as the table: the disclosure audit derives every
    relation between published rows from these sets)."""
    everyone = np.ones(len(members), dtype=bool)
    sets = {("all", "all"): everyone}
    for dimension in ATTRIBUTE_DIMENSIONS:
        values = members[dimension].astype("str").to_numpy()
        sets.update({(dimension, g): values == g for g in np.unique(values)})
    for dimension, frame in _combination_groups(members).items():
        chosen = members.index.isin(frame.index)
        groups = pd.Series(frame["group"], index=frame.index).reindex(members.index)
        sets.update({(dimension, g): chosen & (groups == g).to_numpy()
                     for g in np.unique(frame["group"].astype("str"))})
    dropouts = (members["exit_group"] == "dropped_out").to_numpy()
    sets[("leavers_post_exit_share", "leavers")] = members["exit_date"].notna().to_numpy()
    sets[("dropout_share_of_cohort", "dropped_out")] = dropouts
    sets[("dropout_share_of_after", "dropped_out")] = dropouts
    return {key: mask for key, mask in sets.items() if mask.any()}


def _offence_group_persons(members: pd.DataFrame, by_group: pd.DataFrame) -> pd.DataFrame:
    """Per offence group, the members with a conviction of it in either window, carrying that
    group's before/after counts and their own custody days."""
    custody = members[["person_key", "custody_days_before", "days_at_risk_after"]]
    persons = by_group[["person_key", "offence_group", "before", "after"]].merge(
        custody, on="person_key"
    )
    return persons.rename(columns={"offence_group": "group"})


def _share_rows(members: pd.DataFrame, all_row: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """REFERENCE F23 (leavers' after-window convictions committed after leaving), F17
    (dropouts' share of the cohort) and F18 (their share of after-window convictions)."""
    leavers = members[members["exit_date"].notna()].assign(group="leavers")
    leaver_row = _summarise(leavers, "leavers_post_exit_share", window_days)
    leaver_row["share"] = _ratio(leavers["after_post_exit"].sum(), leavers["after"].sum())
    dropouts = members[members["exit_group"] == "dropped_out"].assign(group="dropped_out")
    of_cohort = _summarise(dropouts, "dropout_share_of_cohort", window_days)
    of_cohort["share"] = _ratio(len(dropouts), all_row["n"].sum())
    of_after = _summarise(dropouts, "dropout_share_of_after", window_days)
    of_after["share"] = _ratio(dropouts["after"].sum(), all_row["after"].sum())
    return pd.concat([leaver_row, of_cohort, of_after], ignore_index=True)


def _with_days_at_risk(members: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """Members with `days_at_risk_after`: as the cohort stage computed it (custody and a
    death discharge allowed for), or for a frame without it, the window less custody."""
    if "days_at_risk_after" in members:
        return members
    return members.assign(days_at_risk_after=window_days - members["custody_days_after"])


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else np.nan


def outcome_table(
    members: pd.DataFrame, convictions_by_group: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """One row per dimension × group (`OUTCOME_COLUMNS`, plus `cohort_year` when the members
    carry one). For `offence_group`, `n` is the number of members with a conviction of that
    group in either window, and the figures are that group's convictions only."""
    days = settings.window_days
    members = _with_days_at_risk(members, days)
    parts = [_summarise(members.assign(group="all"), "all", days)]
    if parts[0].empty:  # an empty cohort still has its headline row
        parts[0] = pd.DataFrame([{
            "dimension": "all", "group": "all", "n": 0, "before": 0, "after": 0,
            "ci_method": CI_METHOD, "persons_before": 0, "persons_after": 0,
            "not_estimable": True, "imprecise": True,
        }], columns=OUTCOME_COLUMNS)
    parts += [_summarise(members.assign(group=members[d]), d, days) for d in ATTRIBUTE_DIMENSIONS]
    parts.append(
        _summarise(_offence_group_persons(members, convictions_by_group), "offence_group", days)
    )
    parts += [_summarise(frame, d, days) for d, frame in _combination_groups(members).items()]
    parts.append(_share_rows(members, parts[0], days))
    table = pd.concat([p for p in parts if len(p)], ignore_index=True)[OUTCOME_COLUMNS]
    if PARTITION_COLUMN in members and members[PARTITION_COLUMN].nunique() == 1:
        table.insert(0, PARTITION_COLUMN, members[PARTITION_COLUMN].iloc[0])
    return table
