"""Disclosure control of published tables (METHOD.md §6).

Exports `suppress`, `publish_outcome_table`, `publish_funnel`, `to_published_text`
and `hidden_cells`.

Reading of "no cell of fewer than 5 persons": taken literally, a person count below the
threshold is suppressed *including 0* (a 0 is shown as `*` like 1–4). A figure derived from
the same persons goes with its count: when a row's `n` is small every figure of the row is
suppressed; when fewer than the threshold persons have a conviction in a window
(`persons_before` / `persons_after`), that window's conviction count and everything computed
from it (rate, reduction, interval) are suppressed too, since they describe those few persons.

Secondary suppression is the disclosure audit (`audit.py` over `published_cells.py`): the
relations between published cells come from the member sets, every suppressed cell is bounded
by linear programming, and further cells are hidden until none can be recovered to within the
threshold. The funnel is audited on its own when the cohort stage publishes it; the outcome
table is audited together with the funnel already published (which it may not change).
Derived figures (reduction, rates, interval, share) are shown only beside the counts they are
computed from, so the audit bounds the counts.
"""

import numpy as np
import pandas as pd

from dagster_project.cohort.audit import protect, unsafe_targets
from dagster_project.cohort.published_cells import (
    FUNNEL_TABLE,
    OUTCOME_COUNTS,
    OUTCOME_TABLE,
    PublishedCells,
    cohort_year_model,
)
from dagster_project.vocabulary.disclosure import SUPPRESSED

_FIGURES = ["reduction", "ci_low", "ci_high", "reduction_at_risk", "ci_at_risk_low",
            "ci_at_risk_high", "not_estimable", "share"]
# count column -> the figures computed from the same persons (outcome_table columns)
OUTCOME_DEPENDENTS = {
    # `imprecise` says n < 50: it goes with n
    "n": ["before", "after", "rate_before", "rate_after", "persons_before", "persons_after",
          "imprecise", *_FIGURES],
    "persons_before": ["before", "rate_before", *_FIGURES],
    "persons_after": ["after", "rate_after", *_FIGURES],
    "before": ["rate_before", *_FIGURES],
    "after": ["rate_after", *_FIGURES],
}
OUTCOME_PERSON_COUNTS = ["n", "persons_before", "persons_after"]


def _suppress_cell(mask: pd.DataFrame, rows, column: str, dependents: dict) -> None:
    mask.loc[rows, column] = True
    for dependent in dependents.get(column, []):
        if dependent in mask:
            mask.loc[rows, dependent] = True


def _primary(table: pd.DataFrame, count_columns: list[str], threshold: int,
             dependents: dict) -> pd.DataFrame:
    columns = list(dict.fromkeys([*count_columns,
                                  *[d for c in dependents.values() for d in c if d in table]]))
    mask = pd.DataFrame(False, index=table.index, columns=columns)
    for column in count_columns:
        small = table[column].lt(threshold).fillna(False).to_numpy()
        _suppress_cell(mask, table.index[small], column, dependents)
    return mask


def _apply(table: pd.DataFrame, mask: pd.DataFrame) -> pd.DataFrame:
    """The table with masked cells missing, plus `suppressed` and `suppressed_cells`."""
    published = table.copy()
    for column in mask.columns:
        if pd.api.types.is_integer_dtype(published[column]):
            published[column] = published[column].astype("Int64")
        elif pd.api.types.is_bool_dtype(published[column]):  # a flag stays a (nullable) flag
            published[column] = published[column].astype("boolean")
        published[column] = published[column].mask(mask[column].to_numpy())
    published["suppressed"] = mask.any(axis=1).to_numpy()
    names = np.array(mask.columns, dtype=object)
    published["suppressed_cells"] = [",".join(names[row]) for row in mask.to_numpy()]
    return published


