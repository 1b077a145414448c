"""What the comparison needs of every PNC person, computed once per delivery (METHOD.md §10).

Exports `pool_tables`, `pool_index`, `pool_persons`, `pool_convictions`, `pool_custody`,
`PERSON_COLUMNS`, `CONVICTION_COLUMNS`, `CUSTODY_COLUMNS`.

Persons get a dense integer id (`pid`, the row of `comparison_persons`), so that everything
after this is integer arithmetic on arrays. No identifier goes further (METHOD.md §6): the
PNCID is used here to join and then dropped; the date of birth becomes the birth month
(`birth_month`, year × 12 + month − 1), all that the analysis needs of it (age at t in
completed years, see `history.age_at`), and no more. `pid` is the rank of the PNCID in
the delivery: a surrogate fixed by the delivery alone, whatever order the warehouse
returns rows in or whichever pseudonym secret is set, so that every seeded draw
downstream (the placebo's, the bootstrap's) sees the persons in one order and a run is
reproducible.
"""

import numpy as np
import pandas as pd

from dagster_project.cohort.days import to_days
from dagster_project.cohort.windows import conviction_outcomes, custody_spells
from dagster_project.linkage.identities import ATTRIBUTOR
from dagster_project.settings import Settings
from dagster_project.vocabulary.link_status import AMBIGUOUS, MATCHED

PERSON_COLUMNS = ["pid", "birth_month", "sex", "linked_person_key", "ambiguous_candidate"]
CONVICTION_COLUMNS = ["pid", "offence_day", "outcome_day", "counted", "offence_group", "force"]
CUSTODY_COLUMNS = ["pid", "start", "end"]
_SEX = {"M": 1, "F": 2, "1": 1, "2": 2}  # PNC M/F, NDTMS 1/2: one code


def birth_months(dob: pd.Series) -> np.ndarray:
    """year × 12 + month − 1 of each date of birth; missing: a value below every real one
    (as a missing date's day number was: the person counts as old)."""
    dates = pd.to_datetime(dob).to_numpy().astype("datetime64[M]")
    months = dates.astype(np.int64) + 1970 * 12
    return np.where(np.isnat(dates), np.iinfo(np.int32).min, months).astype(np.int32)


def _ambiguous_candidates(links, candidates, clients, variants, settings) -> set:
    """PNCIDs that an `ambiguous` client might be: never eligible as controls. NTA rule: a
    PNC identity sharing a linkable ambiguous client's key; probabilistic: a scored pair at
    or above the absent floor."""
    ambiguous = links.loc[links["link_status"] == AMBIGUOUS, "person_key"]
    if settings.linkage_method == "probabilistic":
        pairs = candidates[
            candidates["person_key"].isin(ambiguous)
            & (candidates["match_probability"] >= settings.absent_floor)
        ]
        return set(pairs["pncid"].astype(str))
    from dagster_project.linkage.handover import client_keys

    keys = client_keys(clients, settings.resolved_pseudonym_key())
    usable = clients["linkable"].to_numpy(dtype=bool) & keys.isin(ambiguous).to_numpy()
    shared = clients.loc[usable, ATTRIBUTOR].merge(variants[["pncid", *ATTRIBUTOR]].dropna(),
                                                   on=ATTRIBUTOR)
    return set(shared["pncid"].astype(str))


def pool_tables(nominals: pd.DataFrame, offences: pd.DataFrame, links: pd.DataFrame,
                candidates: pd.DataFrame, clients: pd.DataFrame, variants: pd.DataFrame,
                settings: Settings) -> dict[str, pd.DataFrame]:
    """`comparison_persons`, `comparison_convictions` (every conviction: `counted` when §2
    counts it, else a conviction that does not count), `comparison_custody` (merged §4
    spells [start, end)), all at once: the parts below, which a large delivery runs on
    slices of persons."""
    persons = pool_persons(nominals, links, candidates, clients, variants, settings)
    return {
        "comparison_persons": persons[PERSON_COLUMNS],
        "comparison_convictions": pool_convictions(offences, persons, settings),
        "comparison_custody": pool_custody(offences, persons),
    }


