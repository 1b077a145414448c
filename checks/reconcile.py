"""Reconciliation across stages (pure functions over DataFrames → `Outcome`s).

The published funnel and outcome table are disclosure-controlled: a suppressed cell is
missing. Identities are checked on the cells that are shown; the cohort members table is
complete, so what can be recomputed from it is compared with what is shown.

Each rule and its check (`CHECKS`, by layer) live here together: adding one touches this
module only.

Exports `funnel_reconciles`, `by_group_sums`, `all_row_reconciles`, `no_identifiers`,
`IDENTIFIER_COLUMNS`, `CHECKS`.
"""

import pandas as pd

from checks.framework import Check
from checks.rules import Outcome
from dagster_project.vocabulary.link_status import LINK_STATUSES, STUDY_STATUSES

IDENTIFIER_COLUMNS = (
    "finitial", "sinitial", "dob", "clientid", "pncid", "surname", "forenames", "asn",
)
_ORDER = ("starters", "adult_starters", "study_population", "cohort")


def _identity(rule: str, total, parts: list) -> Outcome:
    """`total = sum(parts)` when every cell is shown; passes (unverifiable) otherwise."""
    if pd.isna(total) or any(pd.isna(p) for p in parts):
        return Outcome(rule, True, observed="a cell is suppressed: not verifiable")
    return Outcome(rule, total == sum(parts), int(total != sum(parts)),
                   observed=f"{int(total)} vs {int(sum(parts))}")


def funnel_reconciles(funnel: pd.DataFrame, members: pd.DataFrame) -> list[Outcome]:
    """The funnel is monotone, its link statuses add up, its cohort is `cohort_members`."""
    persons = funnel.set_index("stage")["persons"]
    shown = persons.reindex(list(_ORDER)).dropna()
    falls = [f"{a} < {b}" for a, b in zip(shown.index, shown.index[1:], strict=False)
             if shown[a] < shown[b]]
    cohort = persons.get("cohort")
    counted = members["link_status"].value_counts()
    over = [s for s in STUDY_STATUSES
            if pd.notna(persons.get(s)) and counted.get(s, 0) > persons[s]]
    return [
        Outcome("funnel monotone: starters ≥ adult_starters ≥ study_population ≥ cohort",
                not falls, len(falls), tuple(falls)),
        _identity("adult_starters = matched + absent + ambiguous", persons.get("adult_starters"),
                  [persons.get(s) for s in LINK_STATUSES]),
        _identity("study_population = matched + absent", persons.get("study_population"),
                  [persons.get(s) for s in STUDY_STATUSES]),
        _identity("cohort stage = rows of cohort_members", cohort, [len(members)]),
        Outcome("cohort members of each link status ≤ the funnel's count", not over,
                len(over), tuple(over)),
    ]


def by_group_sums(members: pd.DataFrame, by_group: pd.DataFrame) -> list[Outcome]:
    """Per member, convictions by offence group sum to the member's before and after."""
    sums = by_group.groupby("person_key")[["before", "after"]].sum()
    joined = members.set_index("person_key")[["before", "after"]].join(
        sums, rsuffix="_by_group", how="outer").fillna(0)
    wrong = joined.index[(joined["before"] != joined["before_by_group"])
                         | (joined["after"] != joined["after_by_group"])]
    return [Outcome("convictions by offence group sum to each member's before and after",
                    len(wrong) == 0, len(wrong), tuple(map(str, wrong[:10])))]


def all_row_reconciles(outcomes: pd.DataFrame, members: pd.DataFrame) -> list[Outcome]:
    """The `all` row equals the sums over `cohort_members` (cells that are shown)."""
    rows = outcomes[outcomes["dimension"].eq("all")]
    if len(rows) != 1:
        return [Outcome("one `all` row", False, abs(len(rows) - 1), observed=f"{len(rows)} rows")]
    row = rows.iloc[0]
    expected = {
        "n": len(members), "before": members["before"].sum(), "after": members["after"].sum(),
        "persons_before": (members["before"] > 0).sum(),
        "persons_after": (members["after"] > 0).sum(),
    }
    wrong = [c for c, v in expected.items()
             if c in row.index and pd.notna(row[c]) and int(row[c]) != int(v)]
    return [Outcome("`all` row of outcome_table = sums over cohort_members", not wrong,
                    len(wrong), tuple(wrong))]


def no_identifiers(columns) -> list[Outcome]:
    """None of the identifier columns (METHOD.md §6) downstream of linkage."""
    found = sorted(set(columns) & set(IDENTIFIER_COLUMNS))
    return [Outcome("no identifier column (names, initials, DOB, CLIENTID, PNCID, ASN)",
                    not found, len(found), tuple(found))]


_MEMBERS = "cohort_members"
CHECKS = {
    "cohort_checks": [
        Check("cohort_funnel", "reconciles", "Funnel monotone, link statuses add up, cohort "
              "stage = rows of cohort_members (on the cells shown).",
              lambda t: funnel_reconciles(t.read("cohort_funnel"), t.read(_MEMBERS)),
              deps=(_MEMBERS,)),
        Check("cohort_convictions_by_group", "sums_to_members", "Convictions by offence group "
              "sum to each member's before and after.",
              lambda t: by_group_sums(t.read(_MEMBERS), t.read("cohort_convictions_by_group")),
              deps=(_MEMBERS,)),
    ],
    "outcome_checks": [
        Check("outcome_table", "all_row_reconciles", "The `all` row equals the sums over "
              "cohort_members (cells shown).", lambda t: all_row_reconciles(
                  t.read("outcome_table"), t.read(_MEMBERS)), deps=(_MEMBERS,)),
    ],
}
