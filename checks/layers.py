"""Every stage's checks, one multi-asset check (one step) per layer of the asset graph.

Exports `LAYERS` (layer name -> checks) and `layer_definitions()`.
"""

from functools import partial

# the modules themselves, not `from checks import …`: checks/__init__ imports this module
import checks.reconcile as reconcile
import checks.soft as soft
from checks.comparison import comparison_checks
from checks.disclosure import disclosure_audit
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
from checks.thresholds import THRESHOLDS
from dagster_project.accounting import rejected_by_file
from dagster_project.partitions import COHORT_YEAR_KEYS
from dagster_project.reference import REFERENCE_TABLES
from dagster_project.schemas import DELIVERY_FILES, RAW_TABLES, REJECTS_TABLE, STAGED_TABLES
from dagster_project.staging import unknown_code_counts

_LINE = ["source_file", "line_number"]


def _suite(table: str, rules, index_columns, tables: Tables):
    # only the columns the rules read are loaded; table-level rules get the column names
    present = tables.columns(table)
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


def _reject_share(file_name: str, tables: Tables):
    wh = tables.warehouse
    rejected = rejected_by_file(wh).get(file_name, 0)
    ceiling = THRESHOLDS.reject_share_ceiling
    return [soft.reject_share(file_name, wh.row_count(RAW_TABLES[file_name]), int(rejected),
                              ceiling)]


_CODED = {"staged_ndtms_episodes": ["rfls", "drug1", "drug2", "drug3", "disrsn"],
          "staged_pnc_offences": ["cjs_code"]}


def _unknown_codes(table: str, tables: Tables):
    staged = tables.read(table, columns=_CODED[table])
    share = tables.settings.unknown_code_warn_share
    return [soft.unknown_code_shares(unknown_code_counts(staged), len(staged), share)]


def _staging() -> list[Check]:
    checks = [contract(REJECTS_TABLE, rejects_suite(), _LINE)]
    for f in DELIVERY_FILES:
        table = STAGED_TABLES[f]
        checks += [
            contract(table, staged_suite(f), _LINE),
            Check(table, "reject_share", f"Rejected rows of {f} at most "
                  f"{THRESHOLDS.reject_share_ceiling:.0%}: above it the delivery is unusable.",
                  partial(_reject_share, f), deps=(RAW_TABLES[f], REJECTS_TABLE)),
        ]
        if f in WARN_RULES:
            checks.append(Check(table, "plausible", "Plausible values the contract does not "
                                "guarantee (kept by staging).",
                                partial(_suite, table, WARN_RULES[f], _LINE), blocking=False))
        if f in ("ndtms_episodes.csv", "pnc_offences.csv"):
            checks.append(Check(table, "unknown_codes", "Share of codes the reference lacks, "
                                "per field, at most settings.unknown_code_warn_share.",
                                partial(_unknown_codes, table), blocking=False))
    return checks


def _analysis(*assets: str, identifiers: bool = True) -> list[Check]:
    checks = [contract(a, SUITES[a], INDEX_COLUMNS[a]) for a in assets]
    return checks + ([_no_identifiers(a) for a in assets] if identifiers else [])


def _previous_year(key: str) -> str | None:
    at = COHORT_YEAR_KEYS.index(key)
    return COHORT_YEAR_KEYS[at - 1] if at else None


def _drift(tables: Tables):
    before = _previous_year(tables.partition)
    previous = tables.read("cohort_funnel", before) if before else None
    return [soft.link_share_drift(tables.read("cohort_funnel"), previous,
                                  THRESHOLDS.link_share_drift)]


def _cohort() -> list[Check]:
    funnel, members = "cohort_funnel", "cohort_members"
    return _analysis(funnel, members, "cohort_convictions_by_group") + [
        Check(funnel, "reconciles", "Funnel monotone, link statuses add up, cohort stage = "
              "rows of cohort_members (on the cells shown).",
              lambda t: reconcile.funnel_reconciles(t.read(funnel), t.read(members)),
              deps=(members,)),
        Check("cohort_convictions_by_group", "sums_to_members", "Convictions by offence group "
              "sum to each member's before and after.",
              lambda t: reconcile.by_group_sums(t.read(members),
                                                t.read("cohort_convictions_by_group")),
              deps=(members,)),
        Check(funnel, "link_share_drift", "Link-status shares within "
              f"{THRESHOLDS.link_share_drift:.0%} points of the previous cohort year.",
              _drift, blocking=False),
        Check(funnel, "link_share_bounds", "Link-status shares of adult starters within "
              "plausible bounds.", lambda t: [soft.link_share_bounds(
                  t.read(funnel), THRESHOLDS.link_share_bounds)], blocking=False),
    ]


def _disclosure(tables: Tables):
    return disclosure_audit(
        tables.read("outcome_table"), tables.read("cohort_funnel"),
        tables.read("cohort_members"), tables.read("cohort_convictions_by_group"),
        tables.settings.disclosure_threshold)


def _outcomes() -> list[Check]:
    low, high = THRESHOLDS.reduction_bounds
    return _analysis("outcome_table") + [
        Check("outcome_table", "all_row_reconciles", "The `all` row equals the sums over "
              "cohort_members (cells shown).", lambda t: reconcile.all_row_reconciles(
                  t.read("outcome_table"), t.read("cohort_members")),
              deps=("cohort_members",)),
        Check("outcome_table", "disclosure_audit", "Nothing published for the cohort year "
              "(outcome table and funnel) shows fewer than the threshold's persons or lets a "
              "suppressed cell be recovered to within it (linear-programming bounds, METHOD.md "
              "§6).", _disclosure, deps=("cohort_funnel", "cohort_members",
                                         "cohort_convictions_by_group")),
        Check("outcome_table", "plausible_reduction", f"Overall reduction between {low:.0%} "
              f"and {high:.0%}.", lambda t: [soft.plausible_reduction(
                  t.read("outcome_table"), low, high)], blocking=False),
    ]


LAYERS = {
    "reference_checks": [contract(n, reference_suite(n), ["code"]) for n in REFERENCE_TABLES],
    "raw_checks": [contract(RAW_TABLES[f], raw_suite(f), _LINE) for f in DELIVERY_FILES],
    "staging_checks": _staging(),
    "linkage_input_checks": _analysis("client_identities", "pnc_identity_variants",
                                      identifiers=False)
    + _analysis("treatment_episodes"),
    "candidate_checks": _analysis("client_link_candidates", identifiers=False),
    "client_links_checks": _analysis("client_links", identifiers=False)
    + _analysis("linkage_alternatives"),
    "handover_checks": _analysis("client_link_status", "linked_offences",
                                 "alternative_linked_offences"),
    "journeys_checks": _analysis("treatment_journeys"),
}
PARTITIONED_LAYERS = {
    "cohort_checks": _cohort(),
    "outcome_checks": _outcomes(),
    "replication_checks": _analysis("replication", "linkage_sensitivity"),
    "comparison_checks": comparison_checks()
    + [_no_identifiers(a) for a in ("comparison_outcomes", "comparison_balance")],
}


def layer_definitions() -> list:
    """The layers as Dagster multi-asset checks."""
    return [layer_checks(n, c) for n, c in LAYERS.items()] + [
        layer_checks(n, c, partitioned=True) for n, c in PARTITIONED_LAYERS.items()
    ]
