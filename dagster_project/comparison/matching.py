"""Members and their controls, date by date (METHOD.md §10): the eligible person-dates at
every member's index date, the propensity models (members; the placebo's pseudo-members),
and up to k controls per (pseudo-)member within the caliper.

Exports `match_cohort`, `Matches`.

Two passes over the members' index dates, each vectorised over the persons of one date.
The fit pass builds the rows the models are fitted on: every date and every eligible
person-date while they number at most `comparison_fit_rows` (the letter of §10), beyond
that a seeded sample of dates whose eligible person-dates are in turn sampled (Bernoulli,
weighted back) to the cap: members and controls of a sampled date enter alike. The main
pass visits every date once: the unweighted balance sums, the placebo's draw (seeded per
date, so that both passes draw the same pseudo-members), scoring and matching. The model's
columns are never built for all of a date's eligible persons (nationally some 370,000 a
date): the balance sums and the eligible persons' scores come from their parts
(`column_sums`, `Logit.logit_of_rows`); only the rows fitted on, the pseudo-members and
the controls chosen get their design matrix.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.comparison.history import Histories, person_dates, select
from dagster_project.comparison.propensity import (
    Logit,
    cells,
    column_sums,
    design,
    nearest_within_caliper,
)
from dagster_project.settings import Settings

FIT_DATES_MIN = 90  # dates sampled for the fit, at least, when the rows must be sampled


@dataclass
class Matches:
    """One design (members, or the placebo's pseudo-members) and its controls."""

    treated: pd.DataFrame  # row per (pseudo-)member: pid, t, before, before_band, member, …
    treated_x: np.ndarray
    uses: pd.DataFrame  # row per use: treated (row of `treated`), pid, t, weight
    uses_x: np.ndarray
    pool_sum: np.ndarray  # Σ x and Σ x² over every eligible person-date
    pool_sq: np.ndarray
    pool_n: int
    fit_rows: int
    sampled: bool


def _flat(rows: dict, t: int, member: np.ndarray) -> pd.DataFrame:
    keep = ["pid", "sex", "age", "age_band", "before", "before_band", "history_band", "recent"]
    return pd.DataFrame({**{k: rows[k] for k in keep}, "t": t, "member": member})


def _members_at(t: int, group: pd.DataFrame, h: Histories, s: Settings):
    """The members of one index date: their rows and design."""
    mem = person_dates(h, t, s.window_days, s.waiting_period_days,
                       pids=group["pid"].to_numpy(np.int64), adult=s.adult_age)
    # a member's sex and age are the cohort's (§4): its strata are the member's own
    mem["sex"] = group["sex_code"].to_numpy(np.int64)
    mem["age"] = group["age"].to_numpy(np.int64)
    mem["age_band"] = group["age_band_code"].to_numpy(np.int64)
    return mem, design(mem, len(h.forces))


def _date(t: int, group: pd.DataFrame, h: Histories, s: Settings):
    """Eligible rows at t with their strata, the members' rows and design, and the
    pseudo-members drawn for the placebo (rows of the eligible ones, -1 none). The
    eligible rows' design is left to the caller: only some rows need it."""
    pool = person_dates(h, t, s.window_days, s.waiting_period_days, adult=s.adult_age)
    mem, mx = _members_at(t, group, h, s)
    pcell, mcell = cells(pool), cells(mem)
    pick = _pick_pseudo(np.random.default_rng([s.comparison_seed, t]), pool, pcell, mcell)
    return pool, pcell, mem, mcell, mx, pick


def _design_of(pool: dict, rows: np.ndarray, n_forces: int) -> np.ndarray:
    """The design of some of one date's eligible rows (most rows never need theirs)."""
    return design(select(pool, rows), n_forces)


def _pick_pseudo(rng, pool: dict, pool_cell, member_cell) -> np.ndarray:
    """One eligible row per member (seeded draw) of the member's stratum with a counted
    conviction proven in [t − 60, t − 1]; -1 where there is none."""
    ok = np.flatnonzero(pool["placebo_ok"])
    order = ok[np.argsort(pool_cell[ok], kind="stable")]
    sorted_cells = pool_cell[order]
    lo = np.searchsorted(sorted_cells, member_cell, side="left")
    hi = np.searchsorted(sorted_cells, member_cell, side="right")
    draw = lo + np.floor(rng.random(len(member_cell)) * (hi - lo)).astype(np.int64)
    if len(order) == 0:
        return np.full(len(member_cell), -1)
    return np.where(hi > lo, order[np.minimum(draw, len(order) - 1)], -1)


def _fit(members: pd.DataFrame, h: Histories, s: Settings):
    """(members' model, placebo's model, rows fitted on, sampled?)."""
    dates = np.unique(members["index_day"].to_numpy(np.int64))
    days = np.searchsorted(h.c_day, dates) - np.searchsorted(h.c_day, dates - s.window_days)
    upper = int(days.sum())  # eligible person-dates at most (counted rows in the windows)
    rng = np.random.default_rng([s.comparison_seed, 1])
    fit_dates, rate = dates, 1.0
    if upper > s.comparison_fit_rows:
        n = min(len(dates), max(FIT_DATES_MIN, int(len(dates) * s.comparison_fit_rows / upper)))
        # (a set for membership: dates are numpy integers)
        fit_dates = np.sort(rng.choice(dates, n, replace=False))
        rate = min(1.0, s.comparison_fit_rows / max(int(days[np.isin(dates, fit_dates)].sum()),
                                                    1))
    parts = {"mx": [], "px": [], "fx": [], "fp": []}
    # every member enters; eligible person-dates of the sampled dates stand for all dates'
    date_weight = len(dates) / len(fit_dates)
    for t, group in members.groupby("index_day"):
        if t not in fit_dates:
            parts["mx"].append(_members_at(int(t), group, h, s)[1])
            continue
        pool, _, _, _, mx, pick = _date(int(t), group, h, s)
        sample = rng.random(len(pool["pid"])) < rate
        pseudo = np.zeros(len(sample), bool)
        pseudo[pick[pick >= 0]] = True
        parts["mx"].append(mx)
        parts["px"].append(_design_of(pool, pick[pick >= 0], len(h.forces)))
        parts["fx"].append(_design_of(pool, np.flatnonzero(sample), len(h.forces)))
        parts["fp"].append(pseudo[sample])
    fx, fp = np.vstack(parts["fx"]), np.concatenate(parts["fp"])
    models = []
    # the placebo's pseudo-members exist at the sampled dates only: their controls there
    # weigh as those dates' own
    for treated_x, exclude, per_date in ((np.vstack(parts["mx"]), np.zeros(len(fx), bool),
                                          date_weight), (np.vstack(parts["px"]), fp, 1.0)):
        controls = fx[~exclude]
        x = np.vstack([treated_x, controls])
        y = np.r_[np.ones(len(treated_x)), np.zeros(len(controls))]
        weight = np.r_[np.ones(len(treated_x)), np.full(len(controls), per_date / rate)]
        usable = len(treated_x) > 0 and len(controls) > 0
        models.append(Logit(x, y, weight) if usable else None)
    fitted = len(fx) + sum(len(x) for x in parts["mx"])
    return models[0], models[1], fitted, bool(rate < 1 or
                                                                   len(fit_dates) < len(dates))


def _match(model, s, tx, tcell, tpid, pool, pcell, keep, n_forces):
    """Controls of the treated rows of one date: (treated row, pool row, weight)."""
    if model is None or len(tx) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    rows = np.flatnonzero(keep & np.isin(pcell, tcell))
    member, at = nearest_within_caliper(tcell, model.logit(tx), tpid, pcell[rows],
                                        model.logit_of_rows(pool, n_forces)[rows],
                                        pool["pid"][rows], s.comparison_controls,
                                        s.comparison_caliper_sd * model.sd)
    k = np.bincount(member, minlength=len(tx))
    return member, rows[at], 1.0 / k[member] if len(member) else np.zeros(0)


def match_cohort(members: pd.DataFrame, h: Histories, s: Settings) -> tuple[Matches, Matches]:
    """(members' matches, placebo's matches). `members`: row, pid, index_day, sex_code, age,
    age_band_code."""
    model, placebo_model, fit_rows, sampled = _fit(members, h, s)
    out = {w: {"treated": [], "tx": [], "uses": [], "ux": []} for w in ("members", "placebo")}
    sums = sq = None
    pool_n = 0
    for t, group in members.groupby("index_day", sort=True):
        t = int(t)
        pool, pcell, mem, mcell, mx, pick = _date(t, group, h, s)
        date_sums, date_sq = column_sums(pool, len(h.forces))
        sums = date_sums if sums is None else sums + date_sums
        sq = date_sq if sq is None else sq + date_sq
        pool_n += len(pcell)
        has = pick >= 0
        pseudo = select(pool, pick[has])
        everyone = np.ones(len(pcell), bool)
        designs = (
            ("members", model, mem, mcell, mx, group["row"].to_numpy(), everyone),
            # the pseudo-members are not each other's controls
            ("placebo", placebo_model, pseudo, pcell[pick[has]],
             _design_of(pool, pick[has], len(h.forces)), group["row"].to_numpy()[has],
             ~np.isin(pool["pid"], pseudo["pid"])),
        )
        for which, m, rows, cell, tx, member_of, keep in designs:
            o = out[which]
            offset = sum(len(f) for f in o["treated"])
            o["treated"].append(_flat(rows, t, member_of))
            o["tx"].append(tx)
            treated, chosen, weight = _match(m, s, tx, cell, rows["pid"], pool, pcell,
                                             keep, len(h.forces))
            o["uses"].append(pd.DataFrame({"treated": offset + treated,
                                           "pid": pool["pid"][chosen], "t": t,
                                           "weight": weight}))
            o["ux"].append(_design_of(pool, chosen, len(h.forces)))
    results = []
    for which in ("members", "placebo"):
        o = out[which]
        results.append(Matches(pd.concat(o["treated"], ignore_index=True), np.vstack(o["tx"]),
                               pd.concat(o["uses"], ignore_index=True), np.vstack(o["ux"]),
                               sums, sq, pool_n, fit_rows, sampled))
    return results[0], results[1]
