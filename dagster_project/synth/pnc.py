"""The Police National Computer: records (nominals), aliases and offence rows.

Everyone with a detected case has a record; a few persons have two unconsolidated
records (the second opened when an arrest was not identified with the first), and a
record's date of birth is sometimes filed wrongly. Offence rows are the charges of each
case, with the court's outcome.

Exports `PncRecords`, `build_records`, `pncid_text`, `check_letter`, `forename_text`,
`surname_text`, `nominals_table`, `aliases_table`.
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import columns as col
from .config import SynthConfig
from .geography import Geography
from .people import ETHNIC_PNC, People, draw_names, name_pools, slip_dob

_CHECK_LETTERS = np.array(list("ZABCDEFGHJKLMNPQRTUVWXY"))


@dataclass
class PncRecords:
    """One row per PNC record (nominal), in PNCID order."""

    person: np.ndarray
    second: np.ndarray  # bool: the unconsolidated duplicate of a person's first record
    dob: np.ndarray  # as filed
    names: dict  # forename, forename2, surname indices (see people.draw_names)
    pncid: pa.Array
    year: np.ndarray
    serial: np.ndarray


def check_letter(year: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """The PNCID check character: (two-digit year * 10^7 + serial) mod 23."""
    return _CHECK_LETTERS[((np.asarray(year) % 100) * 10**7 + np.asarray(serial)) % 23]


def pncid_text(year: np.ndarray, serial: np.ndarray) -> pa.Array:
    """PNCIDs `YYYY/NNNNNNNL`."""
    return col.concat_text(
        col.padded(year, 4), "/", col.padded(serial, 7), pa.array(check_letter(year, serial))
    )


def _serials(rng, year: np.ndarray) -> np.ndarray:
    """Distinct serial numbers within each year, in a random order."""
    order = np.lexsort((rng.random(len(year)), year))
    sorted_year = year[order]
    first = np.searchsorted(sorted_year, sorted_year, side="left")
    serial = np.empty(len(year), np.int64)
    serial[order] = np.arange(len(year)) - first + 1 + rng.integers(0, 50_000)
    return serial


def build_records(rng, cases, people: People, config: SynthConfig):
    """PNC records of the persons with cases; returns the records and each case's record."""
    case_person = cases["person"].to_numpy()
    person, first_case, n_cases = np.unique(case_person, return_index=True, return_counts=True)
    rank = np.arange(len(case_person)) - np.repeat(first_case, n_cases)
    dup = (n_cases >= 2) & (rng.random(len(person)) < config.pnc_duplicate_share)
    split = np.where(dup, 1 + (rng.random(len(person)) * (n_cases - 1)).astype(np.int64), n_cases)
    rec_person = np.concatenate([person, person[dup]])
    second = np.r_[np.zeros(len(person), bool), np.ones(dup.sum(), bool)]
    # case -> record: the second record takes the cases from the split on
    second_index = np.full(len(person), -1)
    second_index[dup] = len(person) + np.arange(dup.sum())
    person_pos = np.repeat(np.arange(len(person)), n_cases)
    case_record = np.where(rank >= split[person_pos], second_index[person_pos], person_pos)
    first_day = np.full(len(rec_person), np.iinfo(np.int64).max)
    np.minimum.at(first_day, case_record, cases["day"].to_numpy())
    # records whose history starts with the simulation were opened earlier
    year = col.date_parts(first_day)[0]
    history_year = int(config.history_start[:4])
    birth_year = col.date_parts(people.dob[rec_person])[0]
    earliest = np.minimum(np.maximum(config.first_record_year_min, birth_year + 10), history_year)
    year = np.where(
        year == history_year,
        earliest + (rng.random(len(year)) * (history_year - earliest + 1)).astype(np.int64),
        year,
    )
    dob = people.dob[rec_person].copy()
    slips = rng.random(len(dob)) < config.pnc_dob_error_share
    slips |= second & (rng.random(len(dob)) >= config.duplicate_same_attributor_share)
    dob[slips] = slip_dob(rng, dob[slips], rng.integers(0, 3, slips.sum()))
    names = {k: v[rec_person] for k, v in people.names.items()}
    serial = _serials(rng, year)
    order = np.lexsort((serial, year))
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    records = PncRecords(
        rec_person[order],
        second[order],
        dob[order],
        {k: v[order] for k, v in names.items()},
        pncid_text(year[order], serial[order]),
        year[order],
        serial[order],
    )
    return records, inverse[case_record]


