"""The date-of-birth levels in integer arithmetic (comparisons.py) decide as the text
conditions they replace: DuckDB's Damerau-Levenshtein distance 1 between 'YYYY-MM-DD'
texts, and Splink's absolute date difference of at most 366 days on parsed text."""

import itertools

import duckdb
import numpy as np
import pandas as pd

from dagster_project.linkage.comparisons import _ONE_CHARACTER_SLIP, _WITHIN_A_YEAR
from dagster_project.linkage.features import _identity_columns

TEXT_SLIP = "damerau_levenshtein(dob_l, dob_r) = 1"
TEXT_WITHIN_A_YEAR = ("ABS(EPOCH(try_strptime(dob_l, '%Y-%m-%d')) "
                      "- EPOCH(try_strptime(dob_r, '%Y-%m-%d'))) <= 31622400")
IDENTITY = "'A' AS finitial, 'B' AS sinitial, '1' AS sex"  # all the identity but the date


def _slips(text: str) -> set[str]:
    """Every text one substitution or one exchange of neighbours away, dashes included
    (an exchange across a dash, or of the year's last digit and the month's first, is not
    a date, or not one character away)."""
    out = set()
    for i in range(len(text)):
        for digit in "0123456789":
            out.add(text[:i] + digit + text[i + 1:])
    for i in range(len(text) - 1):
        out.add(text[:i] + text[i + 1] + text[i] + text[i + 2:])
    return out - {text}


def _pairs() -> pd.DataFrame:
    """Dates of birth paired with every date one slip away, with dates a year or so apart
    and with random dates; only real dates (a slip can make month 13)."""
    rng = np.random.default_rng(3)
    bases = pd.to_datetime(["1975-03-12", "1981-12-21", "1990-01-01", "1969-10-01",
                            "2000-02-29", "1957-07-05", "1964-11-11"])
    bases = bases.append(pd.to_datetime("1950-01-01") + pd.to_timedelta(
        rng.integers(0, 20_000, 200), unit="D"))
    left, right = [], []
    for base in bases:
        text = base.strftime("%Y-%m-%d")
        slipped = pd.to_datetime(sorted(_slips(text)), format="%Y-%m-%d", errors="coerce")
        near = base + pd.to_timedelta([-367, -366, -365, -1, 1, 365, 366, 367], unit="D")
        others = pd.DatetimeIndex(slipped.dropna()).append(near)
        left += [base] * len(others)
        right += list(others)
    far = pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 20_000, 4000), unit="D")
    left += list(far[:2000])
    right += list(far[2000:])
    return pd.DataFrame({"l": left, "r": right})


def test_integer_date_of_birth_levels_decide_as_the_text_ones():
    con = duckdb.connect()
    con.register("dates", _pairs())
    columns = ", ".join(f"{side}.{name} AS {name}_{side}"
                        for side, name in itertools.product(
                            "lr", ["dob", "dob_days", "dob_digits"]))
    decided = con.execute(f"""
        WITH l AS (SELECT row_number() OVER () AS i, {_identity_columns('d')}
                   FROM (SELECT l AS dob, {IDENTITY} FROM dates) d),
             r AS (SELECT row_number() OVER () AS i, {_identity_columns('d')}
                   FROM (SELECT r AS dob, {IDENTITY} FROM dates) d),
             pairs AS (SELECT {columns} FROM l JOIN r USING (i))
        SELECT dob_l, dob_r, {TEXT_SLIP} AS text_slip, {_ONE_CHARACTER_SLIP} AS slip,
               {TEXT_WITHIN_A_YEAR} AS text_near, {_WITHIN_A_YEAR} AS near
        FROM pairs
    """).df()
    assert len(decided) > 10_000
    assert decided["slip"].equals(decided["text_slip"])
    assert decided["near"].equals(decided["text_near"])
    # both answers occur, and the exchanges among the slips
    assert decided["slip"].sum() > 1000 and (~decided["slip"]).sum() > 1000
    assert decided["near"].sum() > 1000 and (~decided["near"]).sum() > 1000
    swapped = decided[(decided["dob_l"].str[2:4] == decided["dob_r"].str[3:1:-1])
                      & (decided["dob_l"].str[2] != decided["dob_l"].str[3])
                      & (decided["dob_l"].str[4:] == decided["dob_r"].str[4:])
                      & (decided["dob_l"].str[:2] == decided["dob_r"].str[:2])]
    assert swapped["slip"].all() and len(swapped) > 50
