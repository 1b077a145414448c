"""The probabilistic rule when expectation maximisation cannot train on a block: a block with
no pairs at all (a delivery that leaves the block's columns empty) must skip that session,
say so in the log, and keep the starting m values, not stop the linkage."""

import logging

import duckdb
from splink import DuckDBAPI, Linker

from dagster_project.delivery.manifest import verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.delivery.schemas import DELIVERY_FILES
from dagster_project.linkage import client_identities, pnc_identity_variants, probabilistic_links
from dagster_project.linkage.comparisons import TRAINING_BLOCKING_RULES, settings_creator
from dagster_project.linkage.features import build_features
from dagster_project.linkage.probabilistic import _train
from dagster_project.settings import Settings
from dagster_project.staging import stage_delivery
from dagster_project.synth import SynthConfig, generate_delivery

NO_PAIRS = "l.dob = r.dob AND l.dob_year < 0"


def _identities(tmp_path):
    path = generate_delivery(SynthConfig.for_scale("tiny"), out=tmp_path / "landing", seed=6)
    delivery = verify_delivery(path)
    raws = {f: read_extract(delivery, f)[0] for f in DELIVERY_FILES}
    staged, _ = stage_delivery(raws, {n: load_reference(n) for n in REFERENCE_TABLES})
    clients = client_identities(staged["ndtms_episodes.csv"])
    variants = pnc_identity_variants(staged["pnc_nominals.csv"], staged["pnc_aliases.csv"])
    return clients, variants, staged["pnc_offences.csv"]


def test_an_empty_training_block_is_skipped_with_a_warning(tmp_path, caplog):
    clients, variants, offences = _identities(tmp_path)
    con = duckdb.connect()
    client_table, variant_table = build_features(con, clients, variants, offences)
    db_api = DuckDBAPI(con)
    linker = Linker([db_api.register(client_table, table_name="c"),
                     db_api.register(variant_table, table_name="v")],
                    settings_creator(), log_level=logging.WARNING)

    with caplog.at_level(logging.WARNING, logger="dagster_project"):
        ran = _train(linker, seed=1, em_rules=[NO_PAIRS, TRAINING_BLOCKING_RULES[1]])

    assert "EM session skipped" in caplog.text
    assert len(ran) == 1 and "first_initial" in ran[0]


def test_linkage_completes_on_a_tiny_world(tmp_path):
    clients, variants, offences = _identities(tmp_path)
    links, model = probabilistic_links(clients, variants, offences, Settings())

    assert len(links) == len(clients)
    assert set(links["link_status"]) <= {"matched", "absent", "ambiguous"}
    assert (links["link_status"] == "matched").sum() > 0
    matched = links.loc[links["link_status"] == "matched", "pncid"]
    assert matched.notna().all() and not matched.duplicated().any()
    assert 0 < model["client_level"]["share_of_clients_with_a_record"] < 1
