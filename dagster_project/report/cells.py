"""Published cells as the report shows them: suppressed cells `*`, counts, percentages, rates.

Every value the report or an export shows passes through here, so disclosure control has one
gate: a cell listed in its row's `suppressed_cells` is never turned into a number, and `gate`
re-checks every person count against the threshold before anything is shown.

Exports `hidden`, `value`, `shown`, `gate`, `guard_counts`, `guard_replication`,
`label`, `fmt_count`, `fmt_pct`, `fmt_rate`, `COUNT_COLUMNS`.
"""

import math

import pandas as pd

from dagster_project.analysis.replication import COUNT_FIGURES
from dagster_project.vocabulary.disclosure import SUPPRESSED

# columns that count persons (or convictions of at least as many persons) in published tables
COUNT_COLUMNS = ["persons", "n", "before", "after", "persons_before", "persons_after"]

_LABELS = {
    "<3m": "under 3 months", "3-6m": "3–6 months", "6-12m": "6–12 months",
    "12-24m": "12–24 months", "retained_2y": "retained 2 years", "<6m": "under 6 months",
    ">=6m": "6 months or more", "1": "male", "2": "female", "9": "not stated",
    "all": "whole cohort",
}


def label(code: object) -> str:
    """A group or stage code in plain words (`opiate_and_crack` → `opiate and crack`)."""
    text = str(code)
    return _LABELS.get(text, text.replace("_", " "))


def hidden(row: pd.Series, column: str) -> bool:
    """Whether `column` of a published row is suppressed."""
    cells = row.get("suppressed_cells", "")
    return isinstance(cells, str) and column in cells.split(",")


def value(row: pd.Series, column: str) -> float | None:
    """A published cell as a number, or None when it is suppressed or missing."""
    if column not in row or hidden(row, column):
        return None
    cell = row[column]
    if cell is None or pd.isna(cell):
        return None
    return float(cell)


def guard_counts(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """A copy in which every count cell below `threshold` (0 included) hides its whole row.

    The warehouse's published tables already passed disclosure control (§6); this second gate
    makes the report safe even for a table published under a lower threshold or written by
    hand, at the cost of hiding more than strictly needed in that unexpected case.
    """
    table = table.copy()
    if "suppressed_cells" not in table:
        table["suppressed_cells"] = ""
    table["suppressed_cells"] = table["suppressed_cells"].fillna("").astype(str)
    counts = [c for c in COUNT_COLUMNS if c in table]
    numeric = table[counts].apply(pd.to_numeric, errors="coerce")
    small = numeric.lt(threshold).any(axis=1).to_numpy()
    if small.any():
        every = ",".join(c for c in table.columns if c not in ("suppressed", "suppressed_cells"))
        table.loc[small, "suppressed_cells"] = every
        if "suppressed" in table:
            table.loc[small, "suppressed"] = True
    return table


def _is_missing(number: float | None) -> bool:
    return number is None or (isinstance(number, float) and math.isnan(number))


def fmt_count(number: float | None) -> str:
    return "" if _is_missing(number) else f"{number:,.0f}"


def fmt_pct(number: float | None) -> str:
    # a true minus sign: a falling reduction must not read as a hyphenated range
    return "" if _is_missing(number) else f"{number:.1%}".replace("-", "−")


def fmt_rate(number: float | None) -> str:
    return "" if _is_missing(number) else f"{number:.2f}"


def shown(row: pd.Series, column: str, fmt) -> str:
    """A published cell as text: `*` when suppressed, empty when missing, else `fmt(value)`."""
    if hidden(row, column):
        return SUPPRESSED
    return fmt(value(row, column))


# a suppressed (missing) count formatted as text by the replication table
_NA_TEXT = ("<NA>", "nan")


def _number(text: object) -> float | None:
    try:
        return float(str(text).replace(",", ""))
    except ValueError:
        return None


def guard_replication(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The replication table with a pipeline count below the threshold hidden (added to
    `suppressed_cells`): its values come from published tables, so this is a second gate."""
    table = table.reset_index(drop=True).copy()
    pipeline = [c for c in table.columns if c.startswith("pipeline_")]
    before = table.get("suppressed_cells", pd.Series("", index=table.index)).fillna("")
    cells = []
    for (_, row), known in zip(table.iterrows(), before, strict=True):
        small = [c for c in pipeline if str(row[c]) in _NA_TEXT or (
            row["id"] in COUNT_FIGURES and (n := _number(row[c])) is not None and n < threshold)]
        cells.append(",".join(dict.fromkeys([*filter(None, str(known).split(",")), *small])))
    table["suppressed_cells"] = cells
    return table


def gate(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The report's disclosure gate for any published table (see `guard_counts`)."""
    if "id" in table and any(c.startswith("pipeline_") for c in table.columns):
        return guard_replication(table, threshold)
    return guard_counts(table, threshold)
