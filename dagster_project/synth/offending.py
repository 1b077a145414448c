"""Offending over time, and the cases the police detect.

Each person has a latent rate of detected cases (gamma-distributed between persons). It
falls with age past a peak, spikes in the months before a treatment journey starts (people
enter treatment at a crisis: regression to the mean), is lowered while in treatment (the
effect building up over the first months; drop-outs relapse and, in their last weeks
before the discharge, stop attending and offend above their pre-treatment level) and after
the last exit (most after a successful completion: the planted effect, larger the longer the
stay; a client who comes back to treatment relapsed in between), and is zero in custody.
Within each stretch of constant rate, cases are a Poisson process.

Exports `offending_segments`, `draw_cases`, `OUTCOMES`, `DISPOSALS`.
"""

import numpy as np
import pandas as pd

from .columns import draw
from .config import DRUG_GROUPS, EXIT_TYPES, SynthConfig

OUTCOMES = ("C", "K", "A", "W")
DISPOSALS = ("CUS", "SUS", "COM", "FIN", "DIS", "OTH")
_SHIFT = np.int64(1) << 22  # day offsets fit below this in a (person, day) key
# days into a journey at which the in-treatment multiplier steps towards its full value
# (few steps: every step is a stretch per journey, and national worlds hold ~1M journeys)
_RAMP_STEPS = (0, 45, 120, 240, 420)


def _in_treatment(person, start, end, full, ramp_days: float) -> list[tuple]:
    """Treatment stretches whose multiplier moves from 1 at entry to `full` (per journey)
    with time constant `ramp_days`, as steps (the value at each step's middle)."""
    edges = (*_RAMP_STEPS, np.iinfo(np.int32).max)
    parts = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        middle = (lo + min(hi, 2 * _RAMP_STEPS[-1])) / 2
        fade = np.exp(-middle / ramp_days) if ramp_days > 0 else 0.0
        parts.append(
            (
                person,
                np.minimum(start + lo, end),
                np.minimum(start + hi, end),
                full + (1 - full) * fade,
            )
        )
    return parts


def offending_segments(
    journeys: pd.DataFrame,
    persons: np.ndarray,
    first_day: np.ndarray,
    drug_group: np.ndarray,
    config: SynthConfig,
) -> pd.DataFrame:
    """Stretches of constant rate multiplier for `persons` (ids), from `first_day` (per
    person id) to the extract date.

    `journeys` has person, start, end (latest discharge; the extract date when open),
    final_exit (index into EXIT_TYPES[:-1]), in person order, for persons among `persons`
    only. Persons without journeys get one stretch at multiplier 1."""
    last = config.day("extract_date")
    person = journeys["person"].to_numpy()
    start = journeys["start"].to_numpy()
    end = journeys["end"].to_numpy()
    post = np.array([config.post_exit_multiplier[e] for e in EXIT_TYPES[:-1]])
    post_mult = post[journeys["final_exit"].to_numpy()]
    # the lasting effect of treatment builds up with its length: after a short stay the
    # post-exit multiplier is nearer 1 (a dose-response)
    if config.post_exit_ramp_days > 0:
        fade = np.exp(-(end - start) / config.post_exit_ramp_days)
        died = journeys["final_exit"].to_numpy() == EXIT_TYPES.index("died")
        post_mult = np.where(died, post_mult, post_mult + (1 - post_mult) * fade)
    change = person[1:] != person[:-1]
    first_of_person = np.r_[True, change][: len(person)]  # (a block may hold no journeys)
    last_of_person = np.r_[change, True][: len(person)]
    prev_end = np.where(first_of_person, first_day[person], np.r_[0, end[:-1]][: len(person)])
    # a return to treatment follows a relapse: between the exit and the return the person
    # offends at the relapse rate, whatever the exit was; the post-exit effect lasts only
    # after the last journey
    prev_mult = np.where(first_of_person, 1.0, config.relapse_multiplier)
    pre_start = np.maximum(start - config.pre_entry_days, prev_end)
    # ... but the benefit of a successful completion lasts until that relapse: after a
    # completion, the relapse rate holds only over the last days before the pre-entry spike
    final_exit = journeys["final_exit"].to_numpy()
    completed = EXIT_TYPES.index("successful_completion")
    after_completion = ~first_of_person & (np.r_[-1, final_exit[:-1]][: len(person)] == completed)
    relapse_start = np.where(
        after_completion,
        np.maximum(pre_start - np.int64(config.completion_relapse_days), prev_end),
        prev_end,
    )
    prev_post = np.r_[1.0, post_mult[:-1]][: len(person)]
    treat = np.array([config.in_treatment_multiplier[g] for g in DRUG_GROUPS])
    tail = last_of_person
    untreated = np.setdiff1d(persons, person)
    # clients drop out after relapsing: the last part of such a journey is offended at the
    # relapse rate, not the treated one
    dropout = journeys["final_exit"].to_numpy() == EXIT_TYPES.index("dropped_out")
    relapse_days = (config.dropout_relapse_share * (end - start)).astype(np.int64)
    relapse = np.where(dropout, end - relapse_days, end)
    # ... and they stop attending some weeks before they are discharged: over those last
    # days (a set number, not a share of the stay) offending is back at or above the level
    # that brought them into treatment
    disengaged = np.where(
        dropout, np.maximum(end - np.int64(config.dropout_disengaged_days), start), end
    )
    relapse = np.minimum(relapse, disengaged)
    parts = [
        (person, prev_end, relapse_start, prev_post),  # between journeys: still well
        (person, relapse_start, pre_start, prev_mult),  # between journeys: relapsed
        (person, pre_start, start, prev_mult * config.pre_entry_multiplier),
        *_in_treatment(
            person, start, relapse, treat[drug_group[person]], config.in_treatment_ramp_days
        ),
        (person, relapse, disengaged, np.full(len(person), config.relapse_multiplier)),
        (person, disengaged, end, np.full(len(person), config.disengaged_multiplier)),
        (person[tail], end[tail], np.full(tail.sum(), last), post_mult[tail]),
        (untreated, first_day[untreated], np.full(len(untreated), last), np.ones(len(untreated))),
    ]
    seg = pd.DataFrame(
        {
            k: np.concatenate([p[i] for p in parts])
            for i, k in enumerate(("person", "start", "end", "multiplier"))
        }
    )
    seg["start"] = np.maximum(seg["start"].to_numpy(), first_day[seg["person"].to_numpy()])
    seg["end"] = np.clip(seg["end"].to_numpy(), seg["start"].to_numpy(), last)
    return seg[seg["end"] > seg["start"]]