def _distinct_persons(nominals: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    persons = nominals[columns].assign(pncid=lambda d: d["pncid"].astype(str))
    return persons.drop_duplicates("pncid").sort_values("pncid", ignore_index=True)


def pool_index(nominals: pd.DataFrame) -> pd.DataFrame:
    """`pid` and the `pncid` it stands for, from the nominals alone: the convictions and
    custody need no linkage, so they are made while the linkage runs, and their `pid` is
    the one `pool_persons` gives."""
    pncids = _distinct_persons(nominals, ["pncid"])["pncid"]
    return pd.DataFrame({"pid": np.arange(len(pncids), dtype=np.int64),
                         "pncid": pncids.to_numpy()})


def pool_persons(nominals: pd.DataFrame, links: pd.DataFrame, candidates: pd.DataFrame,
                 clients: pd.DataFrame, variants: pd.DataFrame, settings: Settings
                 ) -> pd.DataFrame:
    """`PERSON_COLUMNS` in `pid` order, and the `pncid` each `pid` stands for (for the joins
    that follow; it is never stored)."""
    persons = _distinct_persons(nominals, ["pncid", "dob", "sex"])
    matched = links[links["link_status"] == MATCHED]
    linked = pd.Series(matched["person_key"].to_numpy(), index=matched["pncid"].astype(str))
    ambiguous = _ambiguous_candidates(links, candidates, clients, variants, settings)
    return pd.DataFrame({
        "pid": np.arange(len(persons), dtype=np.int64),
        "birth_month": birth_months(persons["dob"]),
        "sex": persons["sex"].astype(str).str.upper().map(_SEX).fillna(0).astype(np.int8),
        "linked_person_key": linked.reindex(persons["pncid"]).to_numpy(dtype=object),
        "ambiguous_candidate": persons["pncid"].isin(ambiguous).to_numpy(),
        "pncid": persons["pncid"].to_numpy(),
    })


def _pids(pncids: pd.Series, persons: pd.DataFrame) -> np.ndarray:
    """The `pid` of each PNCID among `persons` (−1: not one of them)."""
    found = pd.Index(persons["pncid"]).get_indexer(pncids.astype(str))
    return np.where(found >= 0, persons["pid"].to_numpy()[found], -1)


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Integers that sort as `values` do (missing last)."""
    codes, uniques = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(uniques), codes)


def _packed(columns: list[np.ndarray]) -> list[np.ndarray]:
    """Non-negative integer columns packed into as few int64 keys as hold them (the first
    column most significant), which sort and compare as the columns do: sorting millions
    of rows on seven columns took seconds a slice, on two a fraction of that."""
    keys: list[np.ndarray] = []
    room = 2**62  # the first column starts a key
    for column in columns:
        radix = int(column.max()) + 1 if len(column) else 1
        if room * radix < 2**62:
            keys[-1], room = keys[-1] * radix + column, room * radix
        else:
            keys.append(column.astype(np.int64))
            room = radix
    return keys


def pool_convictions(offences: pd.DataFrame, persons: pd.DataFrame, settings: Settings
                     ) -> pd.DataFrame:
    """`CONVICTION_COLUMNS` of the offences of `persons` (all of them, or a slice), sorted by
    `pid` and offence day. The offences may bring their `pid` already (a join in the
    warehouse); else it is looked up from their PNCID."""
    convicted = offences.loc[offences["outcome"].isin(conviction_outcomes(settings)).to_numpy()
                             & offences["outcome_date"].notna().to_numpy()
                             & offences["offence_start"].notna().to_numpy()]
    pid = (convicted["pid"].to_numpy(np.int64) if "pid" in convicted
           else _pids(convicted["pncid"], persons))
    convicted, pid = convicted[pid >= 0], pid[pid >= 0]
    offence_day = to_days(convicted["offence_start"])
    outcome_day = to_days(convicted["outcome_date"])
    # day numbers from the earliest: the packed keys take non-negative columns
    first = min(offence_day.min(), outcome_day.min()) if len(pid) else 0
    same = [pid, offence_day - first, _sort_codes(convicted["cjs_code"]), outcome_day - first]
    # by person and offence day, then every other column: duplicate transmissions (the same
    # person, offence code, offence and outcome dates) are one conviction (METHOD.md §2),
    # the first of them in this order, whichever order the warehouse returned them in
    same = _packed(same)
    rest = _packed([_sort_codes(convicted[c]) for c in ("trigger", "offence_group", "force")])
    order = np.lexsort([*same, *rest][::-1])  # the last key is the first sorted on
    repeat = np.ones(len(order), bool)  # the same conviction as the row before
    repeat[:1] = False
    for key in same:
        key = key[order]
        repeat[1:] &= key[1:] == key[:-1]
    rows = order[~repeat]
    kept = convicted[["trigger", "offence_group", "force"]].iloc[rows]
    return pd.DataFrame({
        "pid": pid[rows],
        "offence_day": offence_day[rows],
        "outcome_day": outcome_day[rows],
        "counted": kept["trigger"].fillna(False).astype(bool).to_numpy(),
        # text stays text (`.array`, not `.to_numpy()`: millions of Python strings)
        "offence_group": kept["offence_group"].fillna("unknown").astype(str).array,
        "force": kept["force"].fillna("unknown").astype(str).replace("", "unknown").array,
    })


def pool_custody(offences: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """`CUSTODY_COLUMNS`: the merged custody spells of `persons`, sorted by `pid`, start.
    The offences may bring their `pid` already, as in `pool_convictions`."""
    cus = offences.loc[offences["disposal"].eq("CUS").fillna(False).to_numpy()]
    pid = cus["pid"].to_numpy(np.int64) if "pid" in cus else _pids(cus["pncid"], persons)
    # spells of the persons' integer ids: merging them by PNCID text is slower
    spells = custody_spells(cus[["disposal", "outcome_date", "custody_days"]]
                            .assign(person_key=pid), persons["pid"])
    custody = pd.DataFrame({
        "pid": spells["person_key"].to_numpy(np.int64),
        "start": spells["start"].to_numpy(np.int64),
        "end": spells["end"].to_numpy(np.int64),
    })
    return custody.sort_values(["pid", "start"], ignore_index=True)
