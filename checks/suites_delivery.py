"""Suites of the delivery's stages: reference code lists, raw tables, staged tables, rejects.

A suite states the contract its stage guarantees (EXTRACTS.md, METHOD.md §9): what staging
rejects can never be in a staged table, so any breach here is a defect of the pipeline or of
the reference data, and blocks. Value sets come from the reference tables themselves.

Exports `reference_suite`, `raw_suite`, `staged_suite`, `rejects_suite`, `WARN_RULES`.
"""

from functools import cache

from checks.rules import Rule, between, columns_exist, in_set, not_before, not_null, types, unique
from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.delivery.schemas import (
    DELIVERY_FILES,
    PROVENANCE_COLUMNS,
    REJECT_COLUMNS,
    STAGED_COLUMNS,
)

NDTMS_SEX = ("1", "2", "9")
PNC_OUTCOMES = ("C", "A", "W", "K", "P")
_FAMILY = {"str": "text", "date": "date", "Int64": "integer", "bool": "bool"}


@cache
def codes(table: str, column: str) -> frozenset[str]:
    """The values of a reference table's column: the value sets of the suites."""
    return frozenset(load_reference(table)[column])


def reference_suite(name: str) -> list[Rule]:
    """A code list: its key present and unique (a repeated code would classify twice)."""
    key = REFERENCE_TABLES[name][1]
    rules = [not_null(key), unique(key)]
    if name == "offence_codes":
        rules += [types({"trigger": "bool"}), not_null("offence_group")]
    return rules


def raw_suite(file_name: str) -> list[Rule]:
    """A raw table: every contract column as text, each row placed by file and line."""
    from dagster_project.delivery.schemas import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    delivered = [c.lower() for c in REQUIRED_COLUMNS[file_name] + OPTIONAL_COLUMNS[file_name]]
    return [
        columns_exist(delivered + PROVENANCE_COLUMNS),
        types({c: "text" for c in delivered} | {"line_number": "integer"}),
        in_set("source_file", [file_name], "the file it was read from"),
        not_null("extract_date"),
        not_null("line_number"),
        unique("line_number"),
    ]


def _episode_rules() -> list[Rule]:
    routes = codes("referral_sources", "route")
    classes = codes("drug_codes", "drug_class") | {"unknown"}
    exits = codes("discharge_reasons", "exit_group") | {"other"}
    return [
        *(not_null(c) for c in ("agncy", "episodid", "triaged", "dob", "sex")),
        in_set("sex", NDTMS_SEX, "NDTMS sex codes"),
        unique("agncy", "episodid"),
        not_before("disd", "triaged"),
        not_before("triaged", "dob"),
        in_set("referral_route", routes, "referral_sources.route"),
        *(in_set(f"drug{i}_class", classes, "drug_codes.drug_class") for i in (1, 2, 3)),
        in_set("exit_group", exits, "discharge_reasons.exit_group"),
        between("modal", 1, 12),
    ]


def _offence_rules() -> list[Rule]:
    needs_date = not_null("outcome_date")
    return [
        not_null("pncid"), not_null("offence_start"), not_null("outcome"),
        in_set("outcome", PNC_OUTCOMES, "PNC outcome codes"),
        needs_date.when("outcome", ("C", "K"), wording="for OUTCOME C or K"),
        unique("asn", "offence_seq"),
        in_set("offence_group", codes("offence_codes", "offence_group") | {"unknown"},
               "offence_codes.offence_group"),
        between("custody_days", 0, None),
    ]


def staged_suite(file_name: str) -> list[Rule]:
    """A staged table: typed columns, keys unique, codes mapped into the reference's sets."""
    contract = STAGED_COLUMNS[file_name]
    rules = [
        columns_exist(list(contract) + PROVENANCE_COLUMNS),
        types({c: _FAMILY[t] for c, t in contract.items()}),
        not_null("line_number"),
    ]
    if file_name == "ndtms_episodes.csv":
        return rules + _episode_rules()
    if file_name == "pnc_offences.csv":
        return rules + _offence_rules()
    if file_name == "pnc_nominals.csv":
        return rules + [not_null("pncid"), unique("pncid")]
    return rules + [not_null("pncid")]  # aliases: a nominal may have many


def rejects_suite() -> list[Rule]:
    """The rejects: each names its file, line and rule; a delivered line is rejected once."""
    return [
        columns_exist(REJECT_COLUMNS),
        in_set("source_file", DELIVERY_FILES, "the delivery's files"),
        not_null("line_number"), not_null("reason"),
        unique("source_file", "line_number"),
    ]


# Plausibility, not contract: staging keeps these rows (METHOD.md §9 does not reject them),
# so they warn. Keyed by staged file.
WARN_RULES = {
    "ndtms_episodes.csv": [not_before("modend", "modst")],
    "pnc_offences.csv": [
        not_before("outcome_date", "offence_start"), not_before("offence_end", "offence_start"),
        not_null("outcome_date").when("outcome", ("P",), negate=True,
                                      wording="unless OUTCOME P (EXTRACTS.md)"),
    ],
}
