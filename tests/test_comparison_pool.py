"""The pool's convictions and custody spells (comparison/pool.py, cohort/windows.py) against
plain references, on random records with many ties: the fast paths sort packed integer keys
and take running maxima, and must keep exactly the rows the rules of METHOD.md §2 and §4
keep, in the same order."""

import numpy as np
import pandas as pd
import pytest

from dagster_project.cohort.days import to_days
from dagster_project.cohort.windows import custody_spells
from dagster_project.comparison.pool import _packed, pool_convictions, pool_custody, pool_index
from dagster_project.settings import Settings

DAY = pd.Timestamp("2005-01-01")


def _offences(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda values: rng.choice(np.array(values, dtype=object), n)  # noqa: E731
    return pd.DataFrame({
        # 40 persons, a few codes and days: most rows share their key with another
        "pncid": pick([f"{y:02d}/{k}X" for y in (99, 3, 12, 7) for k in range(10)]),
        "cjs_code": pick(["TH68001", "MC80001", "RT88191", None]),
        "offence_group": pick(["theft", "drugs", None, ""]),
        "trigger": pick([True, False, None]),
        "force": pick(["01", "43", "", None]),
        "offence_start": DAY + pd.to_timedelta(rng.integers(0, 6, n), "D"),
        "outcome": pick(["C", "A"]),
        "outcome_date": DAY + pd.to_timedelta(rng.integers(5, 9, n), "D"),
        "disposal": pick(["CUS", "FINE", None]),
        "custody_days": rng.choice([0, 1, 3, 10, 40, np.nan], n),
    }).astype({"offence_start": "datetime64[us]", "outcome_date": "datetime64[us]"})


def _convictions_by_sorting(offences: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """The rule read plainly: sort on every column, keep the first of each (person, code,
    offence date, outcome date), then order by person and offence day."""
    convicted = offences[offences["outcome"].eq("C") & offences["outcome_date"].notna()
                         & offences["offence_start"].notna()]
    convicted = convicted[["pncid", "cjs_code", "offence_start", "outcome_date", "trigger",
                           "offence_group", "force"]].astype({"trigger": object})
    convicted = convicted.sort_values(list(convicted.columns), kind="stable")
    convicted = convicted.loc[~convicted[["pncid", "cjs_code", "offence_start",
                                          "outcome_date"]].fillna("?").duplicated()]
    pid = dict(zip(persons["pncid"], persons["pid"], strict=True))
    return pd.DataFrame({
        "pid": convicted["pncid"].map(pid).to_numpy(np.int64),
        "offence_day": to_days(convicted["offence_start"]),
        "outcome_day": to_days(convicted["outcome_date"]),
        "counted": convicted["trigger"].fillna(False).astype(bool).to_numpy(),
        "offence_group": convicted["offence_group"].fillna("unknown").to_numpy(),
        "force": convicted["force"].fillna("unknown").replace("", "unknown").to_numpy(),
    }).sort_values(["pid", "offence_day"], kind="stable", ignore_index=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_conviction_per_duplicate_transmission_the_first_in_column_order(seed):
    offences = _offences(seed)
    persons = pool_index(offences[["pncid"]])
    settings = Settings()
    expected = _convictions_by_sorting(offences, persons)
    assert len(expected) < 0.5 * len(offences)  # the ties are there to be broken
    for rows in (offences, offences.sample(frac=1, random_state=seed)):
        found = pool_convictions(rows, persons, settings)
        pd.testing.assert_frame_equal(found, expected, check_dtype=False)
        # the pid joined in the warehouse gives the same rows as the one looked up here
        joined = rows.merge(persons, on="pncid")
        pd.testing.assert_frame_equal(pool_convictions(joined, persons, settings), expected,
                                      check_dtype=False)


def _spells_by_days(offences: pd.DataFrame) -> pd.DataFrame:
    """Merged spells read plainly: every day in custody of each person, then its runs of
    consecutive days (spells that overlap or touch are one)."""
    cus = offences[offences["disposal"].eq("CUS") & offences["custody_days"].notna()]
    rows = []
    for person, own in cus.groupby("pncid"):
        days = set()
        for start, length in zip(to_days(own["outcome_date"]),
                                 (own["custody_days"].astype(int) + 1) // 2, strict=True):
            days.update(range(start, start + length))
        for day in sorted(days):
            if rows and rows[-1][0] == person and rows[-1][2] == day:
                rows[-1][2] = day + 1
            else:
                rows.append([person, day, day + 1])
    return pd.DataFrame(rows, columns=["person_key", "start", "end"])


@pytest.mark.parametrize("seed", [1, 2])
def test_custody_spells_are_the_runs_of_days_in_custody(seed):
    offences = _offences(seed, n=1500)
    offences["outcome_date"] = DAY + pd.to_timedelta(
        np.random.default_rng(seed).integers(0, 200, len(offences)), "D")
    expected = _spells_by_days(offences)
    some = pd.Series(sorted(offences["pncid"].unique())[::2])
    spells = custody_spells(offences.assign(person_key=offences["pncid"]), some)
    wanted = expected[expected["person_key"].isin(some)].reset_index(drop=True)
    pd.testing.assert_frame_equal(spells.reset_index(drop=True), wanted, check_dtype=False)
    # the pool's spells are the same, by the persons' integer ids
    persons = pool_index(offences[["pncid"]])
    custody = pool_custody(offences.iloc[::-1], persons)
    pid = dict(zip(persons["pncid"], persons["pid"], strict=True))
    pd.testing.assert_frame_equal(
        custody, expected.assign(pid=expected["person_key"].map(pid))[["pid", "start", "end"]]
        .sort_values(["pid", "start"], ignore_index=True), check_dtype=False)


def test_packed_keys_start_a_new_key_when_the_product_would_overflow():
    big = np.array([2**40, 0, 2**40 - 1])
    keys = _packed([big, big, np.array([1, 0, 1])])
    assert len(keys) == 2  # 41 + 41 bits do not fit in one key; 41 + 1 do
    assert keys[0].tolist() == big.tolist()
    assert keys[1].tolist() == (big * 2 + [1, 0, 1]).tolist()


@pytest.mark.parametrize("keys, persons, expected", [
    (pd.Series([], dtype=object), pd.Series(["a" * 64]), 0),  # no rows: Arrow's null type
    (pd.Series([None, "b"], dtype=object), pd.Series(["b"], dtype="str"), 1),
    (pd.Series(["a", "b"], dtype="string[pyarrow]"), pd.Series(["b"], dtype="str"), 1),
    (pd.Series([7, 8]), pd.Series(["7"]), 0),  # numbers are not their text
])
def test_custody_spells_of_keys_of_any_kind(keys, persons, expected):
    offences = pd.DataFrame({"person_key": keys, "disposal": "CUS",
                             "outcome_date": pd.Timestamp("2006-01-01"), "custody_days": 10})
    assert len(custody_spells(offences, persons)) == expected
