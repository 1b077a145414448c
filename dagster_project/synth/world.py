"""Building the synthetic world: persons, treatment, offending, PNC records.

Exports `World`, `build_world`, `STREAMS`.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .columns import NO_DAY, draw
from .config import DRUG_GROUPS, SynthConfig
from .counterfactual import (
    counterfactual_rates,
    crises,
    crisis_segments,
    first_starts,
    treated_away,
)
from .geography import Geography, build_geography
from .offending import draw_cases, offending_segments
from .people import People, draw_people
from .pnc import PncRecords, build_records
from .treatment import draw_episodes, draw_journeys

_BLOCK = 500_000  # persons whose offending is drawn at once
STREAMS = ("people", "treatment", "offending", "pnc", "ndtms", "errors")


@dataclass
class World:
    """Everything the extracts are written from, and the truth about it."""

    config: SynthConfig
    geography: Geography
    people: People
    n_clients: int
    drug_group: np.ndarray  # per client, index into DRUG_GROUPS
    rate: np.ndarray  # latent detected cases per year at the peak age, per person
    journeys: pd.DataFrame
    episodes: pd.DataFrame
    cases: pd.DataFrame  # of PNC persons only (counterfactual world: also those taken away)
    records: PncRecords
    case_record: np.ndarray  # each case's row in records (-1: taken away by treatment)
    rngs: dict

    @property
    def is_drug_user(self) -> np.ndarray:
        """Whose charges follow the clients' offence mix: the clients, and in the
        counterfactual world the drug-using offenders not (yet) in treatment."""
        n = self.n_clients
        if self.config.treatment_effect is not None:
            n += round(self.config.cf_drug_users_per_client * self.n_clients)
        return np.arange(len(self.people)) < n

    @property
    def is_client(self) -> np.ndarray:
        return np.arange(len(self.people)) < self.n_clients


def _rates(rng, n_clients: int, n_others: int, drug_group, config: SynthConfig) -> np.ndarray:
    """Latent rates: gamma between persons (mean, shape as configured); some clients never
    offend at all."""
    shape, mean = config.client_rate_shape, config.client_rate_mean
    client = rng.gamma(shape, mean / shape, n_clients)
    client *= np.array([config.drug_group_rate_multiplier[g] for g in DRUG_GROUPS])[drug_group]
    client[rng.random(n_clients) >= config.client_offender_share] = 0.0
    shape, mean = config.other_rate_shape, config.other_rate_mean
    return np.r_[client, rng.gamma(shape, mean / shape, n_others)]


def _journey_ends(journeys: pd.DataFrame, episodes: pd.DataFrame, last_day: int) -> np.ndarray:
    """Each journey's latest discharge (the extract date when any episode is open)."""
    disd = episodes["disd"].to_numpy()
    end = (
        pd.Series(np.where(disd == NO_DAY, last_day, disd))
        .groupby(episodes["journey_id"].to_numpy())
        .max()
    )
    return end.reindex(range(len(journeys)), fill_value=last_day).to_numpy()


def _offending(rng, journeys, people: People, n_clients: int, drug_group, rate, config,
               segments_of=None):
    """The cases of everyone on the PNC: every client with a case, and never-treated
    offenders up to the configured number (the pool is drawn larger because many never
    get caught; the first ones caught, by id, are kept).

    Drawn in blocks of persons, in id order, so that memory stays bounded at national
    scale (cases of one block at a time) and the pool is drawn only until it has given
    the nominals it is asked for."""
    min_age_day = people.dob + round(config.offending_min_age * 365.25)
    first_day = np.maximum(config.day("history_start"), min_age_day)
    journey_person = None if journeys is None else journeys["person"].to_numpy()
    blocks, wanted = [], config.pnc_other_nominals
    for lo in range(0, len(people), _BLOCK):
        hi = min(lo + _BLOCK, len(people))
        if lo >= n_clients and wanted <= 0:
            break
        if segments_of is None:
            rows = slice(*np.searchsorted(journey_person, [lo, hi]))
            segments = offending_segments(
                journeys.iloc[rows], np.arange(lo, hi), first_day, drug_group, config
            )
        else:  # the counterfactual world: offending drawn before treatment is
            segments = segments_of(np.arange(lo, hi), first_day)
        cases = draw_cases(rng, segments, rate, people.dob, config)
        del segments
        person = cases["person"].to_numpy()
        others = np.unique(person[person >= n_clients])
        if len(others) > wanted:  # the quota fills in this block: keep its first offenders
            limit = others[wanted - 1] if wanted > 0 else n_clients - 1
            cases = cases[(person < n_clients) | (person <= limit)]
        wanted -= min(len(others), wanted)
        blocks.append(cases)
    return pd.concat(blocks, ignore_index=True)


