"""Dates as whole day numbers, so that window arithmetic is exact integer arithmetic.

Exports `to_days`, `from_days` and `OPEN_DAY`.

Every date in the staged tables is a midnight `datetime64`; counting in days since the
epoch keeps "index − 730 ≤ date ≤ index − 1" free of time-of-day and unit questions.
"""

import numpy as np
import pandas as pd

# Stands for "not yet discharged": later than any real date, so an open episode outlasts
# every discharge in a running maximum.
OPEN_DAY = np.iinfo(np.int64).max // 2


def to_days(dates: pd.Series, missing: int | None = None) -> np.ndarray:
    """Day numbers (int64, days since 1970-01-01) of a datetime Series; missing dates become
    `missing` (default: a value below every real date)."""
    values = pd.to_datetime(dates).to_numpy().astype("datetime64[D]")
    days = values.astype(np.int64)
    fill = np.iinfo(np.int64).min // 2 if missing is None else missing
    return np.where(np.isnat(values), fill, days)


def from_days(days: np.ndarray | pd.Series, valid: np.ndarray | None = None) -> pd.Series:
    """A datetime Series (midnight) from day numbers; positions where `valid` is false are NaT."""
    days = np.asarray(days, dtype=np.int64)
    dates = days.astype("datetime64[D]").astype("datetime64[us]")
    if valid is not None:
        dates = np.where(valid, dates, np.datetime64("NaT", "us"))
    return pd.Series(dates)
