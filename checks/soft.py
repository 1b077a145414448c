"""Soft expectations and the delivery's usability (pure functions → `Outcome`s).

Exports `reject_share`, `unknown_code_shares`, `link_shares`, `link_share_drift`,
`link_share_bounds`, `plausible_reduction`.
"""

import pandas as pd

from checks.rules import Outcome
from dagster_project.vocabulary.link_status import LINK_STATUSES


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
