"""Every stage's checks, one multi-asset check (one step) per layer of the asset graph.

Here: the contracts (Great Expectations suites) and the no-identifier rule of each asset.
The other checks are declared beside their rules, in `CHECKS` (layer -> checks) of
`soft`, `reconcile`, `disclosure` and `comparison`, and merged in: adding a check to one of
those families touches its module only; a new family adds its module to `_FAMILIES`.

Exports `LAYERS`, `PARTITIONED_LAYERS` (layer name -> checks) and `layer_definitions()`.
"""

from functools import partial

# the modules themselves, not `from checks import …`: checks/__init__ imports this module
import checks.comparison as comparison
import checks.disclosure as disclosure
import checks.reconcile as reconcile
import checks.soft as soft
from checks.chunks import needs_slices, sliced_suite
from checks.framework import Check, Tables, layer_checks
from checks.ge_runner import needed_columns, run_suite
from checks.suites_analysis import INDEX_COLUMNS, SUITES
from checks.suites_delivery import (
    WARN_RULES,
    raw_suite,
    reference_suite,
    rejects_suite,
    staged_suite,
)
from dagster_project.delivery.reference import REFERENCE_TABLES
from dagster_project.delivery.schemas import (
    DELIVERY_FILES,
    RAW_TABLES,
    REJECTS_TABLE,
    STAGED_TABLES,
)

_LINE = ["source_file", "line_number"]
_FAMILIES = (soft, reconcile, disclosure, comparison)


def _suite(table: str, rules, index_columns, tables: Tables):
    # only the columns the rules read are loaded; table-level rules get the column names
    present = tables.columns(table)
    if needs_slices(tables, table, present):
        return sliced_suite(table, rules, index_columns, tables, present)
    wanted = [c for c in needed_columns(rules, index_columns) if c in present]
    frame = tables.read(table, columns=wanted)
    return run_suite(table, frame, rules, index_columns, all_columns=present)


def contract(asset: str, rules, index_columns=(), what: str = "") -> Check:
    """The asset's Great Expectations suite as a blocking check."""
    return Check(asset, "contract", what or f"{asset} meets its contract (GE suite)",
                 partial(_suite, asset, rules, list(index_columns)))


def _no_identifiers(asset: str) -> Check:
    return Check(asset, "no_identifiers", "No name, initial, DOB, CLIENTID, PNCID or ASN "
                 "column downstream of linkage (METHOD.md §6).",
                 lambda t: reconcile.no_identifiers(t.columns(asset)))


def _staging() -> list[Check]:
    checks = [contract(REJECTS_TABLE, rejects_suite(), _LINE)]
    for f in DELIVERY_FILES:
        table = STAGED_TABLES[f]
        checks.append(contract(table, staged_suite(f), _LINE))
        if f in WARN_RULES:
            checks.append(Check(table, "plausible", "Plausible values the contract does not "
                                "guarantee (kept by staging).",
                                partial(_suite, table, WARN_RULES[f], _LINE), blocking=False))
    return checks


def _analysis(*assets: str, identifiers: bool = True) -> list[Check]:
    checks = [contract(a, SUITES[a], INDEX_COLUMNS[a]) for a in assets]
    return checks + ([_no_identifiers(a) for a in assets] if identifiers else [])


def _with_families(layers: dict[str, list[Check]]) -> dict[str, list[Check]]:
    """The layers with each family's checks added to the layer it names."""
    merged = {name: list(checks) for name, checks in layers.items()}
    for family in _FAMILIES:
        for name, checks in family.CHECKS.items():
            if name in merged:  # a family may speak of layers of both kinds
                merged[name] += checks
    return merged


def _warnings_apart(layers: dict[str, list[Check]],
                    apart: dict[str, str]) -> dict[str, list[Check]]:
    """Each layer of `apart` with its warnings moved to a step of their own (the name
    given): a warning stops nothing, so the next stage need not wait for it (nationally
    the staged offences' plausibility rules took 5 s of the staging checks' 27)."""
    out = dict(layers)
    for layer, warnings_step in apart.items():
        out[layer] = [c for c in layers[layer] if c.blocking]
        out[warnings_step] = [c for c in layers[layer] if not c.blocking]
    return out


LAYERS = _warnings_apart(_with_families({
    "reference_checks": [contract(n, reference_suite(n), ["code"]) for n in REFERENCE_TABLES],
    "raw_checks": [contract(RAW_TABLES[f], raw_suite(f), _LINE) for f in DELIVERY_FILES],
    "staging_checks": _staging(),
    "linkage_input_checks": _analysis("client_identities", "pnc_identity_variants",
                                      identifiers=False),
    # a step of its own: in the linkage inputs' step it held the model back until the
    # episodes, which the model does not read, were written and checked
    "episodes_checks": _analysis("treatment_episodes"),
    "candidate_checks": _analysis("client_link_candidates", identifiers=False),
    "client_links_checks": _analysis("client_links", identifiers=False),
    # a step of its own: with the links' checks it held the other rules' offences back
    # until the links, which they do not read, were written and checked
    "alternatives_checks": _analysis("linkage_alternatives"),
    "handover_checks": _analysis("client_link_status", "linked_offences",
                                 "alternative_linked_offences"),
    "journeys_checks": _analysis("treatment_journeys"),
}), {"staging_checks": "staging_warnings"})
PARTITIONED_LAYERS = _with_families({
    "cohort_checks": _analysis("cohort_funnel", "cohort_members",
                               "cohort_convictions_by_group"),
    "outcome_checks": _analysis("outcome_table"),
    "replication_checks": _analysis("replication", "linkage_sensitivity"),
    "comparison_checks": [_no_identifiers(a) for a in ("comparison_outcomes",
                                                         "comparison_balance")],
})
_unknown = {n for f in _FAMILIES for n in f.CHECKS} - set(LAYERS) - set(PARTITIONED_LAYERS)
if _unknown:
    raise ValueError(f"checks declared for layers that do not exist: {sorted(_unknown)}")


def layer_definitions() -> list:
    """The layers as Dagster multi-asset checks."""
    return [layer_checks(n, c) for n, c in LAYERS.items()] + [
        layer_checks(n, c, partitioned=True) for n, c in PARTITIONED_LAYERS.items()
    ]
