"""Linkage sensitivity (METHOD.md §7): rules side by side must not publish, by subtraction,
the convictions of the few persons a rule moves in or out; and the report shows the table
through its disclosure gate."""

import numpy as np
import pandas as pd

from dagster_project.analysis.sensitivity import (
    _integer_keys,
    _suppress_differences,
    sensitivity_rules,
)
from dagster_project.report.sections import sensitivity_section
from dagster_project.settings import Settings


def _rows(n_by_rule: dict, study: dict) -> pd.DataFrame:
    return pd.DataFrame([
        {"method": method, "match_threshold": threshold, "dimension": "all", "group": "all",
         "study_population": study[(method, threshold)], "cohort": n, "n": n,
         "before": 3 * n, "after": 2 * n, "reduction": 1 / 3, "ci_low": 0.3, "ci_high": 0.36,
         "share": np.nan, "suppressed": False, "suppressed_cells": "",
         "suppressed_by_difference": False}
        for (method, threshold), n in n_by_rule.items()
    ])


def test_rows_a_few_persons_apart_are_blanked_and_the_configured_rule_stands():
    n = {("deterministic", np.nan): 100, ("probabilistic", 0.9): 103,
         ("probabilistic", 0.95): 101, ("probabilistic", 0.99): 140}
    study = {("deterministic", np.nan): 1000, ("probabilistic", 0.9): 1200,
             ("probabilistic", 0.95): 1202, ("probabilistic", 0.99): 1100}
    table = _suppress_differences(_rows(n, study), Settings())
    by_rule = table.set_index(["method", "match_threshold"])
    configured = by_rule.loc[("probabilistic", 0.95)]
    assert configured["n"] == 101 and not configured["suppressed_by_difference"]
    # 100 and 103 are 1 and 2 persons from the configured 101: their sums would show them
    for rule in [("deterministic", np.nan), ("probabilistic", 0.9)]:
        row = table[(table["method"] == rule[0]) & (
            table["match_threshold"].isna() if rule[0] == "deterministic"
            else np.isclose(table["match_threshold"], rule[1]))].iloc[0]
        assert row["suppressed_by_difference"] and pd.isna(row["before"]), rule
        assert "before" in row["suppressed_cells"].split(",")
    far = by_rule.loc[("probabilistic", 0.99)]
    assert far["n"] == 140 and not far["suppressed_by_difference"]
    # 1,200 study persons are 2 from 1,202: the count of clients the rule moved is hidden
    assert pd.isna(by_rule.loc[("probabilistic", 0.9), "study_population"])


def test_every_rule_of_the_settings_is_compared():
    rules = sensitivity_rules(Settings())
    assert rules[0] == ("deterministic", None)
    assert [t for _, t in rules[1:]] == [0.80, 0.90, 0.95, 0.99, 0.999]


def test_the_report_shows_blanked_rows_as_suppressed():
    n = {("deterministic", np.nan): 100, ("probabilistic", 0.95): 102}
    study = {("deterministic", np.nan): 1000, ("probabilistic", 0.95): 1300}
    html = sensitivity_section(_suppress_differences(_rows(n, study), Settings()))
    assert "NTA rule" in html and "threshold 0.95" in html
    assert "*" in html and ">306<" in html  # the configured rule's before: 3 × 102
    assert ">300<" not in html  # the NTA rule's before is blanked


def test_a_cohort_count_suppressed_under_one_rule_is_blank_beside_the_others():
    # one rule's funnel suppressed its cohort count (NA); the rest are counts (found in CI)
    n = {("deterministic", np.nan): 100, ("probabilistic", 0.95): 140}
    study = {("deterministic", np.nan): 1000, ("probabilistic", 0.95): 1100}
    rows = _rows(n, study)
    rows["cohort"] = pd.Series([pd.NA, 140], dtype=object)
    rows[["n", "before", "after"]] = rows[["n", "before", "after"]].astype("Int64")
    table = _suppress_differences(rows, Settings()).set_index(["method", "match_threshold"])
    assert pd.isna(table.loc[("deterministic", np.nan), "cohort"])
    assert table.loc[("probabilistic", 0.95), "cohort"] == 140
    assert table.loc[("deterministic", np.nan), "n"] == 100


def test_keys_become_ranks_that_sort_join_and_miss_as_the_text_does():
    journeys = pd.DataFrame({"person_key": pd.Series(["c9", "a1", "b5", "a1"], dtype="str")})
    alternatives = pd.DataFrame({
        "person_key": pd.Series(["b5", "zz", "a1"], dtype="str"),
        "pnc_key": pd.Series(["p2", None, "p1"], dtype="str")})
    offences = pd.DataFrame({"pnc_key": pd.Series(["p1", "p3", "p2"], dtype="str")})
    j, a, o = _integer_keys(journeys, alternatives, offences)
    # one rank per distinct key across the tables, in the text's order
    assert j["person_key"].tolist() == [2, 0, 1, 0]
    assert a["person_key"].tolist() == [1, 3, 0]
    assert a["pnc_key"].isna().tolist() == [False, True, False]
    assert a["pnc_key"].dropna().tolist() == [1, 0]
    assert o["pnc_key"].tolist() == [0, 2, 1]
    # a join on ranks pairs the same rows as a join on the text
    text = alternatives.merge(offences.reset_index(), on="pnc_key")["index"].tolist()
    ranks = a.merge(o.reset_index(), on="pnc_key")["index"].tolist()
    assert sorted(text) == sorted(ranks) == [0, 2]
