"""Person-dates: who is eligible as a control at a date t, and what anyone carries at t
(METHOD.md §10), from the per-delivery tables of `pool.py`.

Exports `Histories`, `person_dates`, `after_counts`, `age_at`, `BEFORE_BANDS`, `HISTORY_BANDS`.

Everything is integer arithmetic over arrays sorted once: counted convictions by offence
day (a window is one contiguous slice) and by (person, day) (a person's history is one
range), merged custody spells by (person, start), journeys of linked persons.
"""

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dagster_project.cohort.attributes import _AGE_EDGES, AGE_BANDS

BEFORE_BANDS = ["1", "2", "3-4", "5-8", "9+"]
_BEFORE_EDGES = [1, 2, 3, 5, 9]
HISTORY_BANDS = ["0", "1-2", "3-9", "10+"]
_HISTORY_EDGES = [0, 1, 3, 10]
BLOCK_DAYS, BLOCKS = 91, 8
RECENT_DAYS, PLACEBO_OUTCOME_DAYS, START_MARGIN_DAYS = 90, 60, 28
_SHIFT = np.int64(1) << 21  # day offsets fit below this in a (person, day) key
_OPEN = np.int64(1) << 40
BIRTHDAY_TAKEN_AS = 16  # day of the birth month: the middle, so the age errs neither way


def _band(values: np.ndarray, edges: list[int]) -> np.ndarray:
    return np.searchsorted(edges, values, side="right") - 1


def age_at(birth_month: np.ndarray, t: int) -> np.ndarray:
    """Completed years at day t of persons known by their birth month (year × 12 + month − 1;
    METHOD.md §1 asks for the date of birth, which stays in the linkage stage): the
    birthday is taken as the 16th of the month, so the age is exact except on the days of
    the birth month between the 16th and the true birthday (a year out, either way)."""
    date = np.datetime64(int(t), "D")
    month = int(date.astype("datetime64[M]").astype(np.int64)) + 1970 * 12
    day = int((date - date.astype("datetime64[M]")).astype(np.int64)) + 1
    months = month - birth_month.astype(np.int64) - (day < BIRTHDAY_TAKEN_AS)
    return months // 12


