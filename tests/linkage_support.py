"""What the linkage tests share: the linkage's inputs from a small staged delivery."""

from dagster_project.delivery.manifest import verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.delivery.schemas import DELIVERY_FILES
from dagster_project.linkage import client_identities, pnc_identity_variants
from dagster_project.staging import stage_delivery
from dagster_project.synth import SynthConfig, generate_delivery


def staged_tables(tmp_path, seed: int) -> dict:
    """The staged tables of a `tiny` delivery, by file name."""
    path = generate_delivery(SynthConfig.for_scale("tiny"), out=tmp_path / "landing", seed=seed)
    delivery = verify_delivery(path)
    raws = {f: read_extract(delivery, f)[0] for f in DELIVERY_FILES}
    return stage_delivery(raws, {n: load_reference(n) for n in REFERENCE_TABLES})[0]


def linkage_inputs(tmp_path, seed: int):
    """(client identities, PNC identity variants, staged offences) of a `tiny` delivery."""
    staged = staged_tables(tmp_path, seed)
    clients = client_identities(staged["ndtms_episodes.csv"])
    variants = pnc_identity_variants(staged["pnc_nominals.csv"], staged["pnc_aliases.csv"])
    return clients, variants, staged["pnc_offences.csv"]
