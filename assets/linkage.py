"""Linkage stage: NDTMS clients ↔ PNC persons, and the pseudonymised hand-over.

Identifiers (initials, dates of birth, PNCIDs) exist in this stage only. What leaves it —
`treatment_episodes`, `client_link_status`, `linked_offences` — is keyed by `person_key`.
`client_links` keeps the PNCID and is restricted: never published.

Exports `linkage_assets`.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from dagster_project.analysis.summary import extract_date_in_use
from dagster_project.linkage import client_identities as identify_clients
from dagster_project.linkage.alternatives import alternative_links, alternative_offences
from dagster_project.linkage.evaluation import (
    calibration_table,
    client_truth,
    evaluate_links,
    record_persons,
)
from dagster_project.linkage.features import OFFENCE_INPUT_COLUMNS, VARIANT_INPUT_COLUMNS
from dagster_project.linkage.handover import STAGED_OFFENCES, client_keys, client_links_table
from dagster_project.linkage.handover import client_link_status as link_status_of
from dagster_project.linkage.handover import linked_offences as offences_of_matched
from dagster_project.linkage.handover import treatment_episodes as pseudonymised_episodes
from dagster_project.linkage.rules import candidate_pairs, links_from_candidates
from dagster_project.linkage.variant_reads import VARIANTS, streamed, variants_sharing_an_attributor
from dagster_project.linkage.variant_table import write_identity_variants
from dagster_project.orchestration.io_manager import WarehouseResource
from dagster_project.orchestration.metadata import (
    settings_metadata,
    table_metadata,
    written_table_metadata,
)
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.vocabulary.groups import LINKAGE_GROUP


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas"})
def client_identities(staged_ndtms_episodes: pd.DataFrame) -> dg.MaterializeResult:
    """One row per NDTMS client (attributor: initials, date of birth, sex) with what linkage
    may use: area, ethnicity, when it was in treatment. Identifying: counts only as metadata."""
    clients = identify_clients(staged_ndtms_episodes)
    return dg.MaterializeResult(
        value=clients,
        metadata=table_metadata(clients, linkable=int(clients["linkable"].sum())),
    )


@dg.asset(
    group_name=LINKAGE_GROUP,
    kinds={"sql"},
    # made inside the warehouse engine (variant_table.py): at the real PNC's size the
    # nominals and aliases are some 12 million rows, none of which comes into Python
    deps=["staged_pnc_nominals", "staged_pnc_aliases"],
)
def pnc_identity_variants(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every name and date of birth a PNC person has used (nominal and aliases)."""
    wh = warehouse.warehouse()
    rows = write_identity_variants(wh)
    persons = wh.query(f"SELECT count(DISTINCT pncid) AS n FROM {VARIANTS}")["n"].iloc[0]
    return dg.MaterializeResult(
        metadata=written_table_metadata(wh, VARIANTS, rows, persons=int(persons)))


@dg.asset(
    group_name=LINKAGE_GROUP,
    kinds={"pandas", "duckdb"},
    # read by the step itself, streamed into the model's database: at the real PNC's size
    # the variants and the offences would be gigabytes of Python objects
    deps=["pnc_identity_variants", "staged_pnc_offences"],
)
def client_link_candidates(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    warehouse: WarehouseResource,
    client_identities: pd.DataFrame,
) -> dg.MaterializeResult:
    """Every (client, PNC person) pair the probabilistic model scores at or above the absent
    floor, with its match probability: the model runs once per delivery, whichever rule is
    configured, so that every threshold and rule can be compared. Restricted: PNCIDs."""
    run_settings, wh = settings.get(), warehouse.warehouse()
    result = candidate_pairs(
        client_identities,
        streamed(wh, VARIANTS, VARIANT_INPUT_COLUMNS),
        streamed(wh, STAGED_OFFENCES, OFFENCE_INPUT_COLUMNS),
        run_settings,
    )
    keys = client_keys(client_identities, run_settings.resolved_pseudonym_key()).to_numpy()
    pairs = result.links
    candidates = pd.DataFrame({
        "person_key": keys[pairs["client"].to_numpy()],
        "pncid": pairs["pncid"].astype("str").to_numpy(),
        "match_probability": pairs["match_probability"].to_numpy(),
    })
    share = result.model["client_level"]["share_of_clients_with_a_record"]
    context.log.info(f"{len(candidates):,} scored pairs; share with a record {share:.3f}")
    return dg.MaterializeResult(
        value=candidates,
        metadata=table_metadata(
            candidates,
            share_of_clients_with_a_record=float(share),
            model=dg.MetadataValue.json(result.model),
            **{name: dg.MetadataValue.md(text) for name, text in result.metadata.items()},
            **settings_metadata(run_settings),
        ),
    )


def _client_positions(candidates: pd.DataFrame, clients: pd.DataFrame, key: str) -> pd.DataFrame:
    """Scored pairs with each client's row position in `clients` (`client`)."""
    keys = client_keys(clients, key)
    return candidates.assign(client=pd.Index(keys).get_indexer(candidates["person_key"]))


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas"}, deps=["pnc_identity_variants"])
def client_links(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    warehouse: WarehouseResource,
    client_identities: pd.DataFrame,
    client_link_candidates: pd.DataFrame,
) -> dg.MaterializeResult:
    """Link status of every client under the configured rule (METHOD.md §3, §8). Restricted:
    it holds PNCIDs and is never published."""
    run_settings, wh = settings.get(), warehouse.warehouse()
    key = run_settings.resolved_pseudonym_key()
    pairs = _client_positions(client_link_candidates, client_identities, key)
    variants = variants_sharing_an_attributor(wh, client_identities)
    links = links_from_candidates(client_identities, variants, pairs, run_settings)
    table = client_links_table(links, key)
    quality = _quality_against_truth(links, pairs, client_identities, run_settings, wh)
    shares = table["link_status"].value_counts().to_dict()
    context.log.info(f"{run_settings.linkage_method} linkage: {shares}")
    return dg.MaterializeResult(
        value=table,
        metadata=table_metadata(
            table,
            method=run_settings.linkage_method,
            **{f"clients_{status}": int(n) for status, n in shares.items()},
            **quality,
            **settings_metadata(run_settings),
        ),
    )


