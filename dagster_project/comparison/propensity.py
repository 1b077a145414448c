"""The propensity score and the matching of METHOD.md §10.

Exports `covariate_names`, `design`, `column_sums`, `cells`, `Logit`, `logits_of_rows`,
`nearest_within_caliper`.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

from dagster_project.cohort.attributes import AGE_BANDS
from dagster_project.comparison.history import BEFORE_BANDS, BLOCKS, HISTORY_BANDS

_SEXES = ("male", "female")
_CELL_SPACING = 1000.0  # logits are clipped to ±499: cells never overlap on the sort key


def covariate_names(groups: list[str], forces: list[str]) -> list[str]:
    """Every column of the model, in order (the balance table's rows)."""
    return [
        *(f"sex={s}" for s in _SEXES),
        *(f"age_band={b}" for b in AGE_BANDS),
        *(f"before_band={b}" for b in BEFORE_BANDS),
        *(f"history_band={b}" for b in HISTORY_BANDS),
        "recent", "age",
        *(f"before_block_{k}" for k in range(1, BLOCKS + 1)),
        "days_since_latest_offence",
        *(f"before_{g}" for g in groups),
        "before_other_offences", "history_convictions", "custody_days_before",
        *(f"latest_force={f}" for f in forces),
        "earlier_treatment_journey",
    ]


def _one_hot(codes: np.ndarray, levels: int) -> np.ndarray:
    out = np.zeros((len(codes), levels), np.float32)
    ok = (codes >= 0) & (codes < levels)
    out[np.flatnonzero(ok), codes[ok]] = 1.0
    return out


def _parts(rows: dict, n_forces: int) -> list[tuple[np.ndarray, int]]:
    """The model's columns as (codes, levels) for indicators, (values, 0) for numbers,
    `covariate_names` order (a 2-d block of numbers: one column each)."""
    return [
        (rows["sex"] - 1, 2), (rows["age_band"], len(AGE_BANDS)),
        (rows["before_band"], len(BEFORE_BANDS)), (rows["history_band"], len(HISTORY_BANDS)),
        (rows["recent"], 0), (rows["age"], 0), (rows["blocks"], 0),
        (rows["days_since_latest"], 0), (rows["by_group"], 0),
        (np.c_[rows["other"], rows["history"], rows["custody_days"]], 0),
        (rows["force"], n_forces), (rows["earlier_journey"], 0),
    ]


def design(rows: dict, n_forces: int) -> np.ndarray:
    """The model's columns (`covariate_names` order) of person-date rows."""
    return np.hstack([
        _one_hot(v, levels) if levels else (v if v.ndim == 2 else v[:, None]).astype(np.float32)
        for v, levels in _parts(rows, n_forces)
    ])


def column_sums(rows: dict, n_forces: int) -> tuple[np.ndarray, np.ndarray]:
    """Σ x and Σ x² of each column of `design(rows)`, from the rows' parts without the
    matrix: every value is a whole number, so the sums are exact and equal those of the
    matrix in float64 whatever the order of addition."""
    sums, squares = [], []
    for v, levels in _parts(rows, n_forces):
        if levels:
            ok = (v >= 0) & (v < levels)
            count = np.bincount(v[ok], minlength=levels).astype(np.float64)
            sums.append(count)
            squares.append(count)
            continue
        v = (v if v.ndim == 2 else v[:, None]).astype(np.float64 if v.dtype.kind == "f"
                                                       else np.int64, copy=False)
        sums.append(v.sum(axis=0).astype(np.float64))
        squares.append(np.einsum("ij,ij->j", v, v).astype(np.float64))
    return np.concatenate(sums), np.concatenate(squares)


def cells(rows: dict) -> np.ndarray:
    """The exact stratum of each row as one integer: sex × age band × before band ×
    history band × recent (a person of unknown sex is in no member's stratum)."""
    code = rows["sex"] * (len(AGE_BANDS) + 1) + rows["age_band"] + 1
    code = code * len(BEFORE_BANDS) + rows["before_band"]
    code = code * len(HISTORY_BANDS) + rows["history_band"]
    return code * 2 + rows["recent"].astype(np.int64)


class Logit:
    """A fitted logistic regression of being a member (standardised columns)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> None:
        w = weight / weight.sum()
        self.mean = (x * w[:, None]).sum(axis=0)
        sd = np.sqrt(((x - self.mean) ** 2 * w[:, None]).sum(axis=0))
        self.scale = np.where(sd > 0, sd, 1.0)
        # a very light penalty: the estimate of the unpenalised model where it exists,
        # and finite when indicators are collinear or separate the classes
        # Newton steps on the normal equations: a handful of passes over the rows, where
        # quasi-Newton takes hundreds (the columns are few, the rows many)
        self.model = LogisticRegression(C=1e4, solver="newton-cholesky", max_iter=100,
                                        tol=1e-8)
        self.model.fit(self.standardise(x), y, sample_weight=weight)
        fitted = self.logit(x)
        mu = np.average(fitted, weights=weight)
        self.sd = float(np.sqrt(np.average((fitted - mu) ** 2, weights=weight)))

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale

    def logit(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        return self.model.decision_function(self.standardise(x))

    def logit_of_parts(self, parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
        """`logit(design(rows))` from the rows' parts (`_parts`), without the matrix: the
        model is linear in the columns, so an indicator adds its coefficient and a number
        its value times its coefficient (per unstandardised unit). Equal to `logit` up to
        the rounding of the last digits; a row's value does not depend on the other rows."""
        coef = self.model.coef_.ravel() / self.scale
        out = np.full(len(parts[0][0]), float(self.model.intercept_[0]) - self.mean @ coef)
        col = 0
        for v, levels in parts:
            if levels:  # a code outside the levels is no indicator: adds nothing
                table = np.r_[coef[col:col + levels], 0.0]
                out += table[np.where((v >= 0) & (v < levels), v, levels)]
                col += levels
                continue
            v = v if v.ndim == 2 else v[:, None]
            out += v.astype(np.float64) @ coef[col:col + v.shape[1]]
            col += v.shape[1]
        return out


def logits_of_rows(models: list["Logit | None"], rows: dict, at: np.ndarray,
                   n_forces: int) -> list[np.ndarray | None]:
    """Each model's logits of the rows `at` of person-date `rows` (None for a missing
    model): the rows' parts are gathered once for all the models."""
    parts = [(v[at], levels) for v, levels in _parts(rows, n_forces)]
    return [None if model is None else model.logit_of_parts(parts) for model in models]


def nearest_within_caliper(member_cell, member_logit, member_pid, pool_cell, pool_logit,
                           pool_pid, k: int, caliper: float):
    """Up to k pool rows of each member's cell nearest by logit, within the caliper, never
    the member's own person. Returns (member row, pool row) pairs. The k nearest are among
    the k + 1 sorted neighbours on each side (one may be the member's person); of equal
    distances the lower logit comes first."""
    if len(pool_cell) == 0 or len(member_cell) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = pool_cell * _CELL_SPACING + np.clip(pool_logit, -499, 499)
    order = np.argsort(key, kind="stable")
    key = key[order]
    at = np.searchsorted(key, member_cell * _CELL_SPACING + np.clip(member_logit, -499, 499))
    idx = at[:, None] + np.arange(-(k + 1), k + 1)[None, :]
    inside = (idx >= 0) & (idx < len(key))
    row = order[np.clip(idx, 0, len(key) - 1)]
    dist = np.abs(pool_logit[row] - member_logit[:, None])
    ok = (inside & (pool_cell[row] == member_cell[:, None])
          & (pool_pid[row] != member_pid[:, None]) & (dist <= caliper))
    dist = np.where(ok, dist, np.inf)
    rank = np.argsort(dist, axis=1, kind="stable")[:, :k]
    chosen = np.take_along_axis(ok, rank, axis=1)
    member = np.broadcast_to(np.arange(len(member_cell))[:, None], rank.shape)[chosen]
    return member, np.take_along_axis(row, rank, axis=1)[chosen]
