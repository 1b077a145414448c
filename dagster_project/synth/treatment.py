"""Treatment journeys of clients, and the episodes NDTMS records of them.

A journey is one spell of treatment: one or more episodes, at one agency or several
(transfers start the next episode within 21 days; a few clients are seen by a second
agency at the same time). Journeys end in an exit (completion, drop-out, …) or are open
at the extract date; some clients come back later for a new journey.

Exports `draw_journeys`, `draw_episodes`, `EXIT_TYPES`.
"""

import numpy as np
import pandas as pd

from .columns import NO_DAY, draw
from .config import EXIT_TYPES, SynthConfig
from .geography import Geography

_FINAL_EXITS = EXIT_TYPES[:-1]  # every exit type but 'retained'
TWO_YEARS = 730


def _year_days(years: float) -> np.ndarray:
    return np.int64(round(years * 365.25))


def exit_probabilities(rate: np.ndarray, config: SynthConfig) -> np.ndarray:
    """Each client's chance of each exit type (rows: clients, columns: EXIT_TYPES).

    Chaotic lives end treatment differently: the odds of an exit type are scaled by
    (1 + rate / client_rate_mean) ** exit_rate_tilt[type], so that heavy offenders drop out
    more and stay less. The base shares are then fitted (iterative proportional fitting)
    so that the clients' average is `exit_shares`."""
    target = np.array([config.exit_shares[e] for e in EXIT_TYPES])
    tilt = np.array([config.exit_rate_tilt.get(e, 0.0) for e in EXIT_TYPES])
    odds = (1.0 + rate[:, None] / config.client_rate_mean) ** tilt[None, :]
    base = target.copy()
    for _ in range(50):
        p = odds * base
        p /= p.sum(axis=1, keepdims=True)
        base *= target / np.maximum(p.mean(axis=0), 1e-12)
    return p


def draw_journeys(
    rng, dob: np.ndarray, rate: np.ndarray, config: SynthConfig, first_start=None
) -> pd.DataFrame:
    """Journeys of clients 0..len(dob)-1, each client's first journey starting uniformly
    over the treatment period (no earlier than the minimum entry age); `rate` (the
    clients' latent offending rates) tilts how journeys end (`exit_probabilities`).

    Columns: person, journey (0-based), start, duration (days to the last discharge,
    before transfer gaps), exit_type (index into EXIT_TYPES), final_exit (how it ends,
    index into EXIT_TYPES without 'retained')."""
    first, last = config.day("treatment_start"), config.day("extract_date")
    earliest = np.maximum(first, dob + _year_days(config.min_entry_age))
    start = earliest + (rng.random(len(dob)) * np.maximum(last - earliest, 1)).astype(np.int64)
    if first_start is not None:  # the counterfactual world decides them (counterfactual.py)
        start = np.asarray(first_start, dtype=np.int64)
    person = np.arange(len(dob))
    rounds = []
    retained = EXIT_TYPES.index("retained")
    medians = np.array([config.retention_median_days.get(e, 1.0) for e in EXIT_TYPES])
    reentry = np.array([config.reentry_share[e] for e in _FINAL_EXITS])
    cumulative = np.cumsum(exit_probabilities(rate, config), axis=1)
    for journey in range(config.max_journeys):
        n = len(person)
        exit_type = np.minimum(
            (rng.random(n)[:, None] >= cumulative[person]).sum(axis=1), len(EXIT_TYPES) - 1
        )
        short = np.minimum(
            rng.lognormal(np.log(medians[exit_type]), config.retention_sigma), TWO_YEARS - 1
        )
        long = TWO_YEARS + rng.exponential(config.retained_extra_mean_days, n)
        duration = np.where(exit_type == retained, long, short).astype(np.int64)
        final_exit = np.where(
            exit_type == retained, draw(rng, config.retained_final_exit_shares, n), exit_type
        )
        rounds.append(
            pd.DataFrame(
                {
                    "person": person,
                    "journey": journey,
                    "start": start,
                    "duration": duration,
                    "exit_type": exit_type,
                    "final_exit": final_exit,
                }
            )
        )
        end = start + duration
        again = (end < last) & (rng.random(n) < reentry[final_exit])
        next_start = end + 22 + rng.exponential(config.reentry_gap_mean_days, n).astype(np.int64)
        again &= next_start < last
        person, start = person[again], next_start[again]
    return pd.concat(rounds, ignore_index=True).sort_values(
        ["person", "journey"], kind="stable", ignore_index=True
    )


def discharge_codes(rng, exit_group: np.ndarray, disd: np.ndarray, config: SynthConfig):
    """DISRSN codes for exit groups (index into _FINAL_EXITS; -1 = open), in the 1-13
    series before the change date and the 80-89 series from it."""
    old = {  # exit group -> codes of the 1-13 series, with weights
        "successful_completion": {"1": 0.3, "2": 0.7},
        "dropped_out": {"3": 0.2, "6": 0.7, "12": 0.1},
        "transferred": {"5": 0.7, "7": 0.3},
        "custody": {"8": 1.0},
        "died": {"9": 1.0},
        "other": {"4": 0.2, "10": 0.4, "11": 0.3, "13": 0.1},
    }
    new = {  # the 80-89 series has no 'other': those exits read as provider withdrawals
        "successful_completion": {"80": 0.8, "81": 0.05, "82": 0.15},
        "dropped_out": {"85": 0.7, "86": 0.2, "88": 0.1},
        "transferred": {"83": 1.0},
        "custody": {"84": 0.6, "87": 0.4},
        "died": {"89": 1.0},
        "other": {"86": 1.0},
    }
    codes = np.full(len(disd), None, dtype=object)
    is_new = disd >= config.day("discharge_code_change")
    for g, group in enumerate(_FINAL_EXITS):
        for series, in_series in ((old, ~is_new), (new, is_new)):
            rows = np.flatnonzero((exit_group == g) & in_series)
            choices = series[group]
            codes[rows] = np.asarray(list(choices))[draw(rng, choices, len(rows))]
    return codes


