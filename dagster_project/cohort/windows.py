"""The before and after windows: counted convictions and days in custody (METHOD.md §2, §4).

Exports `conviction_outcomes`, `counted_convictions`, `custody_days` and `custody_spells`
(the comparison pool merges every PNC person's spells with it).

Both take `index_days`: one row per person, `person_key` and `index_day` (the index date
as a day number, see `days.py`). Windows, relative to the index date:
before = [index − window_days, index − 1], after = [index, index + window_days − 1].
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.cohort.days import to_days
from dagster_project.settings import Settings

# Counted rows agreeing on these are one conviction transmitted twice (METHOD.md §2). The
# person key stands for the PNCID: a matched client is linked to one PNC person only.
DUPLICATE_KEY = ["person_key", "cjs_code", "offence_start", "outcome_date"]


def _window_of(offence: np.ndarray, proven: np.ndarray, index: np.ndarray, settings: Settings):
    """'before', 'after' or missing, for offences committed on day `offence` and proven on day
    `proven` by a person whose index day is `index`."""
    days, wait = settings.window_days, settings.waiting_period_days
    since = offence - index
    before_last, after_last = index - 1, index + days - 1
    before = (since >= -days) & (since <= -1) & (proven <= before_last + wait)
    after = (since >= 0) & (since <= days - 1) & (proven <= after_last + wait)
    return np.select([before, after], ["before", "after"], default="")


def conviction_outcomes(settings: Settings) -> list[str]:
    """The OUTCOME codes that make a conviction: cautions (`K`) only when the settings say so."""
    return ["C", "K"] if settings.count_cautions else ["C"]


def counted_convictions(
    offences: pd.DataFrame, index_days: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """Counted convictions in either window: one row per conviction (duplicate transmissions
    merged), columns `person_key`, `offence_group`, `offence_day`, `window` ('before'/'after').

    A row counts when it is a trigger offence, its outcome is `C` (or `K` when
    `settings.count_cautions`), it has an outcome date, and it was proven no later than its
    window's last day + the waiting period.
    """
    outcomes = conviction_outcomes(settings)
    counted = offences[
        offences["trigger"].fillna(False).astype(bool).to_numpy()
        & offences["outcome"].isin(outcomes).to_numpy()
        & offences["outcome_date"].notna().to_numpy()
    ]
    counted = counted[counted["person_key"].isin(index_days["person_key"])]
    counted = counted.drop_duplicates(DUPLICATE_KEY)
    counted = counted.merge(index_days[["person_key", "index_day"]], on="person_key")
    offence_day = to_days(counted["offence_start"])
    window = _window_of(
        offence_day, to_days(counted["outcome_date"]), counted["index_day"].to_numpy(), settings
    )
    result = pd.DataFrame({
        "person_key": counted["person_key"].to_numpy(),
        "offence_group": counted["offence_group"].fillna("unknown").to_numpy(),
        "offence_day": offence_day,
        "window": window,
    })
    return result[result["window"] != ""].reset_index(drop=True)


def _among(values: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Whether each value is one of `wanted` (a missing value never is), by Arrow's hash
    set: pandas' `isin` on Arrow text first lists the wanted values in Python, 26 s for the
    3.3 million persons of a national PNC."""
    left, right = _arrow(values), _arrow(wanted)
    if left.type != right.type:
        # an empty or all-missing column has no type of its own (Arrow's null type); text
        # comes as string or large_string: the same values either way
        if pa.types.is_null(left.type) or _text(left.type) and _text(right.type):
            left = left.cast(right.type)
        elif pa.types.is_null(right.type):
            right = right.cast(left.type)
        else:  # kinds Arrow does not compare (numbers against text): pandas' answer
            return pd.Series(values).isin(pd.Series(wanted)).to_numpy(bool)
    found = pc.is_in(left, value_set=right, skip_nulls=True)
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _arrow(values) -> pa.Array:
    array = pa.array(values, from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def custody_spells(offences: pd.DataFrame, persons: pd.Series) -> pd.DataFrame:
    """Merged custody spells [start, end) per person: `person_key`, `start`, `end` (day numbers).

    A `CUS` disposal keeps the person in custody from its outcome date for half the sentence,
    rounded up (automatic release at the half-way point); overlapping spells merge.
    """
    cus = offences[
        offences["disposal"].eq("CUS").fillna(False).to_numpy()
        & offences["outcome_date"].notna().to_numpy()
        & offences["custody_days"].notna().to_numpy()
        & _among(offences["person_key"], persons)
    ]
    start = to_days(cus["outcome_date"])
    end = start + (cus["custody_days"].to_numpy(dtype=np.int64) + 1) // 2
    rows = np.flatnonzero(end > start)
    # persons as sorted integer codes: pandas' groupby on the national PNC's 1.9M custody
    # rows of text keys took seconds
    keys = pd.factorize(cus["person_key"].iloc[rows], sort=True)[0].astype(np.int64)
    order = np.lexsort((start[rows], keys))  # by person, then start (stable)
    rows, keys = rows[order], keys[order]
    start, end = start[rows], end[rows]
    # a spell opens a new block unless it starts inside the running reach of its person's
    # earlier spells; the reach within persons is one running maximum over all rows once
    # each person's ends are lifted above every earlier person's
    low = end.min() if len(end) else 0
    span = int(end.max() - low) + 1 if len(end) else 1
    reach = np.maximum.accumulate(keys * span + end - low) - keys * span + low
    opens = np.ones(len(rows), bool)
    opens[1:] = (keys[1:] != keys[:-1]) | (start[1:] > reach[:-1])
    at = np.flatnonzero(opens)
    return pd.DataFrame(
        {"person_key": cus["person_key"].iloc[rows[at]].to_numpy(), "start": start[at],
         "end": np.maximum.reduceat(end, at) if len(at) else end[at]},
        index=pd.RangeIndex(1, len(at) + 1),
    )


def custody_days(
    offences: pd.DataFrame, index_days: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """Days in custody inside each window, per person of `index_days` (0 without custody):
    columns `person_key`, `custody_days_before`, `custody_days_after`, and
    `custody_days_at_risk_after`: those of the after window before `at_risk_end_day`
    (exclusive; a column of `index_days`, default the window's end), the part of the window
    a person who died was alive."""
    days = settings.window_days
    if "at_risk_end_day" not in index_days:
        index_days = index_days.assign(at_risk_end_day=index_days["index_day"] + days)
    spells = custody_spells(offences, index_days["person_key"]).merge(
        index_days[["person_key", "index_day", "at_risk_end_day"]], on="person_key"
    )
    index = spells["index_day"].to_numpy()
    start, end = spells["start"].to_numpy(), spells["end"].to_numpy()
    alive_end = spells["at_risk_end_day"].to_numpy()
    # half-open windows [first, first + days): overlap with each merged spell
    before = np.clip(np.minimum(end, index) - np.maximum(start, index - days), 0, None)
    after = np.clip(np.minimum(end, index + days) - np.maximum(start, index), 0, None)
    at_risk = np.clip(np.minimum(end, alive_end) - np.maximum(start, index), 0, None)
    columns = ["custody_days_before", "custody_days_after", "custody_days_at_risk_after"]
    totals = (
        pd.DataFrame({"person_key": spells["person_key"].to_numpy(), columns[0]: before,
                      columns[1]: after, columns[2]: at_risk})
        .groupby("person_key").sum()
    )
    result = index_days[["person_key"]].merge(totals, on="person_key", how="left")
    return result.fillna(0).astype(dict.fromkeys(columns, "int64"))