@dataclass
class Histories:
    """The delivery's persons and convictions as sorted arrays (see the module docstring)."""

    n: int
    birth_month: np.ndarray  # year * 12 + month - 1
    sex: np.ndarray  # 1 male, 2 female, 0 unknown
    ambiguous: np.ndarray  # a candidate of an ambiguous client: never eligible
    groups: list[str]
    forces: list[str]
    c_day: np.ndarray  # counted convictions by (offence day, force)
    c_out: np.ndarray
    c_pid: np.ndarray
    c_group: np.ndarray
    c_force: np.ndarray
    c_rank: np.ndarray  # of each, its rank among the person's counted convictions by day
    k_key: np.ndarray  # counted convictions by (person, day): pid * _SHIFT + day - base
    k_out: np.ndarray
    k_ptr: np.ndarray
    k_group: np.ndarray
    k_force: np.ndarray
    ok_key: np.ndarray  # convictions that do not count, by (person, day)
    ok_out: np.ndarray
    o_day: np.ndarray  # convictions that do not count, by offence day
    o_out: np.ndarray
    o_pid: np.ndarray
    s_start: np.ndarray  # merged custody spells by (person, start)
    s_end: np.ndarray
    s_ptr: np.ndarray
    j_pid: np.ndarray  # journeys of clients linked to a PNC person
    j_start: np.ndarray
    j_end: np.ndarray  # _OPEN while open
    base: int
    loc: np.ndarray  # scratch: a person's row in the current person-date table, else -1
    marks: dict = field(default_factory=dict)  # scratch: `_journey_marks` of the last date

    @classmethod
    def build(cls, persons: pd.DataFrame, convictions: pd.DataFrame, custody: pd.DataFrame,
              journeys: pd.DataFrame) -> "Histories":
        """From `comparison_persons`/`_convictions`/`_custody` and `treatment_journeys`
        (`person_key`, `start`, `end`, `open`; day numbers in `start_day`, `end_day`)."""
        n = len(persons)
        persons = persons.sort_values("pid")
        # in stages, each stage's inputs dropped once sorted: nationally every array is
        # ~10M rows, and the peak of the comparison step is here
        counted = convictions["counted"].to_numpy(bool)
        rows = np.flatnonzero(counted)
        groups, g = _codes(convictions["offence_group"], rows)
        forces, f = _codes(convictions["force"], rows)
        base = int(min(convictions["offence_day"].min(), 0)) - 1 if len(convictions) else -1
        day = convictions["offence_day"].to_numpy(np.int64)[rows]
        out = convictions["outcome_day"].to_numpy()[rows].astype(np.int32)  # days: 32 bits
        pid = convictions["pid"].to_numpy()[rows].astype(np.int64)
        del rows
        by_pid = np.lexsort((f, day, pid))
        k_ptr = np.searchsorted(pid[by_pid], np.arange(n + 1))
        rank = np.empty(len(pid), np.int32)
        rank[by_pid] = np.arange(len(pid)) - k_ptr[pid[by_pid]]
        by = {"k_key": pid[by_pid] * _SHIFT + (day[by_pid] - base), "k_out": out[by_pid],
              "k_group": g[by_pid], "k_force": f[by_pid]}
        del by_pid
        by_day = np.lexsort((f, day))  # of one day, the last is the largest force code
        by.update(c_day=day[by_day], c_out=out[by_day], c_pid=pid[by_day], c_group=g[by_day],
                  c_force=f[by_day], c_rank=rank[by_day])
        del by_day, day, out, pid, g, f, rank
        others = np.flatnonzero(~counted)
        o_day = convictions["offence_day"].to_numpy(np.int64)[others]
        o_out = convictions["outcome_day"].to_numpy()[others].astype(np.int32)
        o_pid = convictions["pid"].to_numpy(np.int64)[others]
        del others
        o_order = np.argsort(o_day, kind="stable")
        ok_order = np.lexsort((o_day, o_pid))
        by.update(ok_key=(o_pid * _SHIFT + o_day - base)[ok_order], ok_out=o_out[ok_order],
                  o_day=o_day[o_order], o_out=o_out[o_order], o_pid=o_pid[o_order])
        del o_day, o_out, o_pid, o_order, ok_order
        custody = custody.sort_values(["pid", "start"])
        links = persons.dropna(subset=["linked_person_key"])
        pid_of_key = pd.Series(links["pid"].to_numpy(), index=links["linked_person_key"])
        j_pid = pid_of_key.reindex(journeys["person_key"]).to_numpy()
        linked = ~np.isnan(j_pid.astype(float))
        j_end = np.where(journeys["open"].to_numpy(bool), _OPEN, journeys["end_day"].to_numpy())
        return cls(
            n=n, birth_month=persons["birth_month"].to_numpy(np.int64),
            sex=persons["sex"].to_numpy(np.int8),
            ambiguous=persons["ambiguous_candidate"].to_numpy(bool),
            groups=groups, forces=forces,
            k_ptr=k_ptr, **by,
            s_start=custody["start"].to_numpy(np.int64), s_end=custody["end"].to_numpy(np.int64),
            s_ptr=np.searchsorted(custody["pid"].to_numpy(np.int64), np.arange(n + 1)),
            j_pid=j_pid[linked].astype(np.int64),
            j_start=journeys["start_day"].to_numpy(np.int64)[linked],
            j_end=j_end[linked].astype(np.int64),
            base=base, loc=np.full(n, -1, np.int64),
        )

    def with_own_scratch(self) -> "Histories":
        """The same arrays with scratch of its own (`loc`, `marks`): one per thread."""
        return replace(self, loc=np.full(self.n, -1, np.int64), marks={})


