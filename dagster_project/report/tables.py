"""HTML tables of published rows: every cell through `cells.shown`, so a suppressed cell is
`*` and nothing else. Count cells carry `class="count"` (tests read them back).

Exports `Column`, `html_table`, `OUTCOME_COLUMNS_SHOWN`, `funnel_rows`, `true_minus`,
`any_suppressed`.
"""

import re
from dataclasses import dataclass

import pandas as pd

from dagster_project.report.cells import fmt_count, fmt_pct, fmt_rate, hidden, label, shown, value
from dagster_project.report.templating import Markup, render
from dagster_project.vocabulary.disclosure import SUPPRESSED
from dagster_project.vocabulary.link_status import ADULT_STARTERS, LINK_STATUSES


@dataclass(frozen=True)
class Column:
    """One column of a shown table: which cell, its header, and how it is written."""

    name: str
    header: str
    kind: str = "text"  # text | label | count | pct | rate | ci | flag


OUTCOME_COLUMNS_SHOWN = [
    Column("group", "group", "label"),
    Column("n", "persons", "count"),
    Column("before", "convictions before", "count"),
    Column("after", "convictions after", "count"),
    Column("reduction", "reduction", "pct"),
    Column("ci", "95% CI", "ci"),
    Column("rate_before", "rate before", "rate"),
    Column("rate_after", "rate after", "rate"),
    Column("reduction_at_risk", "reduction, time at risk", "pct"),
    Column("ci_at_risk", "95% CI, time at risk", "ci"),
    Column("imprecise", "precision", "flag"),
]
NOT_ESTIMABLE = "not estimable"
IMPRECISE = "imprecise (under 50 persons)"

_FORMATS = {"count": fmt_count, "pct": fmt_pct, "rate": fmt_rate}


def _ci_text(row: pd.Series, bounds: tuple[str, str]) -> str:
    if hidden(row, bounds[0]) or hidden(row, bounds[1]):
        return SUPPRESSED
    low, high = value(row, bounds[0]), value(row, bounds[1])
    if low is None or high is None:
        # METHOD.md §5: unbounded, or nobody convicted after: the row says so
        return NOT_ESTIMABLE if _flag(row, "not_estimable") else ""
    return f"{fmt_pct(low)} to {fmt_pct(high)}"


def _flag(row: pd.Series, column: str) -> bool:
    cell = row.get(column)
    return not hidden(row, column) and cell is not None and not pd.isna(cell) and bool(cell)


_CI_BOUNDS = {"ci": ("ci_low", "ci_high"), "ci_at_risk": ("ci_at_risk_low", "ci_at_risk_high")}


def cell_text(row: pd.Series, column: Column) -> str:
    """The text of one cell of a published row."""
    if column.kind == "ci":
        return _ci_text(row, _CI_BOUNDS[column.name])
    if column.kind == "flag":
        if hidden(row, "n"):
            return SUPPRESSED
        return IMPRECISE if _flag(row, column.name) else ""
    if column.kind in _FORMATS:
        return shown(row, column.name, _FORMATS[column.kind])
    if hidden(row, column.name):
        return SUPPRESSED
    text = row.get(column.name, "")
    return label(text) if column.kind == "label" else true_minus(str(text))


# a hyphen before a digit that follows no letter or digit: a negative number, not a date
_NEGATIVE = re.compile(r"(?<![\w.])-(?=\d)")


def true_minus(text: str) -> str:
    """Numbers given as text (the replication table's) with the minus sign every other cell
    uses (U+2212): `-7.1%` and `−7.1%` side by side read as two different things."""
    return _NEGATIVE.sub("−", text)


def html_table(table: pd.DataFrame, columns: list[Column], caption: str = "") -> Markup:
    """A `<table>` of `table`'s rows; numeric columns right-aligned, `*` for suppressed."""
    rows = [[(c.kind, cell_text(row, c)) for c in columns]
            for _, row in table.iterrows()]  # published tables: tens of rows
    return render("table.html.j2", columns=columns, rows=rows, caption=caption)


def any_suppressed(*tables: pd.DataFrame) -> bool:
    """Whether any cell of the tables is suppressed (so a `*` footnote belongs under them)."""
    return any(
        table["suppressed_cells"].fillna("").astype(str).str.strip(", ").ne("").any()
        for table in tables if "suppressed_cells" in table
    )


def funnel_rows(funnel: pd.DataFrame) -> pd.DataFrame:
    """The funnel with each link status's share of adult starters (`share`), suppressed
    wherever either count is."""
    rows = funnel.set_index("stage", drop=False)
    adults = rows.loc[ADULT_STARTERS] if ADULT_STARTERS in rows.index else None
    out = funnel.copy()
    shares, hide = [], []
    for _, row in funnel.iterrows():
        is_status = row["stage"] in LINK_STATUSES
        persons = value(row, "persons")
        total = value(adults, "persons") if adults is not None else None
        share = persons / total if is_status and persons is not None and total else None
        shares.append(share)
        hide.append(is_status and (hidden(row, "persons") or total is None))
    out["share"] = shares
    out["suppressed_cells"] = [
        f"{cells},share" if h else cells
        for cells, h in zip(out["suppressed_cells"].fillna(""), hide, strict=True)
    ]
    return out
