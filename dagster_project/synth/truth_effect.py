"""The true effect of treatment on each cohort year's cohort, in a world with a
counterfactual (counterfactual.py): `truth/<extract date>/comparison_truth.csv`.

Exports `write_effect_truth`, `effect_truth`.

The cohort is taken as the study defines it, from the truth rather than the extracts
(every client, true identities): adults (completed years) whose first journey starting in
the year has a counted conviction in its before window, as written (with treatment). The
truth is 1 − Σ after (with treatment) / Σ after (the same cases, none taken away).
"""

from pathlib import Path

import numpy as np
import pandas as pd

from ..delivery.reference import load_reference
from ..staging.codes import classify_offences
from ..vocabulary.partition import PARTITION_COLUMN
from .columns import date_parts

WINDOW, WAIT = 730, 183
_SHIFT = np.int64(1) << 22


def _counts(key, person, lo_day, hi_day, last_proven, proven) -> np.ndarray:
    lo = np.searchsorted(key, person * _SHIFT + lo_day)
    hi = np.searchsorted(key, person * _SHIFT + hi_day)
    length = hi - lo
    owner = np.repeat(np.arange(len(person)), length)
    pos = np.repeat(lo, length) + np.arange(length.sum()) - np.repeat(np.cumsum(length) - length,
                                                                       length)
    return np.bincount(owner, weights=proven[pos] <= last_proven[owner], minlength=len(person))


def effect_truth(world, charges: dict) -> pd.DataFrame:
    """One row per cohort year of the treatment period."""
    codes = pd.Series(charges["code"])
    unique = codes.drop_duplicates()
    trigger = pd.Series(
        classify_offences(unique.reset_index(drop=True), load_reference("offence_codes"))[
            "trigger"].to_numpy(), index=unique.to_numpy())
    counted = trigger.reindex(codes).to_numpy(bool) & (charges["outcome"] == 0)
    person = charges["person"][counted].astype(np.int64)
    day = charges["day"][counted].astype(np.int64)
    proven = charges["outcome_day"][counted].astype(np.int64)
    away = charges["away"][counted]
    order = np.lexsort((day, person))
    key_all = (person * _SHIFT + day)[order]
    kept = ~away[order]
    key_kept, proven_kept, proven_all = key_all[kept], proven[order][kept], proven[order]
    j = world.journeys.sort_values(["person", "start"])
    start = j["start"].to_numpy(np.int64)
    year = date_parts(start)[0]
    month = date_parts(start)[1]
    fy = np.where(month >= 4, year, year - 1)
    first = ~pd.DataFrame({"p": j["person"].to_numpy(), "fy": fy}).duplicated().to_numpy()
    p, t, fy = j["person"].to_numpy(np.int64)[first], start[first], fy[first]
    dob = world.people.dob[p].astype(np.int64)
    by, bm, bd = date_parts(dob)
    ty, tm, td = date_parts(t)
    adult = (ty - by - ((tm * 100 + td) < (bm * 100 + bd))) >= 18
    p, t, fy = p[adult], t[adult], fy[adult]
    before = _counts(key_kept, p, t - WINDOW, t, t - 1 + WAIT, proven_kept)
    after_t = _counts(key_kept, p, t, t + WINDOW, t + WINDOW - 1 + WAIT, proven_kept)
    after_u = _counts(key_all, p, t, t + WINDOW, t + WINDOW - 1 + WAIT, proven_all)
    members = pd.DataFrame({"fy": fy, "before": before, "after_treated": after_t,
                            "after_untreated": after_u})[before > 0]
    table = members.groupby("fy").agg(members=("before", "size"), before=("before", "sum"),
                                      after_treated=("after_treated", "sum"),
                                      after_untreated=("after_untreated", "sum")).reset_index()
    table.insert(0, PARTITION_COLUMN, [f"{y}-{(y + 1) % 100:02d}" for y in table["fy"]])
    table["true_reduction"] = 1 - table["after_treated"] / table["after_untreated"]
    table["naive_reduction"] = 1 - table["after_treated"] / table["before"]
    table["treatment_effect"] = world.config.treatment_effect
    return table.drop(columns="fy")


def write_effect_truth(world, charges: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    effect_truth(world, charges).to_csv(folder / "comparison_truth.csv", index=False,
                                        lineterminator="\n", float_format="%.6f")
