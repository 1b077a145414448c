"""Strict, vectorised parsing of delivered text into dates and counts.

"Unparseable" (METHOD.md §9) means not in the format EXTRACTS.md states: NDTMS dates are
exactly `DD/MM/YYYY`, PNC dates exactly `YYYY-MM-DD` (two-digit day and month, four-digit
year), and a real calendar date. `1/2/2006`, an ISO date in an NDTMS file and `31/02/2006`
are all unparseable.

Exports `NDTMS_DATE`, `PNC_DATE`, `parse_dates`, `parse_counts`, `is_in`, `arrow_text`.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DATE_DTYPE = "datetime64[us]"  # pandas 3's default resolution for parsed dates


@dataclass(frozen=True)
class DateFormat:
    """A fixed-width date format of 10 ASCII characters: where the digits of each field
    are, and the separator expected at every other position."""

    year: int  # offsets of the fields
    month: int
    day: int
    separator: str
    separator_at: tuple[int, int]


NDTMS_DATE = DateFormat(year=6, month=3, day=0, separator="/", separator_at=(2, 5))
PNC_DATE = DateFormat(year=0, month=5, day=8, separator="-", separator_at=(4, 7))
_WIDTH = 10
_BLOCK_ROWS = 1 << 21
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass(frozen=True)
class Parsed:
    """Typed values (missing where empty or unparseable) and where the text was unparseable
    (a non-empty value not in the format)."""

    values: pd.Series
    unparseable: np.ndarray

    @property
    def missing(self) -> np.ndarray:
        return self.values.isna().to_numpy()


def arrow_text(text: pd.Series) -> pa.Array:
    """A text column as one pyarrow large_string array."""
    return pa.array(text, type=pa.large_string(), from_pandas=True)


def is_in(text: pd.Series, values) -> np.ndarray:
    """Whether each value is one of `values` (exact text; missing is never in). pyarrow's
    hash lookup: pandas' `isin` on `str` columns loops in Python."""
    value_set = pa.array(
        pd.Series(values, dtype="str").dropna(), type=pa.large_string(), from_pandas=True
    )
    found = pc.is_in(arrow_text(text), value_set=value_set, skip_nulls=True)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _characters(arr: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose text is exactly `width` bytes, and those bytes as a (rows, width) matrix."""
    lengths = pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(lengths == width)
    chosen = pc.take(arr, pa.array(rows)) if len(rows) < len(arr) else arr
    if isinstance(chosen, pa.ChunkedArray):
        chosen = chosen.combine_chunks()
    # every chosen value is `width` bytes, so their bytes lie back to back: view, not copy
    first = np.frombuffer(chosen.buffers()[1], dtype=np.int64)[chosen.offset] if len(chosen) else 0
    data = np.frombuffer(chosen.buffers()[2] or b"", dtype=np.uint8)
    return rows, data[first : first + width * len(chosen)].reshape(len(chosen), width)


def _number(chars: np.ndarray, start: int, width: int) -> np.ndarray:
    number = np.zeros(len(chars), dtype=np.int32)
    for column in range(start, start + width):
        number = number * 10 + (chars[:, column].astype(np.int32) - ord("0"))
    return number


def _days_since_epoch(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil)."""
    y = year - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def parse_dates(text: pd.Series, fmt: DateFormat) -> Parsed:
    """Dates (midnight) from text in `fmt`; anything else non-empty is unparseable.

    Works on the bytes of the 10-character values, so 10 million dates take a second; in
    blocks of rows, so that the temporary arrays stay small whatever the table's size."""
    arr = arrow_text(text)
    dates = np.full(len(text), np.datetime64("NaT"), dtype=DATE_DTYPE)
    for first in range(0, len(arr), _BLOCK_ROWS):
        block = arr.slice(first, _BLOCK_ROWS)
        rows, days = _parse_block(block, fmt)
        dates[first + rows] = days
    unparseable = text.notna().to_numpy() & np.isnat(dates)
    return Parsed(pd.Series(dates, index=text.index), unparseable)


def _parse_block(arr: pa.Array, fmt: DateFormat) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `arr` holding a real date in `fmt`, and those dates."""
    rows, chars = _characters(arr, _WIDTH)
    digit = (chars >= ord("0")) & (chars <= ord("9"))
    shaped = digit.sum(axis=1) == _WIDTH - 2
    for at in fmt.separator_at:
        shaped &= chars[:, at] == ord(fmt.separator)
    year = _number(chars, fmt.year, 4)
    month = _number(chars, fmt.month, 2)
    day = _number(chars, fmt.day, 2)
    valid_month = (month >= 1) & (month <= 12)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days_in_month = _DAYS_IN_MONTH[np.where(valid_month, month, 0)] + (leap & (month == 2))
    real = shaped & (year >= 1) & valid_month & (day >= 1) & (day <= days_in_month)
    days = _days_since_epoch(year[real], month[real], day[real])
    return rows[real], days.astype("datetime64[D]").astype(DATE_DTYPE)


def parse_counts(text: pd.Series, low: int, high: int | None = None) -> Parsed:
    """Whole numbers in [low, high] written as plain digits (at most 9); else unparseable."""
    arr = arrow_text(text)
    shaped = pc.fill_null(pc.match_substring_regex(arr, r"^[0-9]{1,9}$"), False).to_numpy(
        zero_copy_only=False
    )
    numbers = pc.cast(pc.filter(arr, pa.array(shaped)), pa.int64()).to_numpy()
    in_range = (numbers >= low) & (numbers <= (np.iinfo(np.int64).max if high is None else high))
    valid = np.zeros(len(text), dtype=bool)
    valid[np.flatnonzero(shaped)[in_range]] = True
    data = np.zeros(len(text), dtype="int64")
    data[valid] = numbers[in_range]
    values = pd.arrays.IntegerArray(data, mask=~valid)
    present = text.notna().to_numpy()
    return Parsed(pd.Series(values, index=text.index), present & ~valid)
