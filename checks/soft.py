"""Soft expectations and the delivery's usability: each rule (a pure function → `Outcome`),
its threshold and its check (`CHECKS`, by layer) in one place, so that adding one touches
this module only.

The thresholds are not Settings fields (that object is shared by every stage); each check
names its threshold in its description and its outcome (e.g. "rejected rows of f ≤ 5.0%"),
so that a warning can be read against the threshold that raised it.

Exports `reject_share`, `unknown_code_shares`, `link_shares`, `link_share_drift`,
`link_share_bounds`, `plausible_reduction`, the thresholds and `CHECKS`.
"""

from functools import partial

import pandas as pd

from checks.framework import Check, Tables
from checks.rules import Outcome
from dagster_project.delivery.accounting import rejected_by_file
from dagster_project.delivery.schemas import (
    DELIVERY_FILES,
    RAW_TABLES,
    REJECTS_TABLE,
    STAGED_TABLES,
)
from dagster_project.orchestration.partitions import COHORT_YEAR_KEYS
from dagster_project.staging import unknown_code_counts
from dagster_project.vocabulary.link_status import ABSENT, AMBIGUOUS, LINK_STATUSES, MATCHED

# a file with more rejected rows than this share is unusable (e.g. a whole date column in the
# wrong format): blocking, since every figure would rest on a fraction of it
REJECT_SHARE_CEILING = 0.05
# a link-status share (of adult starters) moving more than this from the previous cohort
# year suggests a linkage or delivery change rather than a real one: warning
LINK_SHARE_DRIFT = 0.10
# plausible link-status shares of adult starters; the NTA study excluded 35% as ambiguous
LINK_SHARE_BOUNDS = {MATCHED: (0.10, 0.90), ABSENT: (0.05, 0.80), AMBIGUOUS: (0.0, 0.50)}
# the cohort's overall reduction in convictions (NTA: 26%); outside this it is implausible
REDUCTION_BOUNDS = (-0.50, 0.90)


def reject_share(file_name: str, raw_rows: int, rejected_rows: int, ceiling: float) -> Outcome:
    """A file whose rejected share is above the ceiling is unusable (e.g. a whole date
    column in the wrong format); a few rejects are the normal case (METHOD.md §9)."""
    share = rejected_rows / raw_rows if raw_rows else 0.0
    return Outcome(f"rejected rows of {file_name} ≤ {ceiling:.1%}", share <= ceiling,
                   rejected_rows, observed=f"{share:.2%} of {raw_rows} rows rejected")


def unknown_code_shares(counts: dict[str, int], rows: int, ceiling: float) -> Outcome:
    """Per coded field, rows whose code the reference lacks, against the warn share."""
    over = {f: n for f, n in counts.items() if rows and n / rows > ceiling}
    return Outcome(
        f"unknown codes ≤ {ceiling:.1%} of rows per field", not over, sum(over.values()),
        tuple(f"{f}: {n / rows:.2%}" for f, n in over.items()),
        observed=", ".join(f"{f} {n}" for f, n in counts.items()),
    )


def link_shares(funnel: pd.DataFrame) -> pd.Series:
    """Each link status's share of adult starters, where both cells are shown."""
    persons = funnel.set_index("stage")["persons"].astype("Float64")
    return (persons.reindex(list(LINK_STATUSES)) / persons.get("adult_starters")).dropna()


def link_share_drift(funnel: pd.DataFrame, previous: pd.DataFrame | None,
                     max_change: float) -> Outcome:
    """Link-status shares moved at most `max_change` from the previous cohort year."""
    rule = f"link-status shares within {max_change:.0%} points of the previous cohort year"
    if previous is None or previous.empty:
        return Outcome(rule, True, observed="no previous cohort year in the warehouse")
    change = (link_shares(funnel) - link_shares(previous)).dropna()
    moved = change[change.abs() > max_change]
    return Outcome(rule, moved.empty, len(moved),
                   tuple(f"{s}: {v:+.1%}" for s, v in moved.items()),
                   observed=", ".join(f"{s} {v:+.1%}" for s, v in change.items()))


