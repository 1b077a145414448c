"""Treatment journeys: a client's episodes chained by the 21-day rule (METHOD.md §1).

Exports `treatment_journeys`, `index_start_candidates` and `START_ATTRIBUTES`.

Episodes are taken in `TRIAGED` order (ties: `AGNCY`, then `EPISODID`). An episode joins
the current journey when its `TRIAGED` is at most `journey_gap_days` after the latest
discharge so far among the journey's episodes; an open episode never ends, so everything
after it joins. Because a journey only ends when the next triage comes more than the gap
after *every* earlier discharge, the latest discharge so far among the journey's episodes
equals the latest discharge among all the client's earlier episodes: one grouped running
maximum chains every client at once.
"""

import numpy as np
import pandas as pd

from dagster_project.cohort.days import OPEN_DAY, from_days, to_days
from dagster_project.settings import Settings

EPISODE_ORDER = ["person_key", "triaged", "agncy", "episodid"]

# what the first episode says about the start of a journey
START_ATTRIBUTES = [
    "drug1", "drug2", "drug3", "drug1_class", "drug2_class", "drug3_class",
    "rfls", "referral_route", "age_at_triage", "sex",
]

JOURNEY_COLUMNS = [
    "person_key", "journey_seq", "start", "first_agncy", "first_episodid",
    *[c for c in START_ATTRIBUTES if c != "age_at_triage"], "age_at_start",
    "end", "open", "ending_agncy", "ending_episodid", "ending_disrsn", "ending_exit_group",
    "episodes",
]


def _chain(episodes: pd.DataFrame, gap_days: int) -> pd.DataFrame:
    """Sorted episodes with `journey_id` (global) and `journey_seq` (1, 2, … per client)."""
    ep = episodes.sort_values(EPISODE_ORDER, kind="stable").reset_index(drop=True)
    triaged = to_days(ep["triaged"])
    discharged = to_days(ep["disd"], missing=OPEN_DAY)
    person = ep["person_key"]
    first_of_client = ~person.eq(person.shift()).to_numpy()
    # latest discharge among the client's earlier episodes
    latest = pd.Series(discharged).groupby(person.to_numpy(), sort=False).cummax().to_numpy()
    latest_before = np.roll(latest, 1)
    new_journey = first_of_client | (triaged > latest_before + gap_days)
    ep["journey_id"] = np.cumsum(new_journey) - 1
    ep["journey_seq"] = pd.Series(new_journey.astype(np.int64)).groupby(
        person.to_numpy(), sort=False
    ).cumsum().to_numpy()
    ep["_triaged_day"] = triaged
    ep["_disd_day"] = discharged
    return ep


def index_start_candidates(episodes: pd.DataFrame, gap_days: int) -> np.ndarray:
    """For each episode, in the given row order, whether it starts its client's first journey
    of a cohort year: the only starts whose age the analysis reads (adulthood, age band and
    §10's age in years, all on the index date). The linkage stage hands over an age there
    alone; ages at every triage beside exact dates would bracket a birthday between two
    episodes, to the day for some persons (issue 12)."""
    if episodes.empty:
        return np.zeros(0, dtype=bool)
    ep = _chain(episodes.assign(_row=np.arange(len(episodes))), gap_days)
    starts = ep.drop_duplicates("journey_id", keep="first")
    firsts = starts[_first_of_cohort_year(starts["person_key"], starts["triaged"])]
    mask = np.zeros(len(episodes), dtype=bool)
    mask[firsts["_row"].to_numpy()] = True
    return mask


def _first_of_cohort_year(person: pd.Series, start: pd.Series) -> np.ndarray:
    """Rows (journey starts in journey order per client) that are the client's first start
    of their cohort year (April to March, METHOD.md §1)."""
    day = pd.to_datetime(start)
    year = day.dt.year - (day.dt.month < 4)
    return ~pd.DataFrame({"p": person.to_numpy(), "y": year.to_numpy()}).duplicated().to_numpy()


def _ending_episodes(ep: pd.DataFrame) -> pd.DataFrame:
    """Per journey, the episode with the latest discharge; of several discharged that day the
    one triaged last, and beyond that the last by `AGNCY`, then `EPISODID` (the mirror of how
    the start is chosen). `ep` is already in episode order within each journey."""
    keys = (np.arange(len(ep)), ep["_disd_day"].to_numpy(), ep["journey_id"].to_numpy())
    order = np.lexsort(keys)
    by_end = ep.iloc[order]
    return by_end.drop_duplicates("journey_id", keep="last").set_index("journey_id")


def treatment_journeys(episodes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """One row per treatment journey (columns `JOURNEY_COLUMNS`), from staged episodes keyed
    by `person_key`.

    `start` is the index date (first episode's `TRIAGED`); the start attributes (drugs,
    referral, age, sex) are the first episode's. `end` is the latest `DISD` of all the
    journey's episodes, NaT when any episode is open (`open`). The `ending_*` columns
    describe the episode that ended the journey (missing for an open journey).
    """
    if episodes.empty:
        return pd.DataFrame(columns=JOURNEY_COLUMNS)
    ep = _chain(episodes, settings.journey_gap_days)
    firsts = ep.drop_duplicates("journey_id", keep="first").set_index("journey_id")
    ends = _ending_episodes(ep)
    latest = ep.groupby("journey_id")["_disd_day"].max()
    is_open = latest.to_numpy() >= OPEN_DAY

    journeys = pd.DataFrame({
        "person_key": firsts["person_key"],
        "journey_seq": firsts["journey_seq"],
        "start": firsts["triaged"],
        "first_agncy": firsts["agncy"],
        "first_episodid": firsts["episodid"],
        **{c: firsts[c] for c in START_ATTRIBUTES if c != "age_at_triage"},
        "age_at_start": firsts["age_at_triage"],
    })
    # age is read only on a client's first start of a cohort year (index date candidates);
    # elsewhere it is left empty, whatever the episodes carried
    index_start = _first_of_cohort_year(journeys["person_key"], journeys["start"])
    journeys["age_at_start"] = journeys["age_at_start"].where(index_start)
    if journeys["age_at_start"][index_start].isna().any():
        # the linkage stage gives an age only where this function reads one, under the same
        # gap: a missing one means the two stages chained with different settings
        raise ValueError("a client's first journey of a cohort year has no age: "
                         "treatment_episodes was handed over with another journey gap")
    journeys["end"] = from_days(latest.to_numpy(), valid=~is_open).to_numpy()
    journeys["open"] = is_open
    ending = ends.loc[journeys.index]
    for column in ["agncy", "episodid", "disrsn", "exit_group"]:
        journeys[f"ending_{column}"] = ending[column].where(~is_open)
    journeys["episodes"] = ep.groupby("journey_id").size()
    return journeys.reset_index(drop=True)[JOURNEY_COLUMNS]