def _counterfactual_offending(rngs, people: People, n_clients: int, rate, config):
    """Rates with the drug-using offenders, offending as if nobody were treated, and
    journeys whose first starts follow convictions and crises (counterfactual.py)."""
    n_users = round(config.cf_drug_users_per_client * n_clients)
    rate = counterfactual_rates(rngs["people"], rate, n_clients, n_users, config)
    min_age_day = people.dob + round(config.offending_min_age * 365.25)
    first_day = np.maximum(config.day("history_start"), min_age_day)
    crisis_person, crisis_start = crises(
        rngs["offending"], np.arange(n_clients + n_users), first_day, config
    )

    def segments_of(persons, first_day):
        return crisis_segments(persons, crisis_person, crisis_start, first_day, config)

    cases = _offending(
        rngs["offending"], None, people, n_clients, None, rate, config, segments_of
    )
    earliest = np.maximum(
        config.day("treatment_start"),
        people.dob[:n_clients] + round(config.min_entry_age * 365.25),
    )
    start = first_starts(rngs["treatment"], earliest, cases, crisis_person, crisis_start, config)
    journeys = draw_journeys(
        rngs["treatment"], people.dob[:n_clients], rate[:n_clients], config, first_start=start
    )
    return rate, journeys, cases


def build_world(config: SynthConfig, seed: int) -> World:
    """Draw the world for a seed (independent random streams per part, so changing one
    part's draws does not reshuffle the others)."""
    rngs = dict(
        zip(
            STREAMS,
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(STREAMS))),
            strict=True,
        )
    )
    geography = build_geography(config.agencies_per_dat)
    first, last = config.day("treatment_start"), config.day("extract_date")
    n_clients = round(config.new_clients_per_year * (last - first) / 365.25)
    n_pool = round(config.pnc_other_nominals * config.pnc_pool_oversample)
    people = draw_people(rngs["people"], n_clients, n_pool, config, geography)
    drug_group = draw(rngs["people"], config.drug_group_shares, n_clients)
    rate = _rates(rngs["people"], n_clients, n_pool, drug_group, config)

    rng = rngs["treatment"]
    if config.treatment_effect is None:
        journeys = draw_journeys(rng, people.dob[:n_clients], rate[:n_clients], config)
        cases, away = None, None
    else:
        rate, journeys, cases = _counterfactual_offending(rngs, people, n_clients, rate, config)
    home = people.area_at(journeys["person"].to_numpy(), journeys["start"].to_numpy())
    episodes = draw_episodes(rng, journeys, home, config, geography)
    journeys["end"] = _journey_ends(journeys, episodes, last)
    journeys["open"] = journeys["end"] >= last

    if cases is None:
        cases = _offending(
            rngs["offending"], journeys, people, n_clients, drug_group, rate, config
        )
    else:
        away = treated_away(rngs["offending"], cases, journeys, config.treatment_effect)
        cases = cases.assign(treated_away=away)
    records, case_record = build_records(
        rngs["pnc"], cases if away is None else cases[~away], people, config
    )
    if away is not None:  # cases treatment took away have no record (-1)
        full = np.full(len(cases), -1, np.int64)
        full[~away] = case_record
        case_record = full
    return World(
        config,
        geography,
        people,
        n_clients,
        drug_group,
        rate,
        journeys,
        episodes,
        cases,
        records,
        case_record,
        rngs,
    )
