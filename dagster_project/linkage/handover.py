"""What the linkage stage hands to the stages after it: the same facts keyed by `person_key`,
with every identifier (names, initials, date of birth, CLIENTID, PNCID) left behind
(METHOD.md §6).

Exports `age_in_completed_years`, `treatment_episodes`, `client_links_table`,
`client_link_status`, `linked_offences`, `offences_of`, `in_handover_order`, `client_keys`,
`CLIENT_LINKS_COLUMNS`.
"""

from collections.abc import Iterator

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dagster_project.cohort.journeys import index_start_candidates
from dagster_project.delivery.schemas import STAGED_TABLES
from dagster_project.linkage.pseudonym import person_key
from dagster_project.vocabulary.link_status import MATCHED
from dagster_project.warehouse.engine import Warehouse
from dagster_project.warehouse.sql import table_clause

STAGED_OFFENCES = STAGED_TABLES["pnc_offences.csv"]
_PERSONS = "persons_wanted"  # the persons whose offences a join selects, seen by it only
# matched persons per slice of their offences: nationally ~50 offences each, ~0.5 GB a slice
PERSONS_PER_SLICE = 25_000
CLIENT_LINKS_COLUMNS = ["person_key", "link_status", "pncid", "match_probability", "method"]

# staged episode columns that may leave the linkage stage; DOB becomes an age where an index
# date may fall, the initials and CLIENTID go no further
EPISODE_COLUMNS = [
    "agncy", "episodid", "sex", "pc", "dat", "ethnic", "refld", "rfls", "referral_route",
    "triaged", "drug1", "drug2", "drug3", "drug1_class", "drug2_class", "drug3_class",
    "injstat", "modal", "modst", "modend", "disd", "disrsn", "exit_group", "extract_date",
]
OFFENCE_COLUMNS = [
    "cjs_code", "offence_group", "trigger", "offence_start", "offence_end", "force",
    "outcome", "outcome_date", "disposal", "custody_days",
]


def age_in_completed_years(dob: pd.Series, on: pd.Series) -> pd.Series:
    """Completed years of age on a date. Comparing (month, day) pairs gives METHOD.md §1's
    29 February rule for free: in other years (2, 28) is before the birthday and (3, 1)
    after it."""
    born, day = pd.to_datetime(dob), pd.to_datetime(on)
    had_birthday = (day.dt.month * 100 + day.dt.day) >= (born.dt.month * 100 + born.dt.day)
    years = day.dt.year - born.dt.year - np.where(had_birthday, 0, 1)
    return years.astype("Int64").where(born.notna() & day.notna())


def treatment_episodes(staged_episodes: pd.DataFrame, key: str, gap_days: int) -> pd.DataFrame:
    """Staged episodes keyed by `person_key`, with `age_at_triage` instead of a birth date on
    the episodes that start a client's first journey of a cohort year (journeys chained
    `gap_days` apart, METHOD.md §1) and empty on the rest: the analysis reads age only on an
    index date (adult, age band, §10's age in years); an age at every triage beside exact
    dates would bracket the birthday between two episodes, to one day for some persons."""
    keys = person_key(
        staged_episodes["finitial"], staged_episodes["sinitial"], staged_episodes["dob"],
        staged_episodes["sex"], key,
    )
    out = staged_episodes[EPISODE_COLUMNS].assign(person_key=keys).reset_index(drop=True)
    starts = index_start_candidates(out, gap_days)
    ages = age_in_completed_years(staged_episodes["dob"], staged_episodes["triaged"])
    out["age_at_triage"] = ages.reset_index(drop=True).where(starts)
    return out[["person_key", "age_at_triage", *EPISODE_COLUMNS]].reset_index(drop=True)


def client_keys(clients: pd.DataFrame, key: str) -> pd.Series:
    """The `person_key` of each row's attributor (clients, or a rule's per-client links)."""
    return person_key(clients["finitial"], clients["sinitial"], clients["dob"], clients["sex"],
                      key)


def client_links_table(links: pd.DataFrame, key: str) -> pd.DataFrame:
    """METHOD.md §8 `client_links` from a rule's per-client links (attributor + status)."""
    return links.assign(person_key=client_keys(links, key))[CLIENT_LINKS_COLUMNS].reset_index(
        drop=True)


def client_link_status(client_links: pd.DataFrame) -> pd.DataFrame:
    """`client_links` without the PNCID: what the cohort stage may know of each link."""
    return client_links[["person_key", "link_status", "match_probability", "method"]].copy()


def linked_offences(client_links: pd.DataFrame, wh: Warehouse) -> Iterator[pd.DataFrame]:
    """The offences of matched persons, keyed by the client's `person_key` (no PNCID, no ASN),
    joined in the warehouse and returned in slices (`offences_of`).
    A matched PNC person is linked to one client only, so the join cannot duplicate rows."""
    matched = client_links.loc[client_links["link_status"].eq(MATCHED), ["pncid", "person_key"]]
    if matched["pncid"].duplicated().any():
        raise ValueError("a PNC person is matched to two clients: links are not one-to-one")
    return offences_of(wh, matched, "person_key")


def offences_of(wh: Warehouse, persons: pd.DataFrame, key: str,
                persons_per_slice: int = PERSONS_PER_SLICE) -> Iterator[pd.DataFrame]:
    """`key` and `OFFENCE_COLUMNS` of the staged offences of `persons` (`pncid`, `key`): only
    their rows leave the warehouse, a slice of persons at a time (nationally the matched
    persons' offences are millions of rows), at least one slice. Sorted by key, then every
    column: by pandas, not the engine, whose text collation may differ (PostgreSQL's follows
    the locale); the slices take the persons in key order, so they follow one another."""
    offences = table_clause(STAGED_OFFENCES, "pncid", *OFFENCE_COLUMNS)
    wanted = table_clause(_PERSONS, "pncid", key)
    statement = (
        sa.select(wanted.c[key], *(offences.c[c] for c in OFFENCE_COLUMNS))
        .select_from(offences.join(wanted, offences.c.pncid == wanted.c.pncid))
    )
    persons = persons[["pncid", key]].astype("str").sort_values(key, kind="stable")
    for start in range(0, max(len(persons), 1), persons_per_slice):
        part = persons.iloc[start : start + persons_per_slice]
        yield in_handover_order(wh.query(statement, frames={_PERSONS: part}))


def in_handover_order(offences: pd.DataFrame) -> pd.DataFrame:
    """Offences (a key, then `OFFENCE_COLUMNS`) in the order they are handed over and stored:
    by every column, first to last. Whoever reads some of them back through a join, whose
    order no engine promises, restores it here: the first of duplicate transmissions is the
    same row whichever step reads it."""
    columns = [offences.columns[0], *OFFENCE_COLUMNS]
    return offences[columns].sort_values(columns, kind="stable", ignore_index=True)