def draw_episodes(
    rng, journeys: pd.DataFrame, home_area: np.ndarray, config: SynthConfig, geography: Geography
) -> pd.DataFrame:
    """Episodes of the journeys. `home_area` is each journey's district at its start.

    Columns: person, journey, journey_id (row of `journeys`), agency, triaged, disd
    (NO_DAY while open), exit_group (index into the final exit types; -1 while open),
    first (the journey's first episode), transfer_in (continues the journey at a new
    agency), concurrent."""
    n = len(journeys)
    last = config.day("extract_date")
    transferred = _FINAL_EXITS.index("transferred")
    n_transfers = np.minimum(rng.geometric(1 - config.transfer_share, n) - 1, config.max_transfers)
    per_journey = n_transfers + 1
    j = np.repeat(np.arange(n), per_journey)
    offset = np.repeat(np.cumsum(per_journey) - per_journey, per_journey)
    k = np.arange(len(j)) - offset  # episode number within the journey
    is_last = k == per_journey[j] - 1
    # Dirichlet split of the journey's duration; transfer gaps of 0-21 days between
    weight = rng.exponential(1.0, len(j))
    cum = np.cumsum(weight)
    total = np.repeat(np.add.reduceat(weight, np.cumsum(per_journey) - per_journey), per_journey)
    before = cum - weight - (cum - weight)[offset]
    gap = np.where(k > 0, np.minimum(rng.geometric(0.2, len(j)) - 1, 21), 0)
    cum_gap = np.cumsum(gap)
    cum_gap -= cum_gap[offset]
    duration = journeys["duration"].to_numpy()[j]
    start = journeys["start"].to_numpy()[j]
    triaged = start + (duration * before / total).astype(np.int64) + cum_gap
    disd = np.where(
        is_last,
        start + duration + cum_gap,
        start + (duration * (before + weight) / total).astype(np.int64) + cum_gap,
    )
    exit_group = np.where(is_last, journeys["final_exit"].to_numpy()[j], transferred)
    # agency: one in the home DAT (sometimes another DAT's); transfers move to a sibling
    apd = geography.agencies_per_dat
    dat = geography.district_dat[home_area]
    away = rng.random(n) < config.other_dat_agency_share
    dat = np.where(away, rng.integers(0, len(geography.dat_codes), n), dat)
    local = rng.integers(0, apd, n)[j] + k  # a different agency at each transfer
    agency = dat[j] * apd + local % apd
    episodes = pd.DataFrame(
        {
            "person": journeys["person"].to_numpy()[j],
            "journey": journeys["journey"].to_numpy()[j],
            "journey_id": j,
            "agency": agency,
            "triaged": triaged,
            "disd": disd,
            "exit_group": exit_group,
            "first": k == 0,
            "transfer_in": k > 0,
            "concurrent": False,
        }
    )
    episodes = pd.concat(
        [episodes, _concurrent(rng, journeys, disd[is_last], dat, config)], ignore_index=True
    )
    episodes = episodes[episodes["triaged"] < last].reset_index(drop=True)
    open_ = episodes["disd"].to_numpy() >= last
    episodes.loc[open_, "disd"] = NO_DAY
    episodes.loc[open_, "exit_group"] = -1
    return episodes


def _concurrent(rng, journeys, journey_end, dat, config: SynthConfig) -> pd.DataFrame:
    """Episodes at a second agency during a journey, discharged before it ends (so that
    they never decide the journey's exit)."""
    pick = np.flatnonzero(rng.random(len(journeys)) < config.concurrent_episode_share)
    start = journeys["start"].to_numpy()[pick]
    end = journey_end[pick]
    length = np.maximum(end - start, 2)
    triaged = start + 1 + (rng.random(len(pick)) * (length // 2)).astype(np.int64)
    disd = triaged + (rng.random(len(pick)) * np.maximum(end - triaged - 1, 0)).astype(np.int64)
    apd = config.agencies_per_dat
    keep = disd < end
    # the concurrent agency is another one of the same DAT
    local = rng.integers(0, apd, len(pick))
    return pd.DataFrame(
        {
            "person": journeys["person"].to_numpy()[pick],
            "journey": journeys["journey"].to_numpy()[pick],
            "journey_id": pick,
            "agency": dat[pick] * apd + local,
            "triaged": triaged,
            "disd": disd,
            # exit groups: successful_completion, dropped_out, transferred
            "exit_group": rng.choice(3, size=len(pick), p=[0.3, 0.6, 0.1]),
            "first": False,
            "transfer_in": False,
            "concurrent": True,
        }
    )[keep]
