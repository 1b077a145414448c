"""The comparison's tables (METHOD.md §8, §10): `comparison_outcomes` (the naive, control
and adjusted reductions with a bootstrap interval, by group, and the placebo row) and
`comparison_balance` (covariate means and standardised differences).

Exports `compare`, `OUTCOME_COLUMNS`, `BALANCE_COLUMNS`, `ComparisonResult`.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from dagster_project.cohort.attributes import AGE_BANDS
from dagster_project.cohort.days import to_days
from dagster_project.comparison.history import (
    BEFORE_BANDS,
    Histories,
    after_counts,
    started_in_after_window,
)
from dagster_project.comparison.matching import Matches, match_cohort
from dagster_project.comparison.propensity import covariate_names
from dagster_project.settings import Settings
from dagster_project.vocabulary.partition import PARTITION_COLUMN

OUTCOME_COLUMNS = [
    PARTITION_COLUMN, "dimension", "group", "n", "n_treated", "n_controls",
    "controls_treated_later", "before_treated", "after_treated", "before_controls",
    "after_controls", "naive_reduction", "control_reduction", "adjusted_reduction", "ci_low",
    "ci_high", "max_abs_smd",
]
BALANCE_COLUMNS = [
    PARTITION_COLUMN, "covariate", "mean_treated", "mean_controls_unweighted",
    "mean_controls_weighted", "smd_before_weighting", "smd_after_weighting",
]
DIMENSIONS = ("all", "sex", "age_band", "before_band")
_BLOCK_COLUMNS = slice(None)  # set per run from the covariate names


@dataclass(frozen=True)
class ComparisonResult:
    outcomes: pd.DataFrame
    balance: pd.DataFrame
    fit_rows: int  # rows the member model was fitted on
    sampled: bool  # fitted on a sample of the eligible person-dates
    eligible_person_dates: int


def _ratio(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _adjusted(bt, at, bc, ac):
    return 1 - _ratio(_ratio(at, bt), _ratio(ac, bc))


def _bootstrap(units: np.ndarray, resamples: int, seed: list[int]) -> tuple[float, float]:
    """Percentile 95% interval of the adjusted reduction, resampling matched units (rows of
    `units`: before_treated, after_treated, weighted before and after of its controls)."""
    n = len(units)
    if n == 0:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, 4_000_000 // n))
    estimates = []
    for start in range(0, resamples, chunk):
        idx = rng.integers(0, n, (min(chunk, resamples - start), n))
        s = units[idx].sum(axis=1)
        estimates.append(_adjusted(s[:, 0], s[:, 1], s[:, 2], s[:, 3]))
    values = np.concatenate(estimates)
    values = values[np.isfinite(values)]
    if len(values) < resamples * 0.975:  # too many resamples without a ratio: no interval
        return np.nan, np.nan
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _per_unit(m: Matches, h: Histories, s: Settings, names: list[str]):
    """Per treated row: before, after; per use: before, after (at its own t), later start."""
    block = [i for i, n in enumerate(names) if n.startswith("before_block_")]
    t = m.treated["t"].to_numpy(np.int64)
    treated_after = after_counts(h, m.treated["pid"].to_numpy(np.int64), t, s.window_days,
                                 s.waiting_period_days)
    u_pid, u_t = m.uses["pid"].to_numpy(np.int64), m.uses["t"].to_numpy(np.int64)
    uses = m.uses.assign(
        before=m.uses_x[:, block].sum(axis=1) if len(m.uses) else np.zeros(0),
        after=after_counts(h, u_pid, u_t, s.window_days, s.waiting_period_days),
        later=started_in_after_window(h, u_pid, u_t, s.window_days),
    )
    return treated_after, uses


def _smd(mean_t, mean_c, denom):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, (mean_t - mean_c) / np.where(denom > 0, denom, 1),
                        np.where(np.isclose(mean_t, mean_c), 0.0, np.nan))


def _row(m: Matches, uses: pd.DataFrame, treated_after, rows: np.ndarray, denom, s, seed,
         dimension, group, n) -> dict:
    """One row of comparison_outcomes for the treated rows `rows`."""
    used = uses[uses["treated"].isin(rows)]
    matched = np.unique(used["treated"].to_numpy(np.int64))
    wb = (used["weight"] * used["before"]).groupby(used["treated"]).sum()
    wa = (used["weight"] * used["after"]).groupby(used["treated"]).sum()
    units = np.c_[m.treated["before"].to_numpy(float)[matched], treated_after[matched],
                  wb.reindex(matched).to_numpy(), wa.reindex(matched).to_numpy()]
    bt, at, bc, ac = units.sum(axis=0) if len(units) else (0.0, 0.0, 0.0, 0.0)
    low, high = _bootstrap(units, s.comparison_bootstrap, seed)
    later = used.loc[used["later"], "pid"].nunique()
    x_t = m.treated_x[matched]
    weights = used["weight"].to_numpy()
    x_c = m.uses_x[used.index.to_numpy()]
    smd = (_smd(x_t.mean(axis=0), (x_c * weights[:, None]).sum(axis=0) / weights.sum(), denom)
           if len(matched) else np.full(len(denom), np.nan))
    return {
        "dimension": dimension, "group": group, "n": int(n), "n_treated": len(matched),
        "n_controls": int(used["pid"].nunique()), "controls_treated_later": int(later),
        "before_treated": bt, "after_treated": at, "before_controls": bc,
        "after_controls": ac, "naive_reduction": float(1 - _ratio(at, bt)),
        "control_reduction": float(1 - _ratio(ac, bc)),
        "adjusted_reduction": float(_adjusted(bt, at, bc, ac)), "ci_low": low, "ci_high": high,
        "max_abs_smd": float(np.nanmax(np.abs(smd))) if np.isfinite(smd).any() else np.nan,
    }


def _members(cohort_members: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    linked = persons.dropna(subset=["linked_person_key"])
    pid_of = pd.Series(linked["pid"].to_numpy(), index=linked["linked_person_key"])
    members = cohort_members.assign(
        pid=pid_of.reindex(cohort_members["person_key"]).to_numpy(),
        index_day=to_days(cohort_members["index_date"]),
        sex_code=cohort_members["sex"].astype(str).map({"1": 1, "2": 2}).fillna(0),
        age_band_code=pd.Index(AGE_BANDS).get_indexer(cohort_members["age_band"]),
    )
    members = members.dropna(subset=["pid"]).astype({"pid": np.int64, "sex_code": np.int64,
                                                      "age": np.int64})
    # one order whatever order the table was read in (cohort_members is kept by person_key,
    # a keyed hash): the seeded draws (placebo, bootstrap) take the members in this order
    members = members.sort_values(["index_day", "pid"], kind="stable", ignore_index=True)
    return members.assign(row=lambda d: np.arange(len(d)))


def _nothing_to_compare(cohort_members, names, cohort_year) -> ComparisonResult:
    """No member to match (a cohort year without members, a PNC without convictions)."""
    row = dict.fromkeys(OUTCOME_COLUMNS, np.nan)
    row.update({PARTITION_COLUMN: cohort_year}, dimension="all", group="all", n=len(cohort_members),
               n_treated=0, n_controls=0, controls_treated_later=0)
    balance = pd.DataFrame({"covariate": names}).assign(**{PARTITION_COLUMN: cohort_year})
    for column in BALANCE_COLUMNS[2:]:
        balance[column] = np.nan
    return ComparisonResult(pd.DataFrame([row])[OUTCOME_COLUMNS], balance[BALANCE_COLUMNS],
                            0, False, 0)


def compare(cohort_members: pd.DataFrame, persons: pd.DataFrame, convictions: pd.DataFrame,
            custody: pd.DataFrame, journeys: pd.DataFrame, settings: Settings,
            cohort_year: str, threads: int = 1) -> ComparisonResult:
    """The comparison of METHOD.md §10 for one cohort year's members; `threads` share the
    matching's dates (the result is the same for any number)."""
    journeys = journeys.assign(start_day=to_days(journeys["start"]),
                               end_day=to_days(journeys["end"], missing=0))
    h = Histories.build(persons, convictions, custody, journeys)
    names = covariate_names(h.groups, h.forces)
    members = _members(cohort_members, persons)
    if members.empty or not len(h.c_day):
        return _nothing_to_compare(cohort_members, names, cohort_year)
    # one BLAS thread: the model's Newton steps are a few large products, and OpenBLAS's
    # threads spin against the pipeline's other steps on a busy machine (5 times slower on
    # 2 busy cores than one thread); the arithmetic is the same
    with threadpool_limits(limits=1, user_api="blas"):
        m, p = match_cohort(members, h, settings, threads)
    rows, balance = [], None
    pool_mean = m.pool_sum / max(m.pool_n, 1)
    pool_var = np.maximum(m.pool_sq / max(m.pool_n, 1) - pool_mean**2, 0)
    for which, design_ in (("members", m), ("placebo", p)):
        treated_after, uses = _per_unit(design_, h, settings, names)
        matched = np.unique(uses["treated"].to_numpy(np.int64))
        var_t = design_.treated_x[matched].var(axis=0) if len(matched) else pool_var
        denom = np.sqrt((var_t + pool_var) / 2)
        seed = settings.comparison_seed
        if which == "placebo":
            rows.append(_row(design_, uses, treated_after, np.arange(len(design_.treated)),
                             denom, settings, [seed, 99], "placebo", "all",
                             len(design_.treated)))
            continue
        carried = members.set_index("row").loc[design_.treated["member"].to_numpy()]
        labels = {
            "all": np.full(len(carried), "all", dtype=object),
            "sex": carried["sex"].astype(str).to_numpy(),
            "age_band": carried["age_band"].astype(str).to_numpy(),
            "before_band": np.asarray(BEFORE_BANDS, dtype=object)[
                design_.treated["before_band"].to_numpy()],
        }
        for d, dimension in enumerate(DIMENSIONS):
            for g, group in enumerate(sorted(set(labels[dimension]))):
                which_rows = np.flatnonzero(labels[dimension] == group)
                rows.append(_row(design_, uses, treated_after, which_rows, denom, settings,
                                 [seed, d, g], dimension, group,
                                 (cohort_members[dimension] == group).sum()
                                 if dimension in ("sex", "age_band") else
                                 len(which_rows) if dimension == "before_band"
                                 else len(cohort_members)))
        weights = uses["weight"].to_numpy()
        x_c = design_.uses_x
        mean_t = design_.treated_x[matched].mean(axis=0)
        mean_w = (x_c * weights[:, None]).sum(axis=0) / max(weights.sum(), 1e-300)
        balance = pd.DataFrame({
            "covariate": names, "mean_treated": mean_t, "mean_controls_unweighted": pool_mean,
            "mean_controls_weighted": mean_w,
            "smd_before_weighting": _smd(mean_t, pool_mean, denom),
            "smd_after_weighting": _smd(mean_t, mean_w, denom),
        })
    year = {PARTITION_COLUMN: cohort_year}
    outcomes = pd.DataFrame(rows).assign(**year)[OUTCOME_COLUMNS]
    return ComparisonResult(outcomes, balance.assign(**year)[BALANCE_COLUMNS],
                            m.fit_rows, m.sampled, m.pool_n)