def forename_text(names: dict, male: np.ndarray) -> pa.Array:
    """FORENAMES as filed: the forename, then the second forename if any."""
    pools = name_pools()
    text = np.concatenate([pools["male"].names, pools["female"].names])
    shift = np.where(male, 0, len(pools["male"].names))
    second = names["forename2"]
    return col.concat_text(
        col.code_column(names["forename"] + shift, text),
        col.code_column(np.where(second >= 0, second + shift, -1), text),
        sep=" ",
    )


def surname_text(names: dict) -> pa.Array:
    """SURNAME as filed."""
    return col.code_column(names["surname"], name_pools()["surname"].names)


def nominals_table(
    rng,
    records: PncRecords,
    cases,
    case_record,
    people: People,
    config: SynthConfig,
    geography: Geography,
) -> pa.Table:
    """pnc_nominals.csv: postcode of the last known address, owning force where the
    record was opened."""
    p = records.person
    male = people.male[p]
    last_day = np.zeros(len(p), np.int64)
    np.maximum.at(last_day, case_record, cases["day"].to_numpy())
    first_day = np.full(len(p), np.iinfo(np.int64).max)
    np.minimum.at(first_day, case_record, cases["day"].to_numpy())
    sex = np.where(male, 0, 1)
    sex[rng.random(len(p)) < config.pnc_sex_unknown_share] = 2
    return pa.table(
        {
            "PNCID": records.pncid,
            "SURNAME": surname_text(records.names),
            "FORENAMES": forename_text(records.names, male),
            "DOB": col.date_column(records.dob, "iso"),
            "SEX": col.code_column(sex, ["M", "F", "U"]),
            "POSTCODE": col.code_column(
                col.unrecorded(rng, people.area_at(p, last_day), config.postcode_missing_share),
                geography.outward_codes,
            ),
            "FORCE": col.code_column(
                geography.district_force[people.area_at(p, first_day)], geography.force_codes
            ),
            "ETHNICITY": col.code_column(
                col.unrecorded(rng, people.pnc_ethnic[p].astype(np.int64),
                           config.ethnicity_missing_share),
                ETHNIC_PNC,
            ),
        }
    )


def aliases_table(rng, records: PncRecords, people: People, config: SynthConfig) -> pa.Table:
    """pnc_aliases.csv: other forenames, surnames (marriage, invention), spellings and
    dates of birth a person gave. DOB is empty unless the alias is a different date."""
    has = np.flatnonzero(rng.random(len(records.person)) < config.alias_share)
    n_alias = 1 + rng.poisson(config.extra_aliases_mean, len(has))
    rec = np.repeat(has, n_alias)
    male = people.male[records.person[rec]]
    names = {k: v[rec].copy() for k, v in records.names.items()}
    kinds = list(config.alias_kind_shares)
    kind = col.draw(rng, config.alias_kind_shares, len(rec))
    fresh = draw_names(rng, male, config.initial_skew, config.second_forename_share)
    is_forename = kind == kinds.index("forename")
    names["forename"][is_forename] = fresh["forename"][is_forename]
    names["forename2"][is_forename] = fresh["forename2"][is_forename]
    is_surname = kind == kinds.index("surname")
    names["surname"][is_surname] = fresh["surname"][is_surname]
    # a spelling variant keeps the initial: another name of the same letter's pool
    spelling = kind == kinds.index("spelling")
    pools = name_pools()
    for sex, is_sex in (("male", male), ("female", ~male)):
        rows = np.flatnonzero(spelling & is_sex)
        pool = pools[sex]
        letter = pool.letter[names["forename"][rows]]
        names["forename"][rows] = pool.start[letter] + rng.integers(0, pool.size[letter])
    dob = np.full(len(rec), col.NO_DAY)
    is_dob = kind == kinds.index("dob")
    dob[is_dob] = slip_dob(rng, records.dob[rec[is_dob]], rng.integers(0, 3, is_dob.sum()))
    return pa.table(
        {
            "PNCID": records.pncid.take(pa.array(rec)),
            "SURNAME": surname_text(names),
            "FORENAMES": forename_text(names, male),
            "DOB": col.date_column(dob, "iso"),
        }
    )
