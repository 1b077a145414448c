"""Members and their controls, date by date (METHOD.md §10): the eligible person-dates at
every member's index date, the propensity model fitted on them, the placebo's
pseudo-members, and up to k controls per (pseudo-)member within the caliper.

Exports `match_cohort`, `Matches`.

Two passes over the members' index dates, each vectorised over the persons of one date:
the first builds the rows the models are fitted on (all of them, or beyond
`comparison_fit_rows` a seeded Bernoulli sample weighted back to the whole) and the sums of
the unweighted balance; the second scores each date's rows in the members' strata and
matches. A date's rows are kept between the passes while they fit a memory budget,
otherwise computed again.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.comparison.history import Histories, person_dates, select
from dagster_project.comparison.propensity import Logit, cells, design, nearest_within_caliper
from dagster_project.settings import Settings

_CACHE_BYTES = 1_500_000_000


@dataclass
class Matches:
    """One design (members, or the placebo's pseudo-members) and its controls."""

    treated: pd.DataFrame  # row per (pseudo-)member: pid, t, before, before_band, sex, …
    treated_x: np.ndarray
    uses: pd.DataFrame  # row per use: treated (row of `treated`), pid, t, weight
    uses_x: np.ndarray
    pool_sum: np.ndarray  # Σ and Σx² of the columns over all eligible person-dates
    pool_sq: np.ndarray
    pool_n: int
    fit_rows: int
    sampled: bool


def _flat(rows: dict, t: int, extra: dict | None = None) -> pd.DataFrame:
    keep = ["pid", "sex", "age", "age_band", "before", "before_band", "history_band",
            "recent"]
    return pd.DataFrame({**{k: rows[k] for k in keep}, "t": t, **(extra or {})})


def _at_dates(members: pd.DataFrame, h: Histories, s: Settings, rng, rate: float):
    """Pass 1. Yields per date: t, eligible rows, their design, members' rows and design."""
    n_forces = len(h.forces)
    for t, group in members.groupby("index_day", sort=True):
        t = int(t)
        pool = person_dates(h, t, s.window_days, s.waiting_period_days, adult=s.adult_age)
        mem = person_dates(h, t, s.window_days, s.waiting_period_days,
                           pids=group["pid"].to_numpy(np.int64), adult=s.adult_age)
        # a member's sex and age are the cohort's (§4): its strata are the member's own
        mem["sex"] = group["sex_code"].to_numpy(np.int64)
        mem["age"] = group["age"].to_numpy(np.int64)
        mem["age_band"] = group["age_band_code"].to_numpy(np.int64)
        yield t, group, pool, design(pool, n_forces), mem, design(mem, n_forces)


def _pick_pseudo(rng, pool: dict, pool_cell, member_cell) -> np.ndarray:
    """One pool row per member (seeded draw) of the member's stratum with a counted
    conviction proven in [t − 60, t − 1]; -1 where there is none."""
    ok = np.flatnonzero(pool["placebo_ok"])
    order = ok[np.argsort(pool_cell[ok], kind="stable")]
    sorted_cells = pool_cell[order]
    lo = np.searchsorted(sorted_cells, member_cell, side="left")
    hi = np.searchsorted(sorted_cells, member_cell, side="right")
    draw = lo + np.floor(rng.random(len(member_cell)) * (hi - lo)).astype(np.int64)
    return np.where(hi > lo, order[np.minimum(draw, len(order) - 1)] if len(order) else -1, -1)


def _upper_bound(members: pd.DataFrame, h: Histories, window: int) -> int:
    """Person-dates at most (counted rows in each date's before window)."""
    days = np.unique(members["index_day"].to_numpy(np.int64))
    return int((np.searchsorted(h.c_day, days) - np.searchsorted(h.c_day, days - window)).sum())


def match_cohort(members: pd.DataFrame, h: Histories, s: Settings) -> tuple[Matches, Matches]:
    """(members' matches, placebo's matches). `members`: pid, index_day, sex_code, age,
    age_band_code, person_key, plus whatever the caller wants carried along."""
    rng = np.random.default_rng(s.comparison_seed)
    rate = min(1.0, s.comparison_fit_rows / max(_upper_bound(members, h, s.window_days), 1))
    fit_x, fit_pseudo, cache, cached = [], [], {}, 0
    mem_rows, mem_x, pseudo_rows, pseudo_x = [], [], [], []
    n_cols = None
    sums = sq = None
    pool_n = 0
    for t, group, pool, x, mem, mx in _at_dates(members, h, s, rng, rate):
        n_cols = x.shape[1]
        if sums is None:
            sums, sq = np.zeros(n_cols), np.zeros(n_cols)
        sums += x.sum(axis=0, dtype=np.float64)
        sq += (x.astype(np.float64) ** 2).sum(axis=0)
        pool_n += len(x)
        pcell, mcell = cells(pool), cells(mem)
        pick = _pick_pseudo(rng, pool, pcell, mcell)
        has = pick >= 0
        pseudo_rows.append(_flat(select(pool, pick[has]) if has.any() else select(pool, pick[:0]),
                                 t, {"member": group["row"].to_numpy()[has]}))
        pseudo_x.append(x[pick[has]])
        mem_rows.append(_flat(mem, t, {"member": group["row"].to_numpy()}))
        mem_x.append(mx)
        sample = rng.random(len(x)) < rate
        is_pseudo = np.isin(pool["pid"], pool["pid"][pick[has]])
        fit_x.append(x[sample])
        fit_pseudo.append(is_pseudo[sample])
        if cached + x.nbytes < _CACHE_BYTES:
            cache[t] = (pool, x)
            cached += x.nbytes
    treated = pd.concat(mem_rows, ignore_index=True)
    placebo = pd.concat(pseudo_rows, ignore_index=True)
    tx, px = np.vstack(mem_x), np.vstack(pseudo_x)
    fx, fp = np.vstack(fit_x), np.concatenate(fit_pseudo)
    w = 1.0 / rate
    models = []
    for treated_x, exclude in ((tx, np.zeros(len(fx), bool)), (px, fp)):
        x = np.vstack([treated_x, fx[~exclude]])
        y = np.r_[np.ones(len(treated_x)), np.zeros(int((~exclude).sum()))]
        weight = np.r_[np.ones(len(treated_x)), np.full(int((~exclude).sum()), w)]
        models.append(Logit(x, y, weight) if len(treated_x) and y.min() == 0 else None)
    results = []
    for (which, tr, trx), model in zip((("members", treated, tx), ("placebo", placebo, px)),
                                       models, strict=True):
        uses, uses_x = _second_pass(which, tr, trx, model, members, h, s, cache)
        results.append(Matches(tr, trx, uses, uses_x, sums, sq, pool_n,
                               len(fx) + len(trx), rate < 1))
    return results[0], results[1]


def _second_pass(which, treated, treated_x, model, members, h, s, cache):
    """Score each date's rows of the treated's strata and match."""
    uses, uses_x = [], []
    empty = pd.DataFrame({"treated": [], "pid": [], "t": [], "weight": []})
    if model is None or len(treated) == 0:
        return empty, np.zeros((0, treated_x.shape[1] if treated_x.ndim == 2 else 0))
    caliper = s.comparison_caliper_sd * model.sd
    t_logit = model.logit(treated_x)
    t_cell = cells({k: treated[k].to_numpy() for k in
                    ("sex", "age_band", "before_band", "history_band", "recent")})
    positions = np.arange(len(treated))
    for t, rows in treated.groupby("t", sort=True):
        at = positions[rows.index.to_numpy()]
        if t in cache:
            pool, x = cache[t]
        else:
            pool = person_dates(h, int(t), s.window_days, s.waiting_period_days,
                                adult=s.adult_age)
            x = design(pool, len(h.forces))
        pcell = cells(pool)
        keep = np.isin(pcell, t_cell[at])
        if which == "placebo":  # the pseudo-members are not each other's controls
            keep &= ~np.isin(pool["pid"], rows["pid"].to_numpy())
        rows_kept = np.flatnonzero(keep)
        logit = model.logit(x[rows_kept])
        member, pool_row = nearest_within_caliper(
            t_cell[at], t_logit[at], rows["pid"].to_numpy(np.int64), pcell[rows_kept], logit,
            pool["pid"][rows_kept], s.comparison_controls, caliper)
        chosen = rows_kept[pool_row]
        k = np.bincount(member, minlength=len(at))
        uses.append(pd.DataFrame({"treated": at[member], "pid": pool["pid"][chosen], "t": t,
                                  "weight": 1.0 / k[member]}))
        uses_x.append(x[chosen])
    return pd.concat(uses, ignore_index=True), np.vstack(uses_x)
