"""Disclosure control of published tables (METHOD.md §6).

Exports `suppress`, `publish_outcome_table`, `publish_funnel`, `to_published_text` and
`SUPPRESSED`.

Reading of "no cell of fewer than 5 persons": taken literally, a person count below the
threshold is suppressed *including 0* (a 0 is shown as `*` like 1–4). A figure derived from
the same persons goes with its count: when a row's `n` is small every figure of the row is
suppressed; when fewer than the threshold persons have a conviction in a window
(`persons_before` / `persons_after`), that window's conviction count and everything computed
from it (rate, reduction, interval) are suppressed too, since they describe those few persons.

Secondary suppression: a table declares additive *relations* (a total row and the rows that
add up to it, e.g. each dimension's groups and the `all` row). For every additive column,
whenever the parts really do add up to the total and exactly one cell of the relation is
suppressed, the smallest part still shown is suppressed as well (or the total when no part
is left), repeated until nothing changes; so no suppressed cell is the difference of shown ones.
"""

import numpy as np
import pandas as pd

SUPPRESSED = "*"
Relation = tuple[object, list]  # (label of the total row, labels of the rows adding up to it)

_FIGURES = ["reduction", "ci_low", "ci_high", "reduction_at_risk", "share"]
# count column -> the figures computed from the same persons (outcome_table columns)
OUTCOME_DEPENDENTS = {
    "n": ["before", "after", "rate_before", "rate_after", "persons_before", "persons_after",
          *_FIGURES],
    "persons_before": ["before", "rate_before", *_FIGURES],
    "persons_after": ["after", "rate_after", *_FIGURES],
    "before": ["rate_before", *_FIGURES],
    "after": ["rate_after", *_FIGURES],
}
OUTCOME_ADDITIVE = ["n", "persons_before", "persons_after", "before", "after"]
# combination dimensions add up to a row of another dimension, not to `all`
OUTCOME_PARENTS = {
    "completion_by_retention": ("exit_group", "successful_completion"),
    "completion_by_reentry": ("exit_group", "successful_completion"),
    "dropout_by_reentry": ("exit_group", "dropped_out"),
    "dropout_share_of_cohort": ("exit_group", "dropped_out"),
    "dropout_share_of_after": ("exit_group", "dropped_out"),
}


def _suppress_cell(mask: pd.DataFrame, rows, column: str, dependents: dict) -> None:
    mask.loc[rows, column] = True
    for dependent in dependents.get(column, []):
        if dependent in mask:
            mask.loc[rows, dependent] = True


def _secondary(table: pd.DataFrame, mask: pd.DataFrame, relations: list[Relation],
               additive: list[str], dependents: dict) -> None:
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            for column in additive:
                values = table.loc[parts, column]
                if not parts or values.sum() != table.at[total, column]:
                    continue  # not a sum of its parts: nothing to recover by subtraction
                hidden = mask.loc[[total, *parts], column]
                if hidden.sum() != 1:
                    continue
                shown = values[~mask.loc[parts, column]]
                victim = shown.idxmin() if len(shown) else total
                _suppress_cell(mask, [victim], column, dependents)
                changed = True


def suppress(
    table: pd.DataFrame,
    count_columns: list[str],
    threshold: int,
    *,
    dependents: dict[str, list[str]] | None = None,
    relations: list[Relation] | None = None,
    additive_columns: list[str] | None = None,
) -> pd.DataFrame:
    """A copy of `table` with every person count below `threshold` (0 included) missing, the
    figures that depend on it (`dependents`) missing too, and secondary suppression over
    `relations` (labels of `table.index`) for `additive_columns` (default: the counts).
    Adds `suppressed` (any cell of the row) and `suppressed_cells` (comma-separated names)."""
    dependents = dependents or {}
    additive = list(additive_columns or count_columns)
    columns = list(dict.fromkeys([*count_columns, *additive,
                                  *[d for c in dependents.values() for d in c if d in table]]))
    mask = pd.DataFrame(False, index=table.index, columns=columns)
    for column in count_columns:
        small = table[column].lt(threshold).fillna(False).to_numpy()
        _suppress_cell(mask, table.index[small], column, dependents)
    _secondary(table, mask, relations or [], additive, dependents)

    published = table.copy()
    for column in columns:
        if pd.api.types.is_integer_dtype(published[column]):
            published[column] = published[column].astype("Int64")
        published[column] = published[column].mask(mask[column].to_numpy())
    published["suppressed"] = mask.any(axis=1).to_numpy()
    names = np.array(columns, dtype=object)
    published["suppressed_cells"] = [",".join(names[row]) for row in mask.to_numpy()]
    return published


def _dimension_relations(table: pd.DataFrame, parents: dict) -> list[Relation]:
    """Each dimension's groups add up to the `all` row (or to their parent row)."""
    keys = zip(table["dimension"], table["group"], strict=True)
    label = dict(zip(keys, table.index, strict=True))
    relations = []
    for dimension, rows in table.groupby("dimension", sort=False).groups.items():
        total = label.get(parents.get(dimension, ("all", "all")))
        if dimension != "all" and total is not None:
            relations.append((total, list(rows)))
    # leavers and the retained are the whole cohort
    leavers = label.get(("leavers_post_exit_share", "leavers"))
    retained, everyone = label.get(("exit_group", "retained")), label.get(("all", "all"))
    if leavers is not None and everyone is not None:
        relations.append((everyone, [leavers] + ([retained] if retained is not None else [])))
    return relations


def publish_outcome_table(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """`outcome_table` under disclosure control (see the module docstring)."""
    table = table.reset_index(drop=True)
    return suppress(
        table, ["n", "persons_before", "persons_after"], threshold,
        dependents=OUTCOME_DEPENDENTS, relations=_dimension_relations(table, OUTCOME_PARENTS),
        additive_columns=OUTCOME_ADDITIVE,
    )


def publish_funnel(funnel: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The funnel under disclosure control; its identities (adult starters = matched + absent
    + ambiguous, study population = matched + absent) are the relations."""
    funnel = funnel.reset_index(drop=True)
    at = dict(zip(funnel["stage"], funnel.index, strict=True))
    relations = [
        (at["adult_starters"], [at["matched"], at["absent"], at["ambiguous"]]),
        (at["study_population"], [at["matched"], at["absent"]]),
        (at["adult_starters"], [at["study_population"], at["ambiguous"]]),
    ]
    return suppress(funnel, ["persons"], threshold, relations=relations)


def to_published_text(table: pd.DataFrame) -> pd.DataFrame:
    """Every value as text for export: suppressed cells `*`, other missing values empty."""
    text = table.astype(object).where(table.notna(), "").astype(str)
    hidden = table["suppressed_cells"].str.split(",")
    for column in table.columns:
        is_hidden = hidden.map(lambda cells, c=column: c in cells).to_numpy(dtype=bool)
        text.loc[is_hidden, column] = SUPPRESSED
    return text
