"""Expected refusals: what was asked cannot be given from the data at hand (a cohort year the
delivery does not cover yet, no complete delivery, a malformed file). The CLI prints one as a
single plain line that says what to do, and exits with 2; an unexpected error keeps its trace.

Exports `Refusal`, `immature_refusal`, `no_delivery_refusal`, `newest_refused`,
`expected_refusal`,
`synthetic_extract_date`.
"""

from datetime import date
from pathlib import Path

from dagster_project.cohort.years import required_extract_date
from dagster_project.settings import Settings

# failures of a run step that are the data's, not the code's (their classes' names, as
# Dagster's serialised errors carry them)
_EXPECTED = {"DeliveryError": "fix or replace the delivery; the warehouse keeps what it had",
             "ImmatureCohortYear": "land a later delivery"}


class Refusal(Exception):
    """A request the data cannot serve; the message names what to do."""


def synthetic_extract_date(needed: date) -> date:
    """The first 31 October on or after `needed`: deliveries are extracted at October's end."""
    october = date(needed.year, 10, 31)
    return october if october >= needed else date(needed.year + 1, 10, 31)


def _later_delivery_hint(needed: date) -> str:
    return (f"land a delivery dated {needed.isoformat()} or later and run `reconviction run` "
            f"(a synthetic one: `reconviction synth --extract-date "
            f"{synthetic_extract_date(needed).isoformat()}`)")


def immature_refusal(cohort_years: list[str], extract_date: str, settings: Settings) -> Refusal:
    """The cohort years the extract does not cover, each with the extract date it needs."""
    needs = {year: required_extract_date(year, settings) for year in cohort_years}
    which = ", ".join(f"{year} needs an extract dated {needed.isoformat()} or later"
                      for year, needed in needs.items())
    return Refusal(f"not mature on the extract dated {extract_date}: {which}; "
                   + _later_delivery_hint(max(needs.values())))


def no_delivery_refusal(landing_dir: Path, passed_over: list[str]) -> Refusal:
    why = f" (incomplete: {'; '.join(passed_over)})" if passed_over else ""
    return Refusal(f"no complete delivery in {landing_dir}{why}; put one there (a folder named "
                   "by its extract date with manifest.json and the four CSV files) or make a "
                   "synthetic one with `reconviction synth`")


def newest_refused(passed_over: list[str], older: Path) -> Refusal:
    """The newest delivery (or several) cannot be used: say which and why, and that the run
    does not fall back to the older complete one."""
    return Refusal(f"delivery {'; '.join(passed_over)}; not falling back to {older.name}: fix "
                   "or remove the newer delivery (the warehouse keeps what it had)")


def expected_refusal(causes: list[tuple[str, str, str]]) -> Refusal | None:
    """A refusal for a failed run whose cause is the data's (step, class name, message), or
    None when some failure is unexpected (its trace belongs in the log)."""
    if not causes or any(cls not in _EXPECTED for _, cls, _ in causes):
        return None
    _, cls, message = causes[0]
    return Refusal(f"{message}; {_EXPECTED[cls]}")
