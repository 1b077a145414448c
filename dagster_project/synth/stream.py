"""The PNC beyond the world: never-treated offenders drawn and written in chunks.

The world (world.py) holds everyone the comparison needs: the clients, the offenders of
the PNC pool they are matched against and, in a counterfactual world, the drug users.
The real PNC is three times the national world's (11.6 million nominals in 2014), so
the `full` scale adds `pnc_extra_nominals` more never-treated offenders after it. They
are drawn in chunks of `pnc_extra_chunk` persons, each chunk from its own seed (the
seed's spawn key (streams, chunk)), and written after the world's rows of each PNC file:
the delivery does not depend on how many chunks are held at once, and memory stays
that of one block of chunks. PNCIDs and ASNs go on from the numbers the world issued,
so keys stay unique across the file. Chunks plant no defective rows (the world's rows
carry them: line numbers of planted rows are unchanged).

Exports `ExtraState`, `extra_state`, `draw_chunk`, `extra_blocks`.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .config import SynthConfig
from .geography import Geography
from .offences import offences_table
from .offending import draw_cases, offending_segments
from .people import draw_people
from .pnc import PncRecords, aliases_table, build_records, nominals_table, pncid_text
from .truth_tables import persons_truth, records_truth

FILES = ("pnc_nominals.csv", "pnc_aliases.csv", "pnc_offences.csv")
_FRESH_SERIALS = 9_900_000  # planted PNCIDs of nobody start here (errors.py)


@dataclass
class ExtraState:
    """Where the next chunk starts: its index, its first person id, the nominals still
    wanted and the numbers already issued (PNC serial per year, ASN serial per two-digit
    year). Carried from chunk to chunk, so it depends on chunks, not on blocks."""

    chunk: int
    person_id: int
    wanted: int
    pnc_serials: np.ndarray  # next free serial, by year
    asn_issued: np.ndarray  # serials issued, by two-digit year
    pnc_persons: int = 0
    pnc_records: int = 0
    duplicate_records: int = 0
    duplicate_transmissions: int = 0


def extra_state(config: SynthConfig, n_people: int, records: PncRecords, asn_issued) -> ExtraState:
    """The state after the world: ids and numbers the world has used."""
    serials = np.ones(3000, np.int64)
    np.maximum.at(serials, records.year, records.serial + 1)
    return ExtraState(0, n_people, config.pnc_extra_nominals, serials, asn_issued.copy())


def _no_journeys() -> pd.DataFrame:
    empty = np.zeros(0, np.int64)
    return pd.DataFrame({"person": empty, "start": empty, "end": empty, "final_exit": empty})


def draw_chunk(config: SynthConfig, geography: Geography, seed: int, streams: int,
               state: ExtraState) -> dict:
    """One chunk's rows of the three PNC files and of the two truth tables; advances
    `state`. Persons are kept in id order until the wanted nominals are reached."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(streams, state.chunk)))
    n = config.pnc_extra_chunk
    people = draw_people(rng, 0, n, config, geography)
    shape = config.other_rate_shape
    rate = rng.gamma(shape, config.other_rate_mean / shape, n)
    min_age_day = people.dob + round(config.offending_min_age * 365.25)
    first_day = np.maximum(config.day("history_start"), min_age_day)
    segments = offending_segments(
        _no_journeys(), np.arange(n), first_day, np.zeros(0, np.int64), config
    )
    cases = draw_cases(rng, segments, rate, people.dob, config)
    offenders = np.unique(cases["person"].to_numpy())
    if len(offenders) > state.wanted:
        limit = offenders[state.wanted - 1] if state.wanted > 0 else -1
        cases = cases[cases["person"].to_numpy() <= limit].reset_index(drop=True)
    state.wanted -= min(len(offenders), state.wanted)
    records, case_record = build_records(rng, cases, people, config)
    # serials go on from those issued: a chunk's serials in a year are dense from its
    # lowest, so shifting them keeps their order
    year = records.year
    lowest = records.serial.min() if len(year) else 0
    serial = state.pnc_serials[year] + records.serial - lowest
    np.add.at(state.pnc_serials, year, 1)
    if serial.max(initial=0) >= _FRESH_SERIALS:
        raise ValueError("more PNC records in a year than serials below the planted ones")
    records = dataclasses.replace(records, serial=serial, pncid=pncid_text(year, serial))
    nominals = nominals_table(rng, records, cases, case_record, people, config, geography)
    aliases = aliases_table(rng, records, people, config)
    offences, n_dup = offences_table(
        rng, records, cases, case_record, people, np.zeros(n, bool), config, geography,
        asn_issued=state.asn_issued,
    )
    persons = np.unique(records.person)
    tables = {
        "pnc_nominals.csv": nominals,
        "pnc_aliases.csv": aliases,
        "pnc_offences.csv": offences,
        "persons.parquet": persons_truth(
            people, persons, records, rate, 0, np.zeros(0, np.int64), state.person_id
        ),
        "pnc_records.parquet": records_truth(records, state.person_id),
    }
    state.chunk += 1
    state.person_id += n
    state.pnc_persons += len(persons)
    state.pnc_records += len(records.person)
    state.duplicate_records += int(records.second.sum())
    state.duplicate_transmissions += n_dup
    return tables


def extra_blocks(config: SynthConfig, geography: Geography, seed: int, streams: int,
                 state: ExtraState, block_persons: int):
    """Yield {file: table} per block: the chunks of about `block_persons` persons (at
    least one chunk) concatenated, until the wanted nominals are drawn."""
    per_block = max(1, block_persons // config.pnc_extra_chunk)
    while state.wanted > 0:
        parts = []
        while state.wanted > 0 and len(parts) < per_block:
            parts.append(draw_chunk(config, geography, seed, streams, state))
        yield {
            name: pa.concat_tables([p[name] for p in parts], promote_options="permissive")
            for name in parts[0]
        }
        del parts
