"""Cohort years (English financial years named `2006-07`) and extract maturity (METHOD.md §1–2).

Exports `cohort_year_bounds`, `cohort_year_of`, `required_extract_date`, `is_mature`,
`check_mature` and `ImmatureCohortYear`.
"""

import re
from datetime import date, datetime, timedelta

import pandas as pd

from dagster_project.settings import Settings

_COHORT_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


class ImmatureCohortYear(ValueError):
    """The extract is too early to cover a cohort year's follow-up and waiting period."""


def _first_year(cohort_year: str) -> int:
    found = _COHORT_YEAR.match(cohort_year)
    if not found or (int(found[1]) + 1) % 100 != int(found[2]):
        raise ValueError(f"a cohort year is written like '2006-07', not {cohort_year!r}")
    return int(found[1])


def cohort_year_bounds(cohort_year: str) -> tuple[date, date]:
    """First and last day of a cohort year: `2006-07` → (2006-04-01, 2007-03-31)."""
    year = _first_year(cohort_year)
    return date(year, 4, 1), date(year + 1, 3, 31)


def cohort_year_of(day: date | datetime | pd.Timestamp) -> str:
    """The cohort year a date falls in: 2007-03-31 → `2006-07`, 2007-04-01 → `2007-08`."""
    year = day.year if day.month >= 4 else day.year - 1
    return f"{year}-{(year + 1) % 100:02d}"


def required_extract_date(cohort_year: str, settings: Settings) -> date:
    """The first extract date that covers a cohort year: 31 March Y+1 + window + waiting
    period days, as METHOD.md §2 writes it (`2006-07` → 2009-09-29, since 2008 is a leap year)."""
    last_index_day = cohort_year_bounds(cohort_year)[1]
    return last_index_day + timedelta(days=settings.window_days + settings.waiting_period_days)


def _as_date(day: date | datetime | pd.Timestamp | str) -> date:
    return pd.Timestamp(day).date()


def is_mature(cohort_year: str, extract_date, settings: Settings) -> bool:
    """True when the extract is late enough for every member's after window to be proven."""
    return _as_date(extract_date) >= required_extract_date(cohort_year, settings)


def check_mature(cohort_year: str, extract_date, settings: Settings) -> None:
    """Refuse an immature cohort year with a message naming the extract date it needs."""
    if not is_mature(cohort_year, extract_date, settings):
        needed = required_extract_date(cohort_year, settings)
        raise ImmatureCohortYear(
            f"cohort year {cohort_year} needs an extract dated {needed.isoformat()} or later "
            f"(31 March + {settings.window_days} + {settings.waiting_period_days} days); "
            f"the extract is dated {_as_date(extract_date).isoformat()}"
        )


def newest_mature_cohort_year(extract_date, settings: Settings) -> str:
    """The newest cohort year whose follow-up an extract covers (what the yearly schedule and
    the CLI run by default): 2009-10-31 → `2006-07`."""
    year = _as_date(extract_date).year
    candidates = (f"{y}-{(y + 1) % 100:02d}" for y in range(year, year - 10, -1))
    for cohort_year in candidates:
        if is_mature(cohort_year, extract_date, settings):
            return cohort_year
    raise ImmatureCohortYear(f"no cohort year is mature on an extract dated {extract_date}")
