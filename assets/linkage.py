"""Linkage stage: NDTMS clients ↔ PNC persons, and the pseudonymised hand-over.

Identifiers (initials, dates of birth, PNCIDs) exist in this stage only. What leaves it —
`treatment_episodes`, `client_link_status`, `linked_offences` — is keyed by `person_key`.
`client_links` keeps the PNCID and is restricted: never published.

Exports `linkage_assets`, `LINKAGE_GROUP`.
"""

import dagster as dg
import pandas as pd

from dagster_project.io_manager import WarehouseResource
from dagster_project.linkage import client_identities as identify_clients
from dagster_project.linkage import pnc_identity_variants as pnc_variants
from dagster_project.linkage.evaluation import client_truth, evaluate_links
from dagster_project.linkage.handover import (
    OFFENCE_COLUMNS,
    client_links_table,
)
from dagster_project.linkage.handover import (
    client_link_status as link_status_of,
)
from dagster_project.linkage.handover import (
    linked_offences as offences_of_matched,
)
from dagster_project.linkage.handover import (
    treatment_episodes as pseudonymised_episodes,
)
from dagster_project.linkage.rules import link_clients
from dagster_project.metadata import settings_metadata, table_metadata
from dagster_project.resources import SettingsResource
from dagster_project.summary import extract_date_in_use

LINKAGE_GROUP = "linkage"


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas"})
def client_identities(staged_ndtms_episodes: pd.DataFrame) -> dg.MaterializeResult:
    """One row per NDTMS client (attributor: initials, date of birth, sex) with what linkage
    may use: area, ethnicity, when it was in treatment. Identifying: counts only as metadata."""
    clients = identify_clients(staged_ndtms_episodes)
    return dg.MaterializeResult(
        value=clients,
        metadata=table_metadata(clients, linkable=int(clients["linkable"].sum())),
    )


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas"})
def pnc_identity_variants(
    staged_pnc_nominals: pd.DataFrame, staged_pnc_aliases: pd.DataFrame
) -> dg.MaterializeResult:
    """Every name and date of birth a PNC person has used (nominal and aliases)."""
    variants = pnc_variants(staged_pnc_nominals, staged_pnc_aliases)
    return dg.MaterializeResult(
        value=variants,
        metadata=table_metadata(variants, persons=int(variants["pncid"].nunique())),
    )


# what linkage and the hand-over read of the offences: not the whole staged table
LINKAGE_OFFENCE_COLUMNS = ["pncid", "offence_start", "force"]
HANDOVER_OFFENCE_COLUMNS = ["pncid", *OFFENCE_COLUMNS]


@dg.asset(
    group_name=LINKAGE_GROUP,
    kinds={"pandas", "duckdb"},
    ins={"staged_pnc_offences": dg.AssetIn(metadata={"columns": LINKAGE_OFFENCE_COLUMNS})},
)
def client_links(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    warehouse: WarehouseResource,
    client_identities: pd.DataFrame,
    pnc_identity_variants: pd.DataFrame,
    staged_pnc_offences: pd.DataFrame,
) -> dg.MaterializeResult:
    """Link status of every client under the configured rule (METHOD.md §3, §8). Restricted:
    it holds PNCIDs and is never published."""
    run_settings = settings.get()
    result = link_clients(
        client_identities, pnc_identity_variants, staged_pnc_offences, run_settings
    )
    links = client_links_table(result.links, run_settings.resolved_pseudonym_key())
    quality = _quality_against_truth(
        result.links, client_identities, run_settings, warehouse.warehouse()
    )
    shares = links["link_status"].value_counts().to_dict()
    context.log.info(f"{run_settings.linkage_method} linkage: {shares}")
    return dg.MaterializeResult(
        value=links,
        metadata=table_metadata(
            links,
            method=run_settings.linkage_method,
            **{f"clients_{status}": int(n) for status, n in shares.items()},
            **{name: dg.MetadataValue.md(text) for name, text in result.metadata.items()},
            **({"model": dg.MetadataValue.json(result.model)} if result.model else {}),
            **quality,
            **settings_metadata(run_settings),
        ),
    )


def _quality_against_truth(links, clients, settings, wh) -> dict:
    """Precision, recall and shares of the links against a synthetic delivery's ground truth
    (`truth/<extract date>/` beside the landing folder), when there is one: counts and rates
    only, no identities. A real delivery has no truth, and gets nothing here."""
    extract_date = extract_date_in_use(wh, "staged_ndtms_episodes")
    truth_dir = settings.landing_dir.parent / "truth" / extract_date
    if not (truth_dir / "client_records.parquet").exists():
        return {}
    summary = evaluate_links(links, client_truth(truth_dir, clients))
    # numpy scalars are not metadata values: `.item()` gives the plain int or float
    return {
        f"truth_{name}": getattr(value, "item", lambda v=value: v)()
        for name, value in summary.items()
    }


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas"})
def treatment_episodes(
    settings: SettingsResource, staged_ndtms_episodes: pd.DataFrame
) -> dg.MaterializeResult:
    """Staged episodes keyed by `person_key`, with the age at triage instead of a birth date."""
    episodes = pseudonymised_episodes(
        staged_ndtms_episodes, settings.get().resolved_pseudonym_key()
    )
    return dg.MaterializeResult(value=episodes, metadata=table_metadata(episodes))


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas"})
def client_link_status(client_links: pd.DataFrame) -> dg.MaterializeResult:
    """`client_links` without the PNCID: what the cohort stage may know of each link."""
    status = link_status_of(client_links)
    return dg.MaterializeResult(value=status, metadata=table_metadata(status))


@dg.asset(
    group_name=LINKAGE_GROUP,
    kinds={"pandas"},
    ins={"staged_pnc_offences": dg.AssetIn(metadata={"columns": HANDOVER_OFFENCE_COLUMNS})},
)
def linked_offences(
    client_links: pd.DataFrame, staged_pnc_offences: pd.DataFrame
) -> dg.MaterializeResult:
    """Offences of matched persons keyed by the client's `person_key` (no PNCID, no ASN)."""
    offences = offences_of_matched(client_links, staged_pnc_offences)
    return dg.MaterializeResult(value=offences, metadata=table_metadata(offences))


linkage_assets = [
    client_identities, pnc_identity_variants, client_links, treatment_episodes,
    client_link_status, linked_offences,
]
