"""Vectorised helpers: categorical draws, day arithmetic and text columns.

Days are int64 counts since 1970-01-01 and `NO_DAY` marks a missing date. Text columns
are built in pyarrow by `take` from a small dictionary (dates, codes), so that ten
million formatted values cost no Python loop.

Exports `NO_DAY`, `draw`, `unrecorded`, `year_start`, `date_parts`, `from_parts`, `date_column`,
`code_column`, `int_column`, `concat_text`, `padded`.
"""

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NO_DAY = np.int64(-(10**7))
# formatted dates cover this range (days since 1970)
_FIRST_DAY = -25567  # 1900-01-01
_LAST_DAY = 24106  # 2035-12-31


def draw(rng: np.random.Generator, shares: dict, size: int) -> np.ndarray:
    """Indices into `list(shares)` drawn with the given (normalised) weights."""
    weights = np.asarray(list(shares.values()), dtype=float)
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def year_start(year: np.ndarray) -> np.ndarray:
    """Day number of 1 January of each year."""
    return (
        (np.asarray(year, dtype=np.int64) - 1970)
        .astype("datetime64[Y]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )


def date_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day of month) of each day number."""
    d = np.asarray(days, dtype="datetime64[D]")
    years = d.astype("datetime64[Y]")
    months = d.astype("datetime64[M]")
    return (
        years.astype(np.int64) + 1970,
        (months - years.astype("datetime64[M]")).astype(np.int64) + 1,
        (d - months.astype("datetime64[D]")).astype(np.int64) + 1,
    )


def from_parts(year, month, day) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of (year, month, day), and whether each triple is a real date."""
    year, month, day = (np.asarray(a, dtype=np.int64) for a in (year, month, day))
    ok = (month >= 1) & (month <= 12) & (day >= 1)
    first = (np.where(ok, year, 1970) - 1970) * 12 + np.where(ok, month, 1) - 1
    first_day = first.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    next_first = (first + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    days = first_day + day - 1
    ok &= days < next_first
    return np.where(ok, days, NO_DAY), ok


@lru_cache(maxsize=2)
def _date_dictionary(fmt: str) -> pa.Array:
    iso = np.datetime_as_string(np.arange(_FIRST_DAY, _LAST_DAY + 1).astype("datetime64[D]"))
    if fmt == "iso":
        return pa.array(iso.tolist())
    return pa.array([f"{s[8:10]}/{s[5:7]}/{s[0:4]}" for s in iso.tolist()])


def date_column(days: np.ndarray, fmt: str) -> pa.Array:
    """Dates as text, `fmt` 'iso' (YYYY-MM-DD, PNC) or 'dmy' (DD/MM/YYYY, NDTMS);
    `NO_DAY` becomes null (an empty field)."""
    days = np.asarray(days, dtype=np.int64)
    missing = days == NO_DAY
    if np.any(~missing & ((days < _FIRST_DAY) | (days > _LAST_DAY))):
        raise ValueError("a date falls outside 1900-2035")
    index = pa.array(np.where(missing, 0, days - _FIRST_DAY), mask=missing)
    return _date_dictionary(fmt).take(index)


def code_column(index: np.ndarray, codes) -> pa.Array:
    """Codes by index into `codes`; a negative index becomes null."""
    index = np.asarray(index, dtype=np.int64)
    missing = index < 0
    return pa.array(list(codes), type=pa.string()).take(
        pa.array(np.where(missing, 0, index), mask=missing)
    )


def int_column(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Integers; `missing` rows become null."""
    return pa.array(np.asarray(values, dtype=np.int64), mask=missing)


def concat_text(*parts, sep: str = "") -> pa.Array:
    """Element-wise concatenation of text columns (or scalars); nulls are skipped."""
    parts = [p if isinstance(p, pa.Array | pa.ChunkedArray) else pa.scalar(p) for p in parts]
    return pc.binary_join_element_wise(*parts, sep, null_handling="skip")


def padded(values: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded text."""
    return pc.utf8_lpad(
        pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string()), width=width, padding="0"
    )


def unrecorded(rng, codes: np.ndarray, share: float) -> np.ndarray:
    """Code indices with a share of them not recorded (-1: an empty field). Draws
    nothing at share 0, so that a world without missingness stays as it was."""
    if share <= 0:
        return codes
    return np.where(rng.random(len(codes)) < share, -1, codes)
