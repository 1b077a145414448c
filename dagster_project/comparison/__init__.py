"""The comparison group of METHOD.md §10: pure functions over DataFrames (no Dagster).

- `pool_tables(...)` — per delivery: every PNC person's convictions and custody spells
- `compare(...)` → `ComparisonResult` — per cohort year: matching, estimates, balance
- `publish_comparison`, `comparison_disclosure_findings` — §6 for `comparison_outcomes`
"""

from dagster_project.comparison.estimate import (
    BALANCE_COLUMNS,
    OUTCOME_COLUMNS,
    ComparisonResult,
    compare,
)
from dagster_project.comparison.pool import pool_tables
from dagster_project.comparison.publish import comparison_disclosure_findings, publish_comparison

__all__ = [
    "BALANCE_COLUMNS",
    "OUTCOME_COLUMNS",
    "ComparisonResult",
    "compare",
    "comparison_disclosure_findings",
    "pool_tables",
    "publish_comparison",
]
