"""The probabilistic rule on a tiny world where EM meets a block too small to train on
(seed 29 drives an m value below 1e-300, which Splink refuses): the session is skipped,
said in the log, and the run completes with the starting values."""

import logging

from dagster_project.delivery import verify_delivery
from dagster_project.linkage import client_identities, pnc_identity_variants, probabilistic_links
from dagster_project.raw import read_extract
from dagster_project.reference import REFERENCE_TABLES, load_reference
from dagster_project.schemas import DELIVERY_FILES
from dagster_project.settings import Settings
from dagster_project.staging import stage_delivery
from dagster_project.synth import SynthConfig, generate_delivery


def test_linkage_completes_when_em_cannot_train_a_block(tmp_path, caplog):
    path = generate_delivery(SynthConfig.for_scale("tiny"), out=tmp_path / "landing", seed=29)
    delivery = verify_delivery(path)
    raws = {f: read_extract(delivery, f)[0] for f in DELIVERY_FILES}
    staged, _ = stage_delivery(raws, {n: load_reference(n) for n in REFERENCE_TABLES})
    clients = client_identities(staged["ndtms_episodes.csv"])
    variants = pnc_identity_variants(staged["pnc_nominals.csv"], staged["pnc_aliases.csv"])

    with caplog.at_level(logging.WARNING, logger="dagster_project"):
        links, model = probabilistic_links(
            clients, variants, staged["pnc_offences.csv"], Settings()
        )

    assert "EM session skipped" in caplog.text

    assert len(links) == len(clients)
    assert set(links["link_status"]) <= {"matched", "absent", "ambiguous"}
    assert (links["link_status"] == "matched").sum() > 0
    matched = links.loc[links["link_status"] == "matched", "pncid"]
    assert matched.notna().all() and not matched.duplicated().any()
    assert model["comparisons"]
