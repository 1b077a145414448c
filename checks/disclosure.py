"""The disclosure audit as a blocking check of everything published for a cohort year
(METHOD.md §6): the published outcome table and funnel as the warehouse holds them, bounded
against the member sets by `dagster_project.cohort.disclosure` (linear programming).

Exports `disclosure_audit` and its check, `CHECKS`.
"""

import pandas as pd

from checks.framework import Check, Tables
from checks.rules import Outcome
from dagster_project.cohort.disclosure import disclosure_findings

_RULES = (
    "published cells agree with the persons of their sets (cohort_members)",
    "no person count below the threshold is shown",
    "no suppressed or implicit cell recoverable to within the threshold (LP bounds)",
)


def _position(cell) -> str:
    if cell and cell[0] == "implicit":
        return "implicit remainder"
    table, key, column = cell[0] if isinstance(cell[0], tuple) else cell
    where = ":".join(key) if isinstance(key, tuple) else key
    return f"{table} {where} {column}"


def disclosure_audit(outcomes: pd.DataFrame, funnel: pd.DataFrame, members: pd.DataFrame,
                     by_group: pd.DataFrame, threshold: int) -> list[Outcome]:
    """Outcomes of the audit; positions are table, row and column, never a value."""
    try:
        found = disclosure_findings(outcomes, funnel, members, by_group, threshold)
    except ValueError as error:  # the sets are not the rows' persons: nothing to bound
        return [Outcome(_RULES[0], False, 1, observed=str(error))]
    small = [_position(c) for c in found["small"]]
    recoverable = [_position(c) for c in found["recoverable"]]
    return [
        Outcome(_RULES[0], True),
        Outcome(_RULES[1], not small, len(small), tuple(small[:10])),
        Outcome(_RULES[2], not recoverable, len(recoverable), tuple(recoverable[:10]),
                observed=f"threshold {threshold}"),
    ]


def _audit(tables: Tables) -> list[Outcome]:
    return disclosure_audit(
        tables.read("outcome_table"), tables.read("cohort_funnel"),
        tables.read("cohort_members"), tables.read("cohort_convictions_by_group"),
        tables.settings.disclosure_threshold)


CHECKS = {
    "outcome_checks": [
        Check("outcome_table", "disclosure_audit", "Nothing published for the cohort year "
              "(outcome table and funnel) shows fewer than the threshold's persons or lets a "
              "suppressed cell be recovered to within it (linear-programming bounds, METHOD.md "
              "§6).", _audit, deps=("cohort_funnel", "cohort_members",
                                    "cohort_convictions_by_group")),
    ],
}