def _quality_against_truth(links, pairs, clients, settings, wh) -> dict:
    """Precision, recall, shares and the calibration of the match probabilities against a
    synthetic delivery's ground truth (`truth/<extract date>/` beside the landing folder),
    when there is one: counts and rates only, no identities. A real delivery has no truth,
    and gets nothing here."""
    extract_date = extract_date_in_use(wh, "staged_ndtms_episodes")
    truth_dir = Path(settings.landing_dir).parent / "truth" / extract_date
    if not (truth_dir / "client_records.parquet").exists():
        return {}
    truth = client_truth(truth_dir, clients)
    summary = evaluate_links(links, truth)
    calibration = calibration_table(pairs, truth)
    by_person = calibration_table(pairs, truth, persons=record_persons(truth_dir))
    # numpy scalars are not metadata values: `.item()` gives the plain int or float
    return {
        **{f"truth_{name}": getattr(value, "item", lambda v=value: v)()
           for name, value in summary.items()},
        "truth_calibration": dg.MetadataValue.md(
            calibration.to_markdown(index=False, floatfmt=".4f")),
        "truth_calibration_by_person": dg.MetadataValue.md(
            by_person.to_markdown(index=False, floatfmt=".4f")),
    }


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas"}, deps=["pnc_identity_variants"])
def linkage_alternatives(
    settings: SettingsResource,
    warehouse: WarehouseResource,
    client_identities: pd.DataFrame,
    client_link_candidates: pd.DataFrame,
) -> dg.MaterializeResult:
    """Every client's link status under the NTA rule and under the probabilistic rule at
    each sensitivity threshold (METHOD.md §7), keyed by `person_key` and `pnc_key`: made
    once per delivery, so no cohort year links again."""
    run_settings = settings.get()
    alternatives = alternative_links(
        client_identities,
        variants_sharing_an_attributor(warehouse.warehouse(), client_identities),
        client_link_candidates,
        run_settings.sensitivity_thresholds, run_settings.absent_floor,
        run_settings.resolved_pseudonym_key(),
    )
    counts = alternatives.groupby(["method", "match_threshold"], dropna=False)[
        "link_status"].value_counts().unstack(fill_value=0).reset_index()
    return dg.MaterializeResult(
        value=alternatives,
        metadata=table_metadata(
            alternatives, statuses=dg.MetadataValue.md(counts.to_markdown(index=False)),
            **settings_metadata(run_settings)),
    )


@dg.asset(
    group_name=LINKAGE_GROUP,
    kinds={"pandas", "sql"},
    ins={"client_link_candidates": dg.AssetIn(metadata={"columns": ["pncid"]})},
    deps=["staged_pnc_offences", "pnc_identity_variants"],
)
def alternative_linked_offences(
    settings: SettingsResource,
    warehouse: WarehouseResource,
    linkage_alternatives: pd.DataFrame,
    client_link_candidates: pd.DataFrame,
    client_identities: pd.DataFrame,
) -> dg.MaterializeResult:
    """The offences of every PNC person some rule matched, keyed by `pnc_key` (no PNCID)."""
    wh = warehouse.warehouse()
    # every person a rule could match: scored by the model, or an NTA candidate
    candidates = pd.concat([client_link_candidates["pncid"],
                            variants_sharing_an_attributor(wh, client_identities)["pncid"]])
    slices = alternative_offences(
        linkage_alternatives, candidates, wh, settings.get().resolved_pseudonym_key())
    return _written(wh, "alternative_linked_offences", slices)


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas"})
def treatment_episodes(
    settings: SettingsResource, staged_ndtms_episodes: pd.DataFrame
) -> dg.MaterializeResult:
    """Staged episodes keyed by `person_key`, with the age at a journey's start instead of a
    birth date."""
    run_settings = settings.get()
    episodes = pseudonymised_episodes(
        staged_ndtms_episodes, run_settings.resolved_pseudonym_key(), run_settings.journey_gap_days
    )
    return dg.MaterializeResult(value=episodes, metadata=table_metadata(episodes))


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas"})
def client_link_status(client_links: pd.DataFrame) -> dg.MaterializeResult:
    """`client_links` without the PNCID: what the cohort stage may know of each link."""
    status = link_status_of(client_links)
    return dg.MaterializeResult(value=status, metadata=table_metadata(status))


@dg.asset(group_name=LINKAGE_GROUP, kinds={"pandas", "sql"}, deps=["staged_pnc_offences"])
def linked_offences(
    warehouse: WarehouseResource, client_links: pd.DataFrame
) -> dg.MaterializeResult:
    """Offences of matched persons keyed by the client's `person_key` (no PNCID, no ASN),
    joined in the warehouse and written a slice of persons at a time."""
    wh = warehouse.warehouse()
    return _written(wh, "linked_offences", offences_of_matched(client_links, wh))


def _written(wh, table: str, slices) -> dg.MaterializeResult:
    """Write a table slice by slice (it may not fit in memory at once)."""
    rows = wh.write_tables({table: slices})[table]
    return dg.MaterializeResult(metadata=written_table_metadata(wh, table, rows))


linkage_assets = [
    client_identities, pnc_identity_variants, client_link_candidates, client_links,
    linkage_alternatives, alternative_linked_offences, treatment_episodes,
    client_link_status, linked_offences,
]
