"""The probabilistic rule when expectation maximisation cannot train on a block: a block with
no pairs at all (a delivery that leaves the block's columns empty) must skip that session,
say so in the log, and keep the starting m values, not stop the linkage."""

import logging

import duckdb
from splink import DuckDBAPI, Linker

from dagster_project.linkage import probabilistic_links
from dagster_project.linkage.comparisons import TRAINING_BLOCKING_RULES, settings_creator
from dagster_project.linkage.features import build_features
from dagster_project.linkage.probabilistic import _train
from dagster_project.settings import Settings
from tests.linkage_support import linkage_inputs

NO_PAIRS = "l.dob = r.dob AND l.dob_year < 0"


def _identities(tmp_path):
    return linkage_inputs(tmp_path, seed=6)


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
