"""`generate_delivery`: the world written as one delivery, and its truth beside it.

Exports `generate_delivery`, `truth_dir`.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .columns import date_column
from .config import EXIT_TYPES, SynthConfig
from .errors import plant_aliases, plant_ndtms, plant_nominals, plant_offences
from .ndtms import draw_drugs, episodes_table
from .offences import offences_table
from .pnc import aliases_table, nominals_table
from .stream import FILES as EXTRA_FILES
from .stream import extra_blocks, extra_state
from .truth_effect import write_effect_truth
from .truth_tables import TruthWriter, persons_truth, records_truth
from .world import STREAMS, World, build_world
from .writer import CsvFile, write_manifest

_EFFECT_KNOBS = (
    "client_rate_mean",
    "client_rate_shape",
    "drug_group_rate_multiplier",
    "age_peak",
    "age_decline",
    "pre_entry_days",
    "pre_entry_multiplier",
    "in_treatment_multiplier",
    "in_treatment_ramp_days",
    "relapse_multiplier",
    "completion_relapse_days",
    "dropout_relapse_share",
    "dropout_disengaged_days",
    "disengaged_multiplier",
    "post_exit_ramp_days",
    "post_exit_multiplier",
    "exit_rate_tilt",
)


def truth_dir(out: Path, extract_date: str) -> Path:
    """Where the truth of a delivery goes: beside the landing folder, never inside it."""
    return Path(out).absolute().parent / "truth" / extract_date


def _journey_routes(rng, world: World) -> np.ndarray:
    """Referral route of each journey: 0 criminal justice, 1 self, 2 other."""
    c = world.config
    offender = world.rate[world.journeys["person"].to_numpy()] > 0
    p_cj = np.where(offender, c.cj_referral_share_offenders, c.cj_referral_share_non_offenders)
    u = rng.random(len(p_cj))
    return np.where(
        u < p_cj, 0, np.where(rng.random(len(p_cj)) < c.self_referral_share_non_cj, 1, 2)
    )


def _extract_tables(world: World, extra: dict):
    """Yield (file name, table with its planted defects, planted rows) one file at a time,
    so that only one table is in memory. Puts the identity records (truth) in `extra`."""
    c, g, people = world.config, world.geography, world.people
    rng, errors = world.rngs["ndtms"], world.rngs["errors"]
    drugs = draw_drugs(rng, world.drug_group)
    routes = _journey_routes(rng, world)
    ndtms, extra["identities"], days = episodes_table(
        rng, world.episodes, routes, drugs, people, c, g
    )
    yield "ndtms_episodes.csv", *plant_ndtms(errors, ndtms, days, c)
    del ndtms
    rng = world.rngs["pnc"]
    kept = world.case_record >= 0
    nominals = nominals_table(
        rng, world.records, *((world.cases, world.case_record) if kept.all()
                              else (world.cases[kept], world.case_record[kept])), people, c, g
    )
    yield "pnc_nominals.csv", *plant_nominals(errors, nominals, c)
    del nominals
    yield "pnc_aliases.csv", *plant_aliases(errors, aliases_table(rng, world.records, people, c), c)
    # the largest table: handed over (`pop`) so that planting never holds it twice
    tables = {}
    tables["offences"], extra["duplicate_transmissions"] = offences_table(
        rng, world.records, world.cases, world.case_record, people, world.is_drug_user, c, g,
        truth=extra if c.treatment_effect is not None else None,
        asn_issued=extra["asn_issued"],
    )
    yield "pnc_offences.csv", *plant_offences(errors, tables.pop("offences"), c)


def _truth_of_world(world: World, folder: Path, extra: dict, widen: bool) -> dict:
    """Write the world's truth; returns the writers of the two tables that chunks of the
    PNC beyond the world (stream.py) add to, still open."""
    folder.mkdir(parents=True, exist_ok=True)
    people, records = world.people, world.records
    persons = np.union1d(np.arange(world.n_clients), records.person)
    writers = {
        "persons.parquet": TruthWriter(
            folder / "persons.parquet",
            persons_truth(
                people, persons, records, world.rate, world.n_clients, world.drug_group
            ),
            widen,
        )
    }
    ids = extra["identities"].rename(columns={"person": "person_id"})
    ids["DOB"] = date_column(ids["dob"].to_numpy(), "iso").to_numpy(zero_copy_only=False)
    ids["SEX"] = ids.pop("sex").astype(str)
    ids.drop(columns=["dob"]).to_parquet(folder / "client_records.parquet", index=False)
    journeys = world.journeys.rename(columns={"person": "person_id"})
    journeys["exit_type"] = np.asarray(EXIT_TYPES)[journeys["exit_type"]]
    journeys["final_exit"] = np.asarray(EXIT_TYPES[:-1])[journeys["final_exit"]]
    for col in ("start", "end"):
        journeys[col] = date_column(journeys[col].to_numpy(), "iso").to_numpy(zero_copy_only=False)
    journeys.drop(columns=["duration"]).to_parquet(folder / "journeys.parquet", index=False)
    writers["pnc_records.parquet"] = TruthWriter(
        folder / "pnc_records.parquet", records_truth(records), widen
    )
    return writers


def _counts(world: World, extra: dict) -> dict:
    records = world.records
    return {
        "clients": world.n_clients,
        "pnc_persons": int(len(np.unique(records.person))),
        "pnc_records": len(records.person),
        "duplicate_pnc_records": int(records.second.sum()),
        "duplicate_transmissions": extra["duplicate_transmissions"],
        "identity_errors": extra["identities"]["error"]
        .value_counts()
        .drop("none", errors="ignore")
        .astype(int)
        .to_dict(),
    }


def _write_parameters(
    config: SynthConfig, folder: Path, seed: int, planted: list, counts: dict, files: dict
) -> None:
    pd.DataFrame(planted, columns=["file", "line", "kind", "rejected"]).to_csv(
        folder / "planted_rows.csv", index=False, lineterminator="\n"
    )
    by_kind = (
        pd.DataFrame(planted, columns=["file", "line", "kind", "rejected"])
        .groupby(["file", "kind"])
        .size()
    )
    parameters = {
        "seed": seed,
        "config": config.as_dict(),
        "effect": {k: getattr(config, k) for k in _EFFECT_KNOBS},
        "counts": {
            **counts,
            "planted_rows": {
                f: by_kind[f].astype(int).to_dict()
                for f in by_kind.index.get_level_values(0).unique()
            },
            "files": files,
        },
    }
    (folder / "parameters.json").write_text(
        json.dumps(parameters, indent=2) + "\n", encoding="utf-8"
    )


def generate_delivery(
    config: SynthConfig, out: Path, seed: int, block_persons: int = 500_000
) -> Path:
    """Generate a delivery `<out>/<extract_date>/` (the four CSV files, then manifest.json)
    and its truth in `<out>/../truth/<extract_date>/`. Returns the delivery folder.
    Deterministic: the same config and seed give byte-identical files. A PNC beyond the
    world (`pnc_extra_nominals`, stream.py) is drawn after it, `block_persons` persons at
    a time (memory only: the files do not depend on it)."""
    world = build_world(config, seed)
    delivery = Path(out) / config.extract_date
    delivery.mkdir(parents=True, exist_ok=True)
    (delivery / "manifest.json").unlink(missing_ok=True)  # incomplete until rewritten
    streaming = config.pnc_extra_nominals > 0
    files, planted, extra, csvs = {}, [], {"asn_issued": np.zeros(100, np.int64)}, {}
    for name, table, rows in _extract_tables(world, extra):
        csvs[name] = CsvFile(delivery / name, table.column_names)
        csvs[name].append(table)
        files[name] = None if streaming and name in EXTRA_FILES else csvs.pop(name).close()
        planted += rows
        del table, rows
        pa.default_memory_pool().release_unused()  # give freed Arrow buffers back
    folder = truth_dir(out, config.extract_date)
    writers = _truth_of_world(world, folder, extra, widen=streaming)
    if config.treatment_effect is not None:
        write_effect_truth(world, extra["charges"], folder)
    counts = _counts(world, extra)
    if streaming:
        state = extra_state(config, len(world.people), world.records, extra["asn_issued"])
        geography = world.geography
        del world, extra  # the world is written: only the chunks' rows are held from here
        pa.default_memory_pool().release_unused()
        for tables in extra_blocks(config, geography, seed, len(STREAMS), state, block_persons):
            for name, table in tables.items():
                (csvs[name] if name in csvs else writers[name]).append(table)
            del tables
        files.update({name: csv.close() for name, csv in csvs.items()})
        counts["pnc_persons"] += state.pnc_persons
        counts["pnc_records"] += state.pnc_records
        counts["duplicate_pnc_records"] += state.duplicate_records
        counts["duplicate_transmissions"] += state.duplicate_transmissions
    for writer in writers.values():
        writer.close()
    _write_parameters(config, folder, seed, planted, counts, files)
    write_manifest(delivery, config.extract_date, files)
    return delivery
