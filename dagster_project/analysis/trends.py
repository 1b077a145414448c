"""Trends: every analysed cohort year's headline rows side by side. Plain module: no Dagster.

Exports `cohort_trends`, `year_column`, `TREND_MEASURES`.
"""

import pandas as pd

from dagster_project.vocabulary.dimensions import HEADLINE_DIMENSIONS
from dagster_project.vocabulary.partition import PARTITION_COLUMN

TREND_MEASURES = ["n", "before", "after", "reduction", "ci_low", "ci_high"]
_KEYS = ["dimension", "group", "measure"]


def year_column(cohort_year: str) -> str:
    """A cohort year as a warehouse column name: `2006-07` → `y2006_07` (a column name may
    not start with a digit or hold a hyphen)."""
    return "y" + cohort_year.replace("-", "_")


def cohort_trends(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per headline dimension × group × measure, one column per cohort year present
    in `outcomes` (the published outcome tables of any number of cohort years), oldest first.

    Suppressed cells stay missing; a group absent from a year is missing in that column."""
    headline = outcomes[outcomes["dimension"].isin(HEADLINE_DIMENSIONS)]
    long = headline.melt(
        id_vars=[PARTITION_COLUMN, "dimension", "group"],
        value_vars=TREND_MEASURES,
        var_name="measure",
    )
    long["value"] = pd.to_numeric(long["value"], errors="coerce").astype("float64")
    wide = long.pivot(index=_KEYS, columns=PARTITION_COLUMN, values="value")
    wide = wide[sorted(wide.columns)].rename(columns=year_column)
    wide.columns.name = None
    wide = wide.reset_index()
    # the order a reader expects: dimensions as the headline lists them, measures as above
    order = {
        "dimension": {d: i for i, d in enumerate(HEADLINE_DIMENSIONS)},
        "measure": {m: i for i, m in enumerate(TREND_MEASURES)},
    }
    wide = wide.sort_values(
        _KEYS, key=lambda s: s.map(order[s.name]) if s.name in order else s, kind="stable"
    )
    return wide.reset_index(drop=True)
