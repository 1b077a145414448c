"""The shared mechanics of staging: the first failing rule per row, and the staged frame.

Exports `split_by_rules`, `repeats_earlier_row`, `staged_frame`, `empty_rejects`.
"""

import numpy as np
import pandas as pd

from dagster_project.delivery.schemas import PROVENANCE_COLUMNS, REJECT_COLUMNS, STAGED_COLUMNS

Rule = tuple[str, "np.ndarray | pd.Series"]


def split_by_rules(raw: pd.DataFrame, rules: list[Rule]) -> tuple[np.ndarray, pd.DataFrame]:
    """Which raw rows pass every rule, and a reject row (provenance + reason) for each row
    that does not. `rules` are (reason, failing-row mask) in METHOD.md's order: a row carries
    the reason of the first rule it fails, one reason per row."""
    masks = [np.asarray(mask, dtype=bool) for _, mask in rules]
    # rule numbers from 1; np.select picks the first condition that holds
    failed = (
        np.select(masks, np.arange(1, len(rules) + 1), 0)
        if rules
        else np.zeros(len(raw), dtype="int64")
    )
    rejected = failed > 0
    reasons = np.array([reason for reason, _ in rules] or [""], dtype=object)
    rejects = raw.loc[rejected, PROVENANCE_COLUMNS].reset_index(drop=True)
    rejects["reason"] = pd.Series(reasons[failed[rejected] - 1], dtype="str")
    return ~rejected, _typed_rejects(rejects)


def repeats_earlier_row(raw: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Whether each row's key, as delivered (missing equals missing), occurs on an earlier
    row, staged or not: the first occurrence is kept."""
    return raw.duplicated(key, keep="first").to_numpy()


def _typed_rejects(rejects: pd.DataFrame) -> pd.DataFrame:
    return rejects.astype(
        {"extract_date": "str", "source_file": "str", "line_number": "int64", "reason": "str"}
    )[REJECT_COLUMNS]


def empty_rejects() -> pd.DataFrame:
    return _typed_rejects(pd.DataFrame({name: [] for name in REJECT_COLUMNS}))


def staged_frame(
    file_name: str, raw: pd.DataFrame, columns: dict[str, object], keep: np.ndarray
) -> pd.DataFrame:
    """The rows kept, with exactly STAGED_COLUMNS[file_name] (typed) then the provenance.

    `columns` holds the typed or derived columns; any other staged column is taken from the
    raw text as delivered."""
    staged = {}
    for name, kind in STAGED_COLUMNS[file_name].items():
        values = columns[name] if name in columns else raw[name]
        values = pd.Series(np.asarray(values) if kind == "bool" else values, index=raw.index)
        staged[name] = values[keep].astype(_DTYPES[kind])
    for name, dtype in zip(PROVENANCE_COLUMNS, ("str", "str", "int64"), strict=True):
        staged[name] = raw[name][keep].astype(dtype)
    # copy=False: a dict of columns is otherwise copied whole once more
    return pd.DataFrame(staged, copy=False).reset_index(drop=True)


_DTYPES = {"str": "str", "date": "datetime64[us]", "Int64": "Int64", "bool": "bool"}
