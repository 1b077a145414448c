"""Disclosure control of `comparison_outcomes` (METHOD.md §6, §10: persons in `n_treated`
and `n_controls`).

Exports `publish_comparison`, `comparison_disclosure_findings`, `COUNT_COLUMNS`.

Person counts of fewer than the threshold are suppressed (missing; shown as `*`), and with
them every figure of a row whose matched members are that few. Secondary disclosure, by
the relations between the published cells:
- complements within a row: members not matched (`n` − `n_treated`) and controls who did
  not start later (`n_controls` − `controls_treated_later`);
- a dimension's groups partition the matched members (`n`, `n_treated` add up to the `all`
  row): the suppressed cells of a dimension must together hold at least the threshold, so
  one suppressed cell is never recoverable alone (the next smallest goes too).
Control persons may serve in several groups, so `n_controls` does not add up over groups.
"""

import numpy as np
import pandas as pd

COUNT_COLUMNS = ["n", "n_treated", "n_controls", "controls_treated_later"]
_ADDITIVE = ["n", "n_treated"]
_FIGURES = ["before_treated", "after_treated", "before_controls", "after_controls",
            "naive_reduction", "control_reduction", "adjusted_reduction", "ci_low", "ci_high",
            "max_abs_smd"]


def _small(values: pd.Series, threshold: int) -> pd.Series:
    return values.notna() & (values > 0) & (values < threshold)


def _suppress_partitions(table: pd.DataFrame, threshold: int) -> None:
    """Hide further cells of a dimension until its hidden cells hold at least the
    threshold together (their total is the all row less the shown cells)."""
    for column in _ADDITIVE:
        for dimension, rows in table.groupby("dimension"):
            if dimension in ("all", "placebo"):
                continue
            true = table.loc[rows.index, "_true_" + column].to_numpy()
            hidden = table.loc[rows.index, column].isna().to_numpy().copy()
            if not hidden.any():
                continue
            while true[hidden].sum() < threshold and not hidden.all():
                shown = np.flatnonzero(~hidden)
                hidden[shown[np.argmin(true[shown])]] = True
            table.loc[rows.index[hidden], column] = np.nan


def publish_comparison(outcomes: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The table as it may be published."""
    table = outcomes.copy()
    for column in COUNT_COLUMNS:
        table[column] = table[column].astype("Float64").astype(float)
        table["_true_" + column] = table[column]
    few_matched = _small(table["n_treated"], threshold)
    table.loc[few_matched, _FIGURES] = np.nan
    for column in COUNT_COLUMNS:
        table.loc[_small(table[column], threshold), column] = np.nan
    table.loc[_small(table["_true_n"] - table["_true_n_treated"], threshold), "n_treated"] = np.nan
    later_gap = table["_true_n_controls"] - table["_true_controls_treated_later"]
    table.loc[_small(later_gap, threshold), "controls_treated_later"] = np.nan
    _suppress_partitions(table, threshold)
    return table.drop(columns=[c for c in table if c.startswith("_true_")])


def comparison_disclosure_findings(published: pd.DataFrame, threshold: int) -> list[str]:
    """Where a person count below the threshold is shown or recoverable (row positions as
    dimension:group:column, never a value)."""
    found = []

    def at(row, column):
        return f"{row['dimension']}:{row['group']}:{column}"

    for _, row in published.iterrows():
        for column in COUNT_COLUMNS:
            v = row[column]
            if pd.notna(v) and 0 < v < threshold:
                found.append(at(row, column))
        for whole, part in (("n", "n_treated"), ("n_controls", "controls_treated_later")):
            if pd.notna(row[whole]) and pd.notna(row[part]) and 0 < row[whole] - row[part] \
                    < threshold:
                found.append(at(row, f"{whole}-{part}"))
    totals = published[published["dimension"] == "all"].set_index("dimension")
    for column in _ADDITIVE:
        if "all" not in totals.index or pd.isna(totals.loc["all", column]):
            continue
        for dimension, rows in published.groupby("dimension"):
            if dimension in ("all", "placebo"):
                continue
            hidden = rows[column].isna()
            rest = totals.loc["all", column] - rows.loc[~hidden, column].sum()
            if hidden.any() and 0 < rest < threshold:
                found.append(f"{dimension}:*:{column} (suppressed cells recoverable)")
    return found