def link_share_bounds(funnel: pd.DataFrame, bounds: dict) -> Outcome:
    """Link-status shares of adult starters inside their plausible bounds."""
    shares = link_shares(funnel)
    out = [s for s, v in shares.items() if not bounds[s][0] <= v <= bounds[s][1]]
    return Outcome("link-status shares within plausible bounds", not out, len(out),
                   tuple(f"{s}: {shares[s]:.1%} not in {bounds[s]}" for s in out),
                   observed=", ".join(f"{s} {v:.1%}" for s, v in shares.items()))


def plausible_reduction(outcomes: pd.DataFrame, low: float, high: float) -> Outcome:
    """The cohort's overall reduction lies in [low, high] (unless suppressed)."""
    rule = f"overall reduction between {low:.0%} and {high:.0%}"
    rows = outcomes.loc[outcomes["dimension"].eq("all"), "reduction"].dropna()
    if rows.empty:
        return Outcome(rule, True, observed="suppressed or absent")
    value = float(rows.iloc[0])
    return Outcome(rule, low <= value <= high, int(not low <= value <= high),
                   observed=f"{value:.1%}")


# ---- the checks: how each rule reads the warehouse, by layer

def _reject_share(file_name: str, tables: Tables) -> list[Outcome]:
    wh = tables.warehouse
    rejected = rejected_by_file(wh).get(file_name, 0)
    return [reject_share(file_name, wh.row_count(RAW_TABLES[file_name]), int(rejected),
                         REJECT_SHARE_CEILING)]


_CODED = {"ndtms_episodes.csv": ["rfls", "drug1", "drug2", "drug3", "disrsn"],
          "pnc_offences.csv": ["cjs_code"]}


def _unknown_codes(table: str, columns: list[str], tables: Tables) -> list[Outcome]:
    staged = tables.read(table, columns=columns)
    share = tables.settings.unknown_code_warn_share
    return [unknown_code_shares(unknown_code_counts(staged), len(staged), share)]


def _previous_year(key: str) -> str | None:
    at = COHORT_YEAR_KEYS.index(key)
    return COHORT_YEAR_KEYS[at - 1] if at else None


def _drift(tables: Tables) -> list[Outcome]:
    before = _previous_year(tables.partition)
    previous = tables.read("cohort_funnel", before) if before else None
    return [link_share_drift(tables.read("cohort_funnel"), previous, LINK_SHARE_DRIFT)]


_LOW, _HIGH = REDUCTION_BOUNDS
CHECKS = {
    "staging_checks": [
        Check(STAGED_TABLES[f], "reject_share", f"Rejected rows of {f} at most "
              f"{REJECT_SHARE_CEILING:.0%}: above it the delivery is unusable.",
              partial(_reject_share, f), deps=(RAW_TABLES[f], REJECTS_TABLE))
        for f in DELIVERY_FILES
    ] + [
        Check(STAGED_TABLES[f], "unknown_codes", "Share of codes the reference lacks, per "
              "field, at most settings.unknown_code_warn_share.",
              partial(_unknown_codes, STAGED_TABLES[f], columns), blocking=False)
        for f, columns in _CODED.items()
    ],
    "cohort_checks": [
        Check("cohort_funnel", "link_share_drift", "Link-status shares within "
              f"{LINK_SHARE_DRIFT:.0%} points of the previous cohort year.", _drift,
              blocking=False),
        Check("cohort_funnel", "link_share_bounds", "Link-status shares of adult starters "
              "within plausible bounds.", lambda t: [link_share_bounds(
                  t.read("cohort_funnel"), LINK_SHARE_BOUNDS)], blocking=False),
    ],
    "outcome_checks": [
        Check("outcome_table", "plausible_reduction", f"Overall reduction between {_LOW:.0%} "
              f"and {_HIGH:.0%}.", lambda t: [plausible_reduction(
                  t.read("outcome_table"), _LOW, _HIGH)], blocking=False),
    ],
}
