"""Checks of the comparison group's tables (METHOD.md §6, §10).

Exports `disclosure`, `balance` and their checks, `CHECKS`.
"""

import numpy as np
import pandas as pd

from checks.framework import Check
from checks.rules import Outcome
from dagster_project.comparison import comparison_disclosure_findings

BALANCE_CEILING = 0.1  # |standardised difference| after weighting (METHOD.md §10)


def disclosure(outcomes: pd.DataFrame, threshold: int) -> list[Outcome]:
    """No person count of comparison_outcomes below the threshold shown or recoverable
    (positions dimension:group:column, never a value)."""
    found = comparison_disclosure_findings(outcomes, threshold)
    return [Outcome("no person count below the threshold shown or recoverable", not found,
                    len(found), tuple(found[:10]), observed=f"threshold {threshold}")]


def balance(table: pd.DataFrame, ceiling: float = BALANCE_CEILING) -> list[Outcome]:
    """Every covariate balanced after weighting (|SMD| at most the ceiling)."""
    smd = table["smd_after_weighting"].astype(float).abs()
    over = table.loc[smd.gt(ceiling).to_numpy() | smd.isna().to_numpy(), "covariate"]
    worst = float(np.nanmax(smd)) if smd.notna().any() else float("nan")
    return [Outcome(f"standardised difference after weighting at most {ceiling}", over.empty,
                    len(over), tuple(over.astype(str)[:10]), observed=f"max {worst:.3f}")]


CHECKS = {
    "comparison_checks": [
        Check("comparison_outcomes", "disclosure", "No cell of comparison_outcomes shows or "
              "lets one recover fewer than the threshold's persons (n, n_treated, n_controls, "
              "controls_treated_later; complements and partitions; METHOD.md §6).",
              lambda t: disclosure(t.read("comparison_outcomes"),
                                   t.settings.disclosure_threshold)),
        Check("comparison_balance", "balance", f"Every covariate's standardised difference "
              f"after weighting at most {BALANCE_CEILING} (METHOD.md §10).",
              lambda t: balance(t.read("comparison_balance")), blocking=False),
    ],
}
