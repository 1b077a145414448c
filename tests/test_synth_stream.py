"""The PNC beyond the world (synth/stream.py): drawn in seeded chunks after the world,
written block by block; the files do not depend on the block, the world's rows are those
of the world alone, keys hold across the whole file and the delivery stages."""

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from dagster_project.delivery.manifest import verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.delivery.schemas import DELIVERY_FILES
from dagster_project.staging import stage_delivery
from dagster_project.synth import SynthConfig, generate_delivery, truth_dir

EXTRA = 4_000  # never-treated nominals beyond tiny's world, in chunks of 1,500 persons
CONFIG = SynthConfig.for_scale("tiny", pnc_extra_nominals=EXTRA, pnc_extra_chunk=1_500)
TRUTH_TABLES = ("persons.parquet", "pnc_records.parquet")


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """The tiny world alone, and with the PNC beyond it written one chunk per block and
    all chunks in one block."""
    root = tmp_path_factory.mktemp("stream")
    return {
        "world": generate_delivery(SynthConfig.for_scale("tiny"), root / "w" / "landing", 7),
        "chunked": generate_delivery(CONFIG, root / "c" / "landing", 7, block_persons=1),
        "one_block": generate_delivery(CONFIG, root / "b" / "landing", 7, 10**9),
    }


def _truth(delivery):
    return truth_dir(delivery.parent, delivery.name)


def _read(delivery, name) -> pd.DataFrame:
    table = pd.read_csv(delivery / name, dtype=str, keep_default_na=False)
    table.index += 2  # line numbers
    return table


def test_scales_full_is_nationals_world_with_the_pnc_grown():
    full, national = SynthConfig.for_scale("full"), SynthConfig.for_scale("national")
    assert national.pnc_extra_nominals == 0
    assert full.new_clients_per_year == national.new_clients_per_year
    assert full.pnc_other_nominals == national.pnc_other_nominals
    assert full.pnc_other_nominals + full.pnc_extra_nominals >= 9_000_000


def test_files_do_not_depend_on_the_block(worlds):
    chunked, one_block = worlds["chunked"], worlds["one_block"]
    for name in [*DELIVERY_FILES, "manifest.json"]:
        assert (chunked / name).read_bytes() == (one_block / name).read_bytes(), name
    for name in TRUTH_TABLES:  # (parquet row groups follow the blocks; the rows do not)
        assert pq.read_table(_truth(chunked) / name).equals(pq.read_table(_truth(one_block) / name))
    for name in ("parameters.json", "planted_rows.csv", "client_records.parquet"):
        assert (_truth(chunked) / name).read_bytes() == (_truth(one_block) / name).read_bytes()


def test_the_worlds_rows_come_first_unchanged(worlds):
    world, grown = worlds["world"], worlds["chunked"]
    for name in DELIVERY_FILES:
        before, after = (world / name).read_bytes(), (grown / name).read_bytes()
        if name == "ndtms_episodes.csv":
            assert after == before
        else:
            assert after.startswith(before) and len(after) > len(before), name
    for name in ("planted_rows.csv", "client_records.parquet", "journeys.parquet"):
        assert (_truth(world) / name).read_bytes() == (_truth(grown) / name).read_bytes()
    persons = pd.read_parquet(_truth(grown) / "persons.parquet")
    alone = pd.read_parquet(_truth(world) / "persons.parquet")
    pd.testing.assert_frame_equal(persons.head(len(alone)), alone)
    extra = persons.iloc[len(alone):]
    assert len(extra) == EXTRA and not extra["is_client"].any()
    assert extra["person_id"].min() > alone["person_id"].max() and persons["person_id"].is_unique


def test_keys_hold_across_world_and_chunks(worlds):
    delivery = worlds["chunked"]
    planted = pd.read_csv(_truth(delivery) / "planted_rows.csv")
    rejected = planted[planted["rejected"]]
    valid = {
        name: _read(delivery, name).drop(index=rejected[rejected["file"] == name]["line"])
        for name in DELIVERY_FILES[1:]
    }
    nominals, aliases, offences = valid["pnc_nominals.csv"], valid["pnc_aliases.csv"], valid[
        "pnc_offences.csv"
    ]
    assert nominals["PNCID"].is_unique
    assert aliases["PNCID"].isin(nominals["PNCID"]).all()
    assert offences["PNCID"].isin(nominals["PNCID"]).all()
    assert nominals["PNCID"].isin(offences["PNCID"]).all()
    assert not offences.duplicated(["ASN", "OFFENCE_SEQ"]).any()
    # an ASN names one case: one PNCID and one offence date
    assert (offences.groupby("ASN")["PNCID"].nunique() == 1).all()
    records = pd.read_parquet(_truth(delivery) / "pnc_records.parquet")
    assert set(records["PNCID"]) == set(nominals["PNCID"])
    counts = json.loads((_truth(delivery) / "parameters.json").read_text())["counts"]
    assert counts["pnc_records"] == len(records) == len(nominals)
    world = json.loads((_truth(worlds["world"]) / "parameters.json").read_text())["counts"]
    assert counts["pnc_persons"] == world["pnc_persons"] + EXTRA


def test_the_grown_delivery_stages_with_only_the_planted_rows_rejected(worlds):
    delivery = verify_delivery(worlds["chunked"])
    raws = {name: read_extract(delivery, name)[0] for name in DELIVERY_FILES}
    staged, rejects = stage_delivery(raws, {n: load_reference(n) for n in REFERENCE_TABLES})
    for name in DELIVERY_FILES:
        assert len(raws[name]) == len(staged[name]) + (rejects["source_file"] == name).sum()
    planted = pd.read_csv(_truth(worlds["chunked"]) / "planted_rows.csv")
    planted = planted[planted["rejected"]]
    assert set(zip(rejects["source_file"], rejects["line_number"], strict=True)) == set(
        zip(planted["file"], planted["line"], strict=True)
    )