def _codes(column: pd.Series, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The sorted distinct values of `column` at `rows` and each row's place among them
    (factorised: text columns of millions of rows never become Python strings)."""
    codes, uniques = pd.factorize(column)
    values = sorted(uniques[np.unique(codes[rows])].tolist()) if len(rows) else []
    return values, pd.Index(values).get_indexer(uniques).astype(np.int32)[codes[rows]]


def _ranges(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner row, position) of every position in the ranges [start, stop)."""
    length = stop - start
    owner = np.repeat(np.arange(len(start)), length)
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    return owner, np.repeat(start, length) + offset


def _window_rows(key, pids, first, stop):
    """(owner, position) of the rows of `pids` with day offsets in [first, stop)."""
    lo = np.searchsorted(key, pids * _SHIFT + first)
    hi = np.searchsorted(key, pids * _SHIFT + stop)
    return _ranges(lo, hi)


def _marked(n: int, pids: np.ndarray) -> np.ndarray:
    """A flag per person, set for `pids` (a scatter: no sort, unlike np.unique or np.isin)."""
    mark = np.zeros(n, bool)
    mark[pids] = True
    return mark


def _status(h: Histories, t: int, window: int, pids: np.ndarray):
    """Of persons `pids` at t: in custody on t, custody days in the before window, a
    journey open on t or starting within 28 days of it."""
    owner, pos = _ranges(h.s_ptr[pids], h.s_ptr[pids + 1])
    start, end = h.s_start[pos], h.s_end[pos]
    m = len(pids)
    in_custody = np.bincount(owner, weights=(start <= t) & (end > t), minlength=m) > 0
    custody = np.bincount(owner, weights=np.clip(np.minimum(end, t)
                                                 - np.maximum(start, t - window), 0, None),
                          minlength=m)
    return in_custody, custody, _journey_marks(h, t)[0][pids]


def _journey_marks(h: Histories, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Flags per person: a journey open on t or starting within 28 days of it; a journey
    started before t. Kept for the last date asked: each date is asked twice in a row (its
    eligible persons, its members)."""
    if h.marks.get("t") != t:
        near = (h.j_start <= t) & (t <= h.j_end) | (np.abs(h.j_start - t) <= START_MARGIN_DAYS)
        h.marks = {"t": t, "near": _marked(h.n, h.j_pid[near]),
                   "earlier": _marked(h.n, h.j_pid[h.j_start < t])}
    return h.marks["near"], h.marks["earlier"]


def _eligible_rows(h: Histories, t: int, window: int, wait: int, adult: int):
    """Every person eligible at t (METHOD.md §10) and their rows of the window: one day
    slice of the counted convictions; eligibility is settled first, so that the rest is
    computed for the eligible only."""
    lo, hi = np.searchsorted(h.c_day, [t - window, t])
    known = h.c_out[lo:hi] <= t - 1 + wait
    candidates = np.flatnonzero(_marked(h.n, h.c_pid[lo:hi][known]))  # sorted, no sort
    # the cheap tests first: custody and journeys are looked up for the rest only
    age = age_at(h.birth_month[candidates], t)
    first = (age >= adult) & ~h.ambiguous[candidates]
    candidates, age = candidates[first], age[first]
    in_custody, custody, near = _status(h, t, window, candidates)
    ok = ~in_custody & ~near
    pids = candidates[ok]
    m = len(pids)
    h.loc[pids] = np.arange(m)  # a person's row, for the rows of the window
    every = h.loc[h.c_pid[lo:hi]]
    olo, ohi = np.searchsorted(h.o_day, [t - window, t])
    oli = h.loc[h.o_pid[olo:ohi][h.o_out[olo:ohi] <= t - 1 + wait]]
    h.loc[pids] = -1
    # counted convictions before the window: the rank, among the person's, of their first
    # in the window (every eligible person has one there)
    history = np.full(m, np.iinfo(np.int64).max)
    mine = every >= 0
    # (one dtype: `ufunc.at` is some 25 times slower when it must cast)
    np.minimum.at(history, every[mine], h.c_rank[lo:hi][mine].astype(np.int64))
    rows = mine & known
    window_rows = (every[rows], *(a[lo:hi][rows] for a in (h.c_day, h.c_group, h.c_force,
                                                            h.c_out)))
    return pids, window_rows, oli[oli >= 0], history, (age[ok], in_custody[ok], custody[ok],
                                                        near[ok])


def person_dates(h: Histories, t: int, window: int, wait: int,
                 pids: np.ndarray | None = None, adult: int = 18) -> dict[str, np.ndarray]:
    """What persons carry at t. With `pids` None: every person eligible at t (METHOD.md
    §10), else exactly the persons `pids` (cohort members at their index date)."""
    if pids is None:
        pids, (li, day, group, force, outcome), oli, history, status = _eligible_rows(
            h, t, window, wait, adult)
    else:  # a few persons: their own rows, by (person, day)
        li, pos = _window_rows(h.k_key, pids, t - window - h.base, t - h.base)
        known = h.k_out[pos] <= t - 1 + wait
        li, pos = li[known], pos[known]
        day = h.k_key[pos] % _SHIFT + h.base  # the key holds the day
        group, force, outcome = h.k_group[pos], h.k_force[pos], h.k_out[pos]
        oli, opos = _window_rows(h.ok_key, pids, t - window - h.base, t - h.base)
        oli = oli[h.ok_out[opos] <= t - 1 + wait]
        history = (np.searchsorted(h.k_key, pids * _SHIFT + (t - window - h.base))
                   - h.k_ptr[pids])
        status = (age_at(h.birth_month[pids], t), *_status(h, t, window, pids))
    age, in_custody, custody, treated_near = status
    m = len(pids)
    before = np.bincount(li, minlength=m)
    block = np.minimum((t - 1 - day) // BLOCK_DAYS, BLOCKS - 1)
    blocks = np.bincount(li * BLOCKS + block, minlength=m * BLOCKS).reshape(m, BLOCKS)
    by_group = np.bincount(li * len(h.groups) + group,
                           minlength=m * len(h.groups)).reshape(m, len(h.groups))
    last = np.full(m, -1, np.int64)
    np.maximum.at(last, li, np.arange(len(li)))
    has = last >= 0
    latest_day = np.where(has, day[np.maximum(last, 0)], t - window) if len(li) else \
        np.full(m, t - window)
    recent = np.bincount(li[day >= t - RECENT_DAYS], minlength=m) > 0
    placebo_ok = np.bincount(li[(outcome >= t - PLACEBO_OUTCOME_DAYS) & (outcome <= t - 1)],
                             minlength=m) > 0
    other = np.bincount(oli, minlength=m)
    earlier = _journey_marks(h, t)[1][pids]
    rows = {
        "pid": pids, "sex": h.sex[pids].astype(np.int64), "age": age,
        "age_band": _band(age, _AGE_EDGES), "before": before,
        "before_band": _band(before, _BEFORE_EDGES), "history": history,
        "history_band": _band(history, _HISTORY_EDGES), "recent": recent,
        "blocks": blocks, "by_group": by_group, "days_since_latest": t - latest_day,
        "force": np.where(has, force[np.maximum(last, 0)], -1) if len(li) else np.full(m, -1),
        "other": other, "custody_days": custody, "earlier_journey": earlier,
        "placebo_ok": placebo_ok,
    }
    rows["eligible"] = ((age >= adult) & (before > 0) & ~in_custody & ~treated_near
                        & ~h.ambiguous[pids])
    return rows


def select(rows: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in rows.items()}


def after_counts(h: Histories, pid: np.ndarray, t: np.ndarray, window: int,
                 wait: int) -> np.ndarray:
    """Counted convictions in the after window of t, per (person, t) pair."""
    lo = np.searchsorted(h.k_key, pid * _SHIFT + (t - h.base))
    hi = np.searchsorted(h.k_key, pid * _SHIFT + (t + window - h.base))
    owner, pos = _ranges(lo, hi)
    counted = h.k_out[pos] <= np.repeat(t, hi - lo) + window - 1 + wait
    return np.bincount(owner, weights=counted, minlength=len(pid)).astype(np.int64)


def started_in_after_window(h: Histories, pid: np.ndarray, t: np.ndarray,
                            window: int) -> np.ndarray:
    """Whether each (person, t) pair's person starts a journey in [t, t + window − 1]."""
    order = np.lexsort((h.j_start, h.j_pid))
    key = h.j_pid[order] * _SHIFT * 8 + (h.j_start[order] - h.base)
    lo = np.searchsorted(key, pid * _SHIFT * 8 + (t - h.base))
    hi = np.searchsorted(key, pid * _SHIFT * 8 + (t + window - h.base))
    return hi > lo


__all__ = ["AGE_BANDS", "Histories", "age_at", "after_counts", "person_dates", "select",
           "started_in_after_window"]
