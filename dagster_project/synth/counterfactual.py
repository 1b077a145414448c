"""A world with a counterfactual (`--treatment-effect`): what the cohort would have offended
without treatment, so that a comparison group (METHOD.md §10) can be judged against truth.

Exports `counterfactual_rates`, `crisis_segments`, `first_starts`, `treated_away`.

Switched on by `SynthConfig.treatment_effect` (None keeps the default world, whose
mechanics the published figures are calibrated on). In this world:

- drug-using offenders who do not (or not yet) start treatment, with client-like rates
  (`cf_drug_users_per_client` of them per client), are on the PNC beside the clients;
- crises (`cf_crisis_rate` a year, `cf_crisis_days` long, offending × `cf_crisis_multiplier`)
  happen to clients and drug users alike; people age out of crime (`age_decline`);
- offending is first drawn as if nobody were ever treated; a client's first journey then
  starts at the first conviction or crisis that brings it to treatment (each does with a
  chance: `cf_conviction_trigger`, `cf_crisis_trigger`), or at a time unrelated to
  offending if that comes first; never in custody; later journeys follow as in the
  default world;
- the effect of treatment, with common random numbers: each case carries one uniform draw,
  and a case in the two years from the start of any of its person's journeys is taken away
  when its draw is below `treatment_effect`. The world with treatment is the one written;
  the truth keeps both.
"""

import numpy as np
import pandas as pd

from .config import DRUG_GROUPS, SynthConfig

_SHIFT = np.int64(1) << 22
EFFECT_DAYS = 730


def counterfactual_rates(rng, rate: np.ndarray, n_clients: int, n_users: int,
                         config: SynthConfig) -> np.ndarray:
    """The first `n_users` never-treated persons get client-like latent rates (every one an
    offender: they are on the PNC because they offend)."""
    shape, mean = config.client_rate_shape, config.client_rate_mean
    group = rng.integers(0, len(DRUG_GROUPS), n_users)
    mult = np.array([config.drug_group_rate_multiplier[g] for g in DRUG_GROUPS])[group]
    out = rate.copy()
    out[n_clients:n_clients + n_users] = rng.gamma(shape, mean / shape, n_users) * mult
    return out


def crises(rng, persons: np.ndarray, first_day: np.ndarray, config: SynthConfig):
    """(person, start) of every crisis of `persons` over the simulated years."""
    last = config.day("extract_date")
    span = np.maximum(last - first_day[persons], 1)
    k = rng.poisson(config.cf_crisis_rate * span / 365.25)
    person = np.repeat(persons, k)
    start = first_day[person] + (rng.random(len(person)) * np.repeat(span, k)).astype(np.int64)
    return person, start


def crisis_segments(persons, crisis_person, crisis_start, first_day, config) -> pd.DataFrame:
    """Stretches for `draw_cases`: the person's whole time at multiplier 1, plus each crisis
    as an extra (multiplier − 1): Poisson processes add."""
    last = config.day("extract_date")
    inside = np.isin(crisis_person, persons)
    cp, cs = crisis_person[inside], crisis_start[inside]
    return pd.DataFrame({
        "person": np.r_[persons, cp],
        "start": np.r_[first_day[persons], cs],
        "end": np.r_[np.full(len(persons), last), np.minimum(cs + config.cf_crisis_days, last)],
        "multiplier": np.r_[np.ones(len(persons)), np.full(len(cp),
                                                           config.cf_crisis_multiplier - 1)],
    }).query("end > start")


def first_starts(rng, earliest: np.ndarray, cases: pd.DataFrame, crisis_person, crisis_start,
                 config: SynthConfig) -> np.ndarray:
    """Each client's first journey start: the first of its convictions that brings it to
    treatment (each does with chance `cf_conviction_trigger`, a start following within
    `cf_start_lag_days` of the court date), the first of its crises that does (chance
    `cf_crisis_trigger`, a start in the crisis's second half, or soon after), or a time
    unrelated to offending (uniform over the treatment period), whichever comes first.
    Only the past decides: whether a person starts at t never depends on what it does
    after t."""
    n, last = len(earliest), config.day("extract_date")
    start = earliest + (rng.random(n) * np.maximum(last - earliest, 1)).astype(np.int64)
    convicted, court = _convictions(cases, n)
    # people come to treatment as a crisis peaks: in its second half
    in_crisis = ((0.5 + 0.5 * rng.random(len(crisis_start)))
                 * config.cf_crisis_days).astype(np.int64)
    for person, day, chance in (
        (convicted, court, config.cf_conviction_trigger),
        (crisis_person, crisis_start + in_crisis, config.cf_crisis_trigger),
    ):
        day = day + (rng.random(len(day)) * config.cf_start_lag_days).astype(np.int64)
        ok = (person < n) & (rng.random(len(person)) < chance)
        ok[ok] &= day[ok] >= earliest[person[ok]]
        np.minimum.at(start, person[ok], day[ok])
    return np.minimum(_after_custody(rng, start, cases, config), last - 1)


def _convictions(cases: pd.DataFrame, n_clients: int):
    convicted = (cases["outcome"].to_numpy() == 0) & (cases["person"].to_numpy() < n_clients)
    return cases["person"].to_numpy()[convicted], cases["outcome_day"].to_numpy()[convicted]


def _after_custody(rng, start: np.ndarray, cases: pd.DataFrame, config) -> np.ndarray:
    """Nobody starts treatment in custody: a start inside a spell moves to soon after the
    release (twice, for a release into a next spell)."""
    n = len(start)
    spell = ((cases["disposal"].to_numpy() == 0) & (cases["custody_days"].to_numpy() >= 0)
             & (cases["person"].to_numpy() < n))
    person = cases["person"].to_numpy(np.int64)[spell]
    begin = cases["outcome_day"].to_numpy(np.int64)[spell]
    end = begin + (cases["custody_days"].to_numpy(np.int64)[spell] + 1) // 2
    for _ in range(2):
        inside = (begin <= start[person]) & (start[person] < end)
        moved = np.zeros(n, np.int64)
        np.maximum.at(moved, person[inside], end[inside])
        lag = (rng.random(n) * config.cf_start_lag_days).astype(np.int64)
        start = np.where(moved > 0, moved + lag, start)
    return start


def treated_away(rng, cases: pd.DataFrame, journeys: pd.DataFrame, effect: float) -> np.ndarray:
    """Cases taken away by treatment: in the two years from a journey's start, each case
    whose uniform draw is below the effect (one draw per case: common random numbers)."""
    u = rng.random(len(cases))
    jkey = np.sort(journeys["person"].to_numpy(np.int64) * _SHIFT
                   + journeys["start"].to_numpy(np.int64))
    person, day = cases["person"].to_numpy(np.int64), cases["day"].to_numpy(np.int64)
    i = np.searchsorted(jkey, person * _SHIFT + day, side="right") - 1
    ok = i >= 0
    latest = jkey[np.maximum(i, 0)]
    same = ok & (latest // _SHIFT == person)
    within = same & (day - latest % _SHIFT < EFFECT_DAYS)
    return within & (u < effect)