def suppress(table: pd.DataFrame, count_columns: list[str], threshold: int, *,
             dependents: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """A copy of `table` with every person count below `threshold` (0 included) missing and
    the figures that depend on it (`dependents`) missing too: primary suppression only.
    Adds `suppressed` (any cell of the row) and `suppressed_cells` (comma-separated names)."""
    return _apply(table, _primary(table, count_columns, threshold, dependents or {}))


def _row_key(table_name: str, row: dict):
    return (row["dimension"], row["group"]) if table_name == OUTCOME_TABLE else row["stage"]


def hidden_cells(cells: PublishedCells, table_name: str, table: pd.DataFrame,
                 mask: pd.DataFrame | None = None) -> set[int]:
    """Cells of `table` hidden by `mask` (default: missing in the published table)."""
    columns = OUTCOME_COUNTS if table_name == OUTCOME_TABLE else ["persons"]
    hidden = set()
    for position, row in enumerate(table.to_dict("records")):
        key = _row_key(table_name, row)
        for column in columns:
            is_hidden = mask.iloc[position][column] if mask is not None else pd.isna(row[column])
            if is_hidden:
                hidden.add(cells.index[(table_name, key, column)])
    return hidden


def _expander(cells: PublishedCells):
    """Hiding an outcome count hides the counts computed from the same persons with it."""
    def expand(i: int) -> set[int]:
        table_name, key, column = cells.model.cells[i]
        if table_name != OUTCOME_TABLE:
            return {i}
        along = [c for c in OUTCOME_DEPENDENTS.get(column, []) if c in OUTCOME_COUNTS]
        return {i} | {cells.index[(table_name, key, c)] for c in along}
    return expand


def _audit(cells: PublishedCells, table_name: str, table: pd.DataFrame, mask: pd.DataFrame,
           threshold: int, dependents: dict, frozen: set[int]) -> pd.DataFrame:
    """The mask grown by the audit's further suppressions (with their dependents)."""
    hidden = hidden_cells(cells, table_name, table, mask) | frozen_hidden(cells, frozen)
    hidden = protect(cells.model, hidden, threshold, frozen=frozen, expand=_expander(cells))
    position = {_row_key(table_name, r): p for p, r in enumerate(table.to_dict("records"))}
    grown = {column: mask[column].to_numpy(copy=True) for column in mask.columns}
    for i in hidden:
        name, key, column = cells.model.cells[i]
        if name == table_name:
            for hide in [column, *dependents.get(column, [])]:
                if hide in grown:
                    grown[hide][position[key]] = True
    return pd.DataFrame(grown, index=mask.index)


def frozen_hidden(cells: PublishedCells, frozen: set[int]) -> set[int]:
    return {i for i in frozen if np.isnan(cells.model.values[i])}


def publish_funnel(funnel: pd.DataFrame, threshold: int, members: pd.DataFrame) -> pd.DataFrame:
    """The funnel under disclosure control, audited on its own (its cohort split by link
    status from `members`: the cohort is part of the matched and absent stages)."""
    funnel = funnel.reset_index(drop=True)
    mask = _primary(funnel, ["persons"], threshold, {})
    cells = cohort_year_model(members, _no_convictions(), funnel=funnel)
    return _apply(funnel, _audit(cells, FUNNEL_TABLE, funnel, mask, threshold, {}, set()))


def publish_outcome_table(table: pd.DataFrame, threshold: int, members: pd.DataFrame,
                          by_group: pd.DataFrame,
                          funnel: pd.DataFrame | None = None) -> pd.DataFrame:
    """`outcome_table` under disclosure control, audited together with the published
    `funnel` (when given), whose cells stay as published."""
    table = table.reset_index(drop=True)
    mask = _primary(table, OUTCOME_PERSON_COUNTS, threshold, OUTCOME_DEPENDENTS)
    cells = cohort_year_model(members, by_group, outcomes=table, funnel=funnel)
    frozen = {i for i, c in enumerate(cells.model.cells) if c[0] == FUNNEL_TABLE}
    mask = _audit(cells, OUTCOME_TABLE, table, mask, threshold, OUTCOME_DEPENDENTS, frozen)
    return _apply(table, mask)


def disclosure_findings(outcomes: pd.DataFrame | None, funnel: pd.DataFrame | None,
                        members: pd.DataFrame, by_group: pd.DataFrame,
                        threshold: int) -> dict[str, list]:
    """What an audit of the published tables finds: shown person counts below the threshold
    (`small`) and suppressed or implicit cells recoverable to within it (`recoverable`)."""
    cells = cohort_year_model(members, by_group, outcomes=outcomes, funnel=funnel)
    model = cells.model
    hidden = {i for i in range(len(model.cells)) if np.isnan(model.values[i])}
    small = [cell for cell, value in zip(model.cells, model.values, strict=True)
             if cell[2] in ("n", "persons", *OUTCOME_PERSON_COUNTS[1:]) and value < threshold]
    unsafe = unsafe_targets(model, hidden, threshold)
    return {"small": small,
            "recoverable": [t.cells or ("implicit", t.terms) for t in unsafe]}


def _no_convictions() -> pd.DataFrame:
    return pd.DataFrame({"person_key": pd.Series(dtype="str"),
                         "offence_group": pd.Series(dtype="str"),
                         "before": pd.Series(dtype="int64"), "after": pd.Series(dtype="int64")})


def to_published_text(table: pd.DataFrame) -> pd.DataFrame:
    """Every value as text for export: suppressed cells `*`, other missing values empty."""
    text = table.astype(object).where(table.notna(), "").astype(str)
    hidden = table["suppressed_cells"].str.split(",")
    for column in table.columns:
        is_hidden = hidden.map(lambda cells, c=column: c in cells).to_numpy(dtype=bool)
        text.loc[is_hidden, column] = SUPPRESSED
    return text
