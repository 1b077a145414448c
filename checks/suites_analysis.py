"""Suites of the stages after staging: linkage, journeys, cohort and outcomes (METHOD.md §3–§8).

Exports `SUITES` (asset -> rules), `INDEX_COLUMNS` (asset -> columns that locate a failing
row without identifying anyone).
"""

from checks.rules import Rule, between, columns_exist, in_set, not_before, not_null, types, unique
from checks.suites_delivery import NDTMS_SEX, codes
from dagster_project.cohort.attributes import AGE_BANDS, DRUG_GROUPS, RETENTION_BANDS
from dagster_project.cohort.outcomes import DIMENSIONS
from dagster_project.settings import LINKAGE_METHODS
from dagster_project.vocabulary.link_status import (
    FUNNEL_STAGES,
    LINK_STATUSES,
    MATCHED,
    STUDY_STATUSES,
)
from dagster_project.vocabulary.partition import PARTITION_COLUMN

MEMBER_COLUMNS = [
    "person_key", "link_status", "age_band", "sex", "drug_group", "referral_route",
    "retention_days", "retention_band", "exit_group", "reentered", "before", "after",
    "after_post_exit", "custody_days_before", "custody_days_after",
]


def _linkage() -> dict[str, list[Rule]]:
    status = in_set("link_status", LINK_STATUSES, "METHOD.md §3")
    probability = between("match_probability", 0, 1)
    return {
        "client_identities": [
            unique("finitial", "sinitial", "dob", "sex"), not_null("dob"),
            in_set("sex", NDTMS_SEX, "NDTMS sex codes"), types({"linkable": "bool"}),
        ],
        "pnc_identity_variants": [not_null("pncid"), in_set("source", ["nominal", "alias"])],
        "client_links": [
            columns_exist(["person_key", "link_status", "pncid", "match_probability", "method"]),
            not_null("person_key"), unique("person_key"), status, probability,
            in_set("method", LINKAGE_METHODS),
            not_null("pncid").when("link_status", [MATCHED], wording="when matched"),
            Rule("pncid empty", "ExpectColumnValuesToBeNull", {"column": "pncid"}).when(
                "link_status", [MATCHED], negate=True, wording="unless matched"),
            # nulls are skipped: this is "no PNC person linked to two clients"
            Rule("no PNC person linked to two clients", "ExpectColumnValuesToBeUnique",
                 {"column": "pncid"}),
        ],
        "treatment_episodes": [
            not_null("person_key"), unique("agncy", "episodid"), not_null("triaged"),
            between("age_at_triage", 0, 120), not_before("disd", "triaged"),
        ],
        "client_link_candidates": [
            not_null("person_key"), not_null("pncid"), unique("person_key", "pncid"),
            probability,
        ],
        "linkage_alternatives": [
            not_null("person_key"), status, in_set("method", LINKAGE_METHODS),
            unique("method", "match_threshold", "person_key"),
            not_null("pnc_key").when("link_status", [MATCHED], wording="when matched"),
        ],
        "alternative_linked_offences": [not_null("pnc_key"), not_null("offence_start")],
        "client_link_status": [not_null("person_key"), unique("person_key"), status,
                               probability],
        "linked_offences": [
            not_null("person_key"), not_null("offence_start"), types({"trigger": "bool"}),
        ],
    }


def _journeys() -> list[Rule]:
    exits = codes("discharge_reasons", "exit_group") | {"other"}
    return [
        not_null("person_key"), unique("person_key", "journey_seq"), not_null("start"),
        not_before("end", "start"), between("episodes", 1, None),
        in_set("ending_exit_group", exits, "discharge_reasons.exit_group"),
        not_null("end").when("open", [False], wording="unless open"),
    ]


def _cohort() -> dict[str, list[Rule]]:
    exits = codes("discharge_reasons", "exit_group") | {"other", "retained"}
    counts = [between(c, 0, None) for c in ("after", "after_post_exit", "custody_days_before",
                                            "custody_days_after")]
    return {
        "cohort_funnel": [
            not_null(PARTITION_COLUMN), in_set("stage", FUNNEL_STAGES, "METHOD.md §8"),
            unique("stage"), between("persons", 0, None),
        ],
        "cohort_members": [
            columns_exist(MEMBER_COLUMNS), not_null("person_key"), unique("person_key"),
            in_set("link_status", list(STUDY_STATUSES), "the study population"),
            in_set("age_band", AGE_BANDS), in_set("sex", NDTMS_SEX),
            in_set("drug_group", DRUG_GROUPS),
            in_set("referral_route", codes("referral_sources", "route")),
            between("retention_days", 0, 730), in_set("retention_band", RETENTION_BANDS),
            in_set("exit_group", exits, "discharge_reasons.exit_group, retained, other"),
            # the cohort is who had a counted conviction before (METHOD.md §3)
            between("before", 1, None), *counts,
            not_before("after", "after_post_exit"),
        ],
        "cohort_convictions_by_group": [
            not_null("person_key"), unique("person_key", "offence_group"),
            in_set("offence_group", codes("offence_codes", "offence_group") | {"unknown"}),
            between("before", 0, None), between("after", 0, None),
        ],
    }


def _outcomes() -> dict[str, list[Rule]]:
    return {
        "outcome_table": [
            not_null(PARTITION_COLUMN), in_set("dimension", DIMENSIONS, "METHOD.md §5"),
            unique("dimension", "group"), between("n", 0, None),
            not_before("ci_high", "ci_low"), between("reduction", None, 1),
        ],
        "replication": [not_null("id"), unique("id"), not_null("figure")],
        "linkage_sensitivity": [
            not_null(PARTITION_COLUMN), in_set("method", LINKAGE_METHODS),
            in_set("dimension", DIMENSIONS, "METHOD.md §5"),
            unique("method", "match_threshold", "dimension", "group"),
            between("n", 0, None), between("reduction", None, 1),
            not_before("ci_high", "ci_low"),
        ],
    }


SUITES: dict[str, list[Rule]] = {**_linkage(), "treatment_journeys": _journeys(),
                                 **_cohort(), **_outcomes()}
_PERSON = ["person_key"]
INDEX_COLUMNS = {
    **{name: _PERSON for name in SUITES},
    "client_identities": [], "pnc_identity_variants": [],  # identifying: row positions only
    "treatment_journeys": ["person_key", "journey_seq"],
    "cohort_funnel": ["stage"], "outcome_table": ["dimension", "group"],
    "replication": ["id"],
    "client_link_candidates": [],  # restricted: row positions only
    "linkage_sensitivity": ["method", "match_threshold", "dimension", "group"],
}
