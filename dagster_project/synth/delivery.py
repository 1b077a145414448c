"""`generate_delivery`: the world written as one delivery, and its truth beside it.

Exports `generate_delivery`, `truth_dir`.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .columns import date_column
from .config import DRUG_GROUPS, EXIT_TYPES, SynthConfig
from .errors import plant_aliases, plant_ndtms, plant_nominals, plant_offences
from .ndtms import draw_drugs, episodes_table
from .offences import offences_table
from .pnc import aliases_table, forename_text, nominals_table, surname_text
from .truth_effect import write_effect_truth
from .world import World, build_world
from .writer import write_csv, write_manifest

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
    )
    yield "pnc_offences.csv", *plant_offences(errors, tables.pop("offences"), c)


def _write_truth(
    world: World, folder: Path, seed: int, planted: list, extra: dict, files: dict
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    people, records = world.people, world.records
    persons = np.union1d(np.arange(world.n_clients), records.person)
    first = ~records.second
    pncid = pd.Series(records.pncid.to_numpy(zero_copy_only=False))
    names = {k: v[persons] for k, v in people.names.items()}
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    pq.write_table(
        pa.table(
            {
                "person_id": persons,
                "is_client": persons < world.n_clients,
                "sex": np.where(people.male[persons], "1", "2"),
                "dob": date_column(people.dob[persons], "iso"),
                "finitial": letters[names["finitial"]],
                "sinitial": letters[names["sinitial"]],
                "forenames": forename_text(names, people.male[persons]),
                "surname": surname_text(names),
                "drug_group": np.where(
                    persons < world.n_clients,
                    np.asarray(DRUG_GROUPS)[
                        world.drug_group[np.minimum(persons, world.n_clients - 1)]
                    ],
                    None,
                ),
                "latent_rate": world.rate[persons],
                "pncid": pd.Series(pncid[first].to_numpy(), index=records.person[first])
                .reindex(persons)
                .to_numpy(dtype=object, na_value=None),
                "pncid_duplicate": pd.Series(pncid[~first].to_numpy(), index=records.person[~first])
                .reindex(persons)
                .to_numpy(dtype=object, na_value=None),
            }
        ),
        folder / "persons.parquet",
    )
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
    pq.write_table(
        pa.table(
            {
                "PNCID": records.pncid,
                "person_id": records.person,
                "duplicate_record": records.second,
                "dob_as_filed": date_column(records.dob, "iso"),
            }
        ),
        folder / "pnc_records.parquet",
    )
    pd.DataFrame(planted, columns=["file", "line", "kind", "rejected"]).to_csv(
        folder / "planted_rows.csv", index=False, lineterminator="\n"
    )
    counts = (
        pd.DataFrame(planted, columns=["file", "line", "kind", "rejected"])
        .groupby(["file", "kind"])
        .size()
    )
    parameters = {
        "seed": seed,
        "config": world.config.as_dict(),
        "effect": {k: getattr(world.config, k) for k in _EFFECT_KNOBS},
        "counts": {
            "clients": world.n_clients,
            "pnc_persons": int(len(np.unique(records.person))),
            "pnc_records": len(records.person),
            "duplicate_pnc_records": int(records.second.sum()),
            "duplicate_transmissions": extra["duplicate_transmissions"],
            "identity_errors": ids["error"]
            .value_counts()
            .drop("none", errors="ignore")
            .astype(int)
            .to_dict(),
            "planted_rows": {
                f: counts[f].astype(int).to_dict()
                for f in counts.index.get_level_values(0).unique()
            },
            "files": files,
        },
    }
    (folder / "parameters.json").write_text(
        json.dumps(parameters, indent=2) + "\n", encoding="utf-8"
    )


def generate_delivery(config: SynthConfig, out: Path, seed: int) -> Path:
    """Generate a delivery `<out>/<extract_date>/` (the four CSV files, then manifest.json)
    and its truth in `<out>/../truth/<extract_date>/`. Returns the delivery folder.
    Deterministic: the same config and seed give byte-identical files."""
    world = build_world(config, seed)
    delivery = Path(out) / config.extract_date
    delivery.mkdir(parents=True, exist_ok=True)
    (delivery / "manifest.json").unlink(missing_ok=True)  # incomplete until rewritten
    files, planted, extra = {}, [], {}
    for name, table, rows in _extract_tables(world, extra):
        files[name] = write_csv(table, delivery / name)
        planted += rows
        del table, rows
        pa.default_memory_pool().release_unused()  # give freed Arrow buffers back
    _write_truth(world, truth_dir(out, config.extract_date), seed, planted, extra, files)
    if config.treatment_effect is not None:
        write_effect_truth(world, extra["charges"], truth_dir(out, config.extract_date))
    write_manifest(delivery, config.extract_date, files)
    return delivery