def _in_custody(person, day, spell_person, spell_start, spell_end, base) -> np.ndarray:
    """Whether each (person, day) falls in one of the person's spells [start, end)."""
    if len(spell_person) == 0:
        return np.zeros(len(person), bool)
    start_key = spell_person * _SHIFT + (spell_start - base)
    order = np.argsort(start_key, kind="stable")
    start_key = start_key[order]
    # persons are the key's high part, so a running max of end keys never crosses persons
    end_key = np.maximum.accumulate((spell_person * _SHIFT + (spell_end - base))[order])
    key = person * _SHIFT + (day - base)
    i = np.searchsorted(start_key, key, side="right") - 1
    return (i >= 0) & (end_key[np.maximum(i, 0)] > key)


def draw_cases(
    rng, segments: pd.DataFrame, rate: np.ndarray, dob: np.ndarray, config: SynthConfig
) -> pd.DataFrame:
    """Detected cases: person, day (offence date), outcome (index into OUTCOMES),
    outcome_day, disposal (index into DISPOSALS, -1 none), custody_days (-1 none).
    Sorted by person and day."""
    seg_rate = rate[segments["person"].to_numpy()] * segments["multiplier"].to_numpy()
    length = (segments["end"] - segments["start"]).to_numpy()
    counts = rng.poisson(seg_rate * length / 365.25)
    s = np.repeat(np.arange(len(segments)), counts)
    person = segments["person"].to_numpy()[s]
    day = segments["start"].to_numpy()[s] + (rng.random(len(s)) * length[s]).astype(np.int64)
    # age: thinning a process drawn at the peak rate gives the declining rate exactly
    age = (day - dob[person]) / 365.25
    keep = rng.random(len(s)) < np.exp(-config.age_decline * np.maximum(age - config.age_peak, 0))
    person, day = person[keep], day[keep]
    order = np.lexsort((day, person))
    person, day = person[order], day[order]
    n = len(person)
    outcome = draw(rng, {o: config.outcome_shares[o] for o in OUTCOMES}, n)
    court_lag = np.minimum(
        rng.lognormal(np.log(config.court_lag_median_days), config.court_lag_sigma, n),
        config.court_lag_max_days,
    )
    caution_lag = rng.integers(0, config.caution_lag_max_days + 1, n)
    outcome_day = day + np.where(
        outcome == OUTCOMES.index("K"), caution_lag, court_lag.astype(np.int64)
    )
    convicted = outcome == OUTCOMES.index("C")
    disposal = np.where(
        convicted, draw(rng, {d: config.disposal_shares[d] for d in DISPOSALS}, n), -1
    )
    custody = disposal == DISPOSALS.index("CUS")
    custody_days = np.where(
        custody & (rng.random(n) >= config.custody_days_missing_share),
        np.maximum(
            rng.lognormal(np.log(config.custody_median_days), config.custody_sigma, n), 1
        ).astype(np.int64),
        -1,
    )
    # No offending in custody (released at half the sentence). Removing cases removes
    # their spells too, so iterate; the last pass only removes, which leaves no kept case
    # inside a kept spell.
    base = config.day("history_start") - 20 * 366
    kept = np.ones(n, bool)
    for last_pass in (False, False, False, True):
        spell = kept & (custody_days >= 0)
        inside = _in_custody(
            person,
            day,
            person[spell],
            outcome_day[spell],
            outcome_day[spell] + (custody_days[spell] + 1) // 2,
            base,
        )
        new = kept & ~inside if last_pass else ~inside
        if np.array_equal(new, kept):
            break
        kept = new
    return pd.DataFrame(
        {
            "person": person,
            "day": day,
            "outcome": outcome,
            "outcome_day": outcome_day,
            "disposal": disposal,
            "custody_days": custody_days,
        }
    )[kept].reset_index(drop=True)
