"""Members and their controls, date by date (METHOD.md §10): the eligible person-dates at
every member's index date, the propensity models (members; the placebo's pseudo-members),
and up to k controls per (pseudo-)member within the caliper.

Exports `match_cohort`, `Matches`.

Two passes over the members' index dates, each vectorised over the persons of one date.
The fit pass builds the rows the models are fitted on: every date and every eligible
person-date while they number at most `comparison_fit_rows` (the letter of §10), beyond
that a seeded sample of dates whose eligible person-dates are in turn sampled (Bernoulli,
weighted back, seeded per date) to the cap: members and controls of a sampled date enter
alike. The main pass visits every date once: the unweighted balance sums, the placebo's
draw (seeded per date, so that both passes draw the same pseudo-members), scoring and
matching. The model's columns are never built for all of a date's eligible persons
(nationally some 370,000 a date): the balance sums and the eligible persons' scores come
from their parts (`column_sums`, `logits_of_rows`, the latter for the rows of the
members' strata only: no control lies elsewhere); only the rows fitted on, the
pseudo-members and the controls chosen get their design matrix. Both passes may share the
dates among threads (`threads`): every draw is seeded by its date, so the result does not
depend on how many threads, or in what order they finish.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.comparison.history import Histories, person_dates, select
from dagster_project.comparison.propensity import (
    Logit,
    cells,
    column_sums,
    design,
    logits_of_rows,
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


def _each_date(members: pd.DataFrame, h: Histories, threads: int, work) -> list:
    """`work(t, group, h)` for every index date, in date order. With `threads` > 1 the dates
    are shared among threads, each with scratch of its own (`Histories.with_own_scratch`):
    numpy lets go of the interpreter lock in the array work, so two threads come near twice
    one thread's speed. Every draw is seeded by its date, so the results are the same
    whatever the number of threads."""
    dates = [(int(t), group) for t, group in members.groupby("index_day", sort=True)]
    if threads <= 1:
        return [work(t, group, h) for t, group in dates]
    local = threading.local()

    def run(item):
        if not hasattr(local, "h"):
            local.h = h.with_own_scratch()
        return work(*item, local.h)

    with ThreadPoolExecutor(threads) as executor:
        return list(executor.map(run, dates))


def _fit(members: pd.DataFrame, h: Histories, s: Settings, threads: int):
    """(members' model, placebo's model, rows fitted on, sampled?)."""
    dates = np.unique(members["index_day"].to_numpy(np.int64))
    days = np.searchsorted(h.c_day, dates) - np.searchsorted(h.c_day, dates - s.window_days)
    upper = int(days.sum())  # eligible person-dates at most (counted rows in the windows)
    rng = np.random.default_rng([s.comparison_seed, 1])
    fit_dates, rate = dates, 1.0
    if upper > s.comparison_fit_rows:
        n = min(len(dates), max(FIT_DATES_MIN, int(len(dates) * s.comparison_fit_rows / upper)))
        fit_dates = np.sort(rng.choice(dates, n, replace=False))
        rate = min(1.0, s.comparison_fit_rows / max(int(days[np.isin(dates, fit_dates)].sum()),
                                                    1))
    sampled_dates = set(fit_dates.tolist())

    def rows_of(t: int, group: pd.DataFrame, hh: Histories):
        """(members' design, pseudo-members' design, sampled eligible rows' design, which of
        those are pseudo-members) of one date; only the first at a date not sampled."""
        if t not in sampled_dates:
            return _members_at(t, group, hh, s)[1], None, None, None
        pool, _, _, _, mx, pick = _date(t, group, hh, s)
        # the date's own seed: the same sample whichever thread draws it
        sample = np.random.default_rng([s.comparison_seed, 1, t]).random(len(pool["pid"])) < rate
        pseudo = np.zeros(len(sample), bool)
        pseudo[pick[pick >= 0]] = True
        return (mx, _design_of(pool, pick[pick >= 0], len(hh.forces)),
                _design_of(pool, np.flatnonzero(sample), len(hh.forces)), pseudo[sample])

    parts = _each_date(members, h, threads, rows_of)
    mx = np.vstack([p[0] for p in parts])
    px, fx = (np.vstack([p[i] for p in parts if p[i] is not None]) for i in (1, 2))
    fp = np.concatenate([p[3] for p in parts if p[3] is not None])
    # every member enters; eligible person-dates of the sampled dates stand for all dates'
    date_weight = len(dates) / len(fit_dates)
    models = []
    # the placebo's pseudo-members exist at the sampled dates only: their controls there
    # weigh as those dates' own
    for treated_x, exclude, per_date in ((mx, np.zeros(len(fx), bool), date_weight),
                                         (px, fp, 1.0)):
        controls = fx[~exclude]
        x = np.vstack([treated_x, controls])
        y = np.r_[np.ones(len(treated_x)), np.zeros(len(controls))]
        weight = np.r_[np.ones(len(treated_x)), np.full(len(controls), per_date / rate)]
        usable = len(treated_x) > 0 and len(controls) > 0
        models.append(Logit(x, y, weight) if usable else None)
    fitted = len(fx) + len(mx)
    return models[0], models[1], fitted, bool(rate < 1 or len(fit_dates) < len(dates))


def _match(model, logit, s, tx, tcell, tpid, pcell, pid, near, keep):
    """Controls of the treated rows of one date: (treated row, pool row, weight). `near`:
    the pool rows of the members' strata, with each one's `logit` under `model`."""
    if model is None or len(tx) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    usable = keep[near] & np.isin(pcell[near], tcell)
    rows = near[usable]
    member, at = nearest_within_caliper(tcell, model.logit(tx), tpid, pcell[rows],
                                        logit[usable], pid[rows], s.comparison_controls,
                                        s.comparison_caliper_sd * model.sd)
    k = np.bincount(member, minlength=len(tx))
    return member, rows[at], 1.0 / k[member] if len(member) else np.zeros(0)


def _matches_at(t: int, group: pd.DataFrame, h: Histories, s: Settings, models) -> dict:
    """One date of the main pass: the eligible rows' column sums, and for members and
    pseudo-members their rows, design and controls (treated row within the date)."""
    pool, pcell, mem, mcell, mx, pick = _date(t, group, h, s)
    sums, sq = column_sums(pool, len(h.forces))
    has = pick >= 0
    pseudo = select(pool, pick[has])
    # a control shares its (pseudo-)member's stratum, and a pseudo-member a member's: the
    # models score the rows of the members' strata only (nationally a third of the rows)
    near = np.flatnonzero(np.isin(pcell, mcell))
    logits = logits_of_rows(models, pool, near, len(h.forces))
    designs = {
        "members": (models[0], logits[0], mem, mcell, mx, group["row"].to_numpy(),
                    np.ones(len(pcell), bool)),
        # the pseudo-members are not each other's controls
        "placebo": (models[1], logits[1], pseudo, pcell[pick[has]],
                    _design_of(pool, pick[has], len(h.forces)), group["row"].to_numpy()[has],
                    ~np.isin(pool["pid"], pseudo["pid"])),
    }
    out = {"t": t, "sums": sums, "sq": sq, "n": len(pcell)}
    for which, (model, logit, rows, cell, tx, member_of, keep) in designs.items():
        treated, chosen, weight = _match(model, logit, s, tx, cell, rows["pid"], pcell,
                                         pool["pid"], near, keep)
        out[which] = (_flat(rows, t, member_of), tx, treated, pool["pid"][chosen], weight,
                      _design_of(pool, chosen, len(h.forces)))
    return out


def match_cohort(members: pd.DataFrame, h: Histories, s: Settings,
                 threads: int = 1) -> tuple[Matches, Matches]:
    """(members' matches, placebo's matches). `members`: row, pid, index_day, sex_code, age,
    age_band_code. `threads`: how many threads share the dates (the same result for any)."""
    model, placebo_model, fit_rows, sampled = _fit(members, h, s, threads)
    dates = _each_date(members, h, threads, lambda t, group, hh: _matches_at(
        t, group, hh, s, (model, placebo_model)))
    # whole numbers: the sums are exact in any order
    sums, sq = (np.sum([d[k] for d in dates], axis=0) for k in ("sums", "sq"))
    results = []
    for which in ("members", "placebo"):
        treated, tx, uses, ux, offset = [], [], [], [], 0
        for d in dates:
            frame, x, rows, pid, weight, chosen_x = d[which]
            treated.append(frame)
            tx.append(x)
            uses.append(pd.DataFrame({"treated": offset + rows, "pid": pid, "t": d["t"],
                                      "weight": weight}))
            ux.append(chosen_x)
            offset += len(frame)
        results.append(Matches(pd.concat(treated, ignore_index=True), np.vstack(tx),
                               pd.concat(uses, ignore_index=True), np.vstack(ux), sums, sq,
                               sum(d["n"] for d in dates), fit_rows, sampled))
    return results[0], results[1]
