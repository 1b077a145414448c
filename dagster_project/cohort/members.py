"""Cohort selection for one cohort year: starters → adults → study population → cohort, and
what every cohort member carries (METHOD.md §1, §3, §4, §8).

Exports `select_cohort`, `CohortResult`, `FUNNEL_STAGES` and `MEMBER_COLUMNS`.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.cohort.attributes import age_band, drug_group, retention_band, retention_days
from dagster_project.cohort.days import from_days, to_days
from dagster_project.cohort.windows import counted_convictions, custody_days
from dagster_project.cohort.years import cohort_year_bounds
from dagster_project.settings import Settings
from dagster_project.vocabulary.link_status import (
    ABSENT,
    AMBIGUOUS,
    FUNNEL_STAGES,
    MATCHED,
    STUDY_STATUSES,
)
from dagster_project.vocabulary.partition import PARTITION_COLUMN

MEMBER_COLUMNS = [
    PARTITION_COLUMN, "person_key", "link_status", "age_band", "sex", "drug_group",
    "referral_route", "retention_days", "retention_band", "exit_group", "reentered",
    "before", "after", "after_post_exit", "custody_days_before", "custody_days_after",
    # extras
    "index_date", "exit_date", "age", "journey_seq", "first_agncy", "first_episodid",
    "days_at_risk_after",
]
DEATH_EXIT = "died"


@dataclass(frozen=True)
class CohortResult:
    """Everything `select_cohort` decides about one cohort year."""

    starters: pd.DataFrame  # one row per client starting in Y: the first journey, + link status
    funnel: pd.DataFrame  # cohort_year, stage, persons
    members: pd.DataFrame  # MEMBER_COLUMNS
    convictions_by_group: pd.DataFrame  # cohort_year, person_key, offence_group, before, after


def journeys_starting_in(journeys: pd.DataFrame, cohort_year: str) -> pd.DataFrame:
    """The journeys that start in cohort year Y: their clients are all whose links and
    offences the year reads (a step may read no one else's)."""
    first_day, last_day = (pd.Timestamp(d) for d in cohort_year_bounds(cohort_year))
    return journeys[journeys["start"].between(first_day, last_day)]


def _starters(journeys: pd.DataFrame, links: pd.DataFrame, cohort_year: str, settings: Settings):
    """The first journey starting in Y of every client, with adulthood and link status."""
    in_year = journeys_starting_in(journeys, cohort_year)
    starters = in_year.sort_values(["person_key", "journey_seq"]).drop_duplicates("person_key")
    # an age that cannot be read is not evidence of adulthood
    starters = starters.assign(adult=starters["age_at_start"].ge(settings.adult_age).fillna(False))
    starters = starters.merge(links[["person_key", "link_status"]], on="person_key", how="left")
    unlinked = starters["adult"] & starters["link_status"].isna()
    if unlinked.any():
        raise ValueError(f"{int(unlinked.sum())} adult starters have no link status")
    return starters.reset_index(drop=True)


def _funnel(starters: pd.DataFrame, cohort_size: int, cohort_year: str) -> pd.DataFrame:
    adults = starters[starters["adult"]]
    status = adults["link_status"].value_counts()
    persons = [
        len(starters), len(adults), status.get(MATCHED, 0), status.get(ABSENT, 0),
        status.get(AMBIGUOUS, 0), status.get(MATCHED, 0) + status.get(ABSENT, 0),
        cohort_size,
    ]
    return pd.DataFrame({PARTITION_COLUMN: cohort_year, "stage": list(FUNNEL_STAGES),
                         "persons": np.asarray(persons, dtype=np.int64)})


def _reentered(members: pd.DataFrame, journeys: pd.DataFrame, exit_day: np.ndarray,
               last_after_day: np.ndarray) -> np.ndarray:
    """A later journey starts after the exit date and no later than the after window's last
    day. Later journeys start after the exit by construction, so the next one decides."""
    following = journeys[["person_key", "journey_seq", "start"]].assign(
        journey_seq=journeys["journey_seq"] - 1
    )
    later = members[["person_key", "journey_seq"]].merge(
        following, on=["person_key", "journey_seq"], how="left"
    )
    start = to_days(later["start"])
    return later["start"].notna().to_numpy() & (start > exit_day) & (start <= last_after_day)


def _course(members: pd.DataFrame, journeys: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Retention, exit and re-entry of each member's index journey."""
    days = settings.window_days
    index = members["index_day"].to_numpy()
    retained = retention_days(index, to_days(members["end"]), members["open"].to_numpy(), days)
    left = retained < days
    exit_day = np.where(left, index + retained, 0)
    exit_group = members["ending_exit_group"].fillna("other").where(left, "retained")
    return members.assign(
        retention_days=retained.astype(np.int64),
        retention_band=retention_band(pd.Series(retained, index=members.index), days),
        exit_group=exit_group.astype("str"),
        exit_day=exit_day,
        exit_date=from_days(exit_day, valid=left).to_numpy(),
        reentered=left & _reentered(members, journeys, exit_day, index + days - 1),
    )


def _at_risk_span(members: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """`person_key`, `index_day` and `at_risk_end_day` (exclusive): the after window's end,
    or the day after a death discharge inside it (METHOD.md §5: at risk until that date,
    which is read as inclusive, the person being alive on it)."""
    died = (members["exit_group"] == DEATH_EXIT).to_numpy() & members["exit_date"].notna()
    end = np.where(died, members["exit_day"] + 1, members["index_day"] + settings.window_days)
    return members[["person_key", "index_day"]].assign(at_risk_end_day=end)


def _counts(convictions: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """before, after and after_post_exit per member (0 without convictions)."""
    # (a group-by, not `pd.crosstab`: on text keys that one aggregates in Python, 10× slower)
    per_window = convictions.groupby(["person_key", "window"]).size().unstack("window")
    exit_of = members.set_index("person_key")["exit_day"].where(
        members.set_index("person_key")["exit_date"].notna()
    )
    after = convictions[convictions["window"] == "after"]
    post_exit = after[after["offence_day"] > after["person_key"].map(exit_of).to_numpy()]
    counts = pd.DataFrame(index=members["person_key"])
    for window in ("before", "after"):
        column = per_window[window] if window in per_window else pd.Series(dtype=np.int64)
        counts[window] = column.reindex(counts.index).fillna(0).astype(np.int64)
    counts["after_post_exit"] = (
        post_exit.groupby("person_key").size().reindex(counts.index).fillna(0).astype(np.int64)
    )
    return counts.reset_index()


def _by_group(convictions: pd.DataFrame, cohort_year: str) -> pd.DataFrame:
    table = (
        convictions.groupby(["person_key", "offence_group", "window"]).size()
        .unstack("window", fill_value=0)
        .reindex(columns=["before", "after"], fill_value=0)
        .reset_index()
    )
    table.columns.name = None
    return table.assign(**{PARTITION_COLUMN: cohort_year})[
        [PARTITION_COLUMN, "person_key", "offence_group", "before", "after"]
    ].astype({"before": np.int64, "after": np.int64})


def select_cohort(
    journeys: pd.DataFrame,
    client_link_status: pd.DataFrame,
    linked_offences: pd.DataFrame,
    settings: Settings,
    cohort_year: str,
) -> CohortResult:
    """Starters of cohort year Y, the funnel, the cohort members with their §4 attributes and
    their convictions by offence group. Absent persons have no convictions and no custody."""
    starters = _starters(journeys, client_link_status, cohort_year, settings)
    study = starters[starters["adult"] & starters["link_status"].isin(STUDY_STATUSES)]
    study = study.assign(index_day=to_days(study["start"]))
    matched = study.loc[study["link_status"] == MATCHED, ["person_key", "index_day"]]
    convictions = counted_convictions(linked_offences, matched, settings)

    before_persons = convictions.loc[convictions["window"] == "before", "person_key"].unique()
    members = study[study["person_key"].isin(before_persons)].reset_index(drop=True)
    convictions = convictions[convictions["person_key"].isin(members["person_key"])]
    members = _course(members, journeys, settings)
    members = members.merge(_counts(convictions, members), on="person_key", how="left")
    span = _at_risk_span(members, settings)
    members = members.merge(span[["person_key", "at_risk_end_day"]], on="person_key").merge(
        custody_days(linked_offences, span, settings), on="person_key", how="left",
    )
    members = members.assign(days_at_risk_after=members["at_risk_end_day"]
                             - members["index_day"] - members["custody_days_at_risk_after"])
    members = members.assign(
        **{PARTITION_COLUMN: cohort_year},
        age=members["age_at_start"],
        age_band=age_band(members["age_at_start"]),
        drug_group=drug_group(members),
        referral_route=members["referral_route"].fillna("other"),
        index_date=members["start"],
    )[MEMBER_COLUMNS]
    return CohortResult(
        starters=starters,
        funnel=_funnel(starters, len(members), cohort_year),
        members=members,
        convictions_by_group=_by_group(convictions, cohort_year),
    )
