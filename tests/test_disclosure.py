"""Disclosure control (METHOD.md §6): small cells suppressed, and not recoverable from totals."""

import numpy as np
import pandas as pd
import pytest

from checks.disclosure import disclosure_audit
from dagster_project.cohort import (
    outcome_table,
    publish_funnel,
    publish_outcome_table,
    suppress,
    to_published_text,
)
from dagster_project.cohort.disclosure import OUTCOME_DEPENDENTS, disclosure_findings
from dagster_project.settings import Settings
from dagster_project.vocabulary.link_status import FUNNEL_STAGES

SETTINGS = Settings()
PERSON_COUNTS = ["n", "persons_before", "persons_after"]


def test_counts_below_the_threshold_are_suppressed_zero_included():
    table = pd.DataFrame({"stage": list("abcd"), "persons": [0, 4, 5, 120]})
    published = suppress(table, ["persons"], 5)
    assert published["persons"].isna().tolist() == [True, True, False, False]
    assert published["suppressed"].tolist() == [True, True, False, False]
    assert published["persons"].dtype == "Int64"


def funnel_of(persons: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"cohort_year": "2006-07", "stage": list(FUNNEL_STAGES),
                         "persons": persons})


def cohort_members(matched: int, absent: int = 0) -> pd.DataFrame:
    frame, _ = random_members(0, matched + absent)
    return frame.assign(link_status=["matched"] * matched + ["absent"] * absent)


def test_funnel_small_ambiguous_count_cannot_be_recovered():
    funnel = funnel_of([120, 100, 60, 37, 3, 97, 40])
    members = cohort_members(40)
    published = publish_funnel(funnel, 5, members)
    persons = published.set_index("stage")["persons"]
    assert pd.isna(persons["ambiguous"])
    # neither adult − study nor adult − matched − absent gives it away
    assert pd.isna(persons["study_population"]) or pd.isna(persons["adult_starters"])
    if pd.isna(persons["adult_starters"]):
        assert pd.isna(persons["starters"]) or pd.isna(persons[["matched", "absent"]]).any() \
            or persons["starters"] - persons["matched"] - persons["absent"] >= 3 + 5
    assert audit_of(members, funnel=published) == {"small": [], "recoverable": []}


def test_under_18_starters_are_not_starters_minus_adult_starters():
    # the worked leak: 3 under-18 starters = 100 − 97, though no row publishes them
    funnel = funnel_of([100, 97, 60, 30, 7, 90, 40])
    members = cohort_members(30, 10)
    assert audit_of(funnel=suppress(funnel, ["persons"], 5), members=members)["recoverable"]
    published = publish_funnel(funnel, 5, members).set_index("stage")["persons"]
    assert pd.isna(published["starters"]) or pd.isna(published["adult_starters"])
    if pd.isna(published["adult_starters"]):  # adult = matched + absent + ambiguous
        assert published[["matched", "absent", "ambiguous", "study_population"]].isna().any()
    assert not audit_of(funnel=publish_funnel(funnel, 5, members), members=members)[
        "recoverable"]


def audit_of(members, by_group=None, outcomes=None, funnel=None):
    by_group = by_groups_of(members) if by_group is None else by_group
    return disclosure_findings(outcomes, funnel, members, by_group, 5)


def by_groups_of(members: pd.DataFrame) -> pd.DataFrame:
    return members[["person_key", "before", "after"]].assign(offence_group="theft")


def worked_case() -> pd.DataFrame:
    """The issue's case: 120 members, 2 died (before 4), 8 retained two years (before 30)."""
    exits = ["died"] * 2 + ["retained"] * 8 + ["dropped_out"] * 60 + \
        ["successful_completion"] * 50
    before = [2, 2] + [3, 4, 4, 4, 4, 4, 4, 3] + [3] * 60 + [3] * 44 + [2] * 6
    frame = pd.DataFrame({
        "person_key": [f"p{i}" for i in range(120)], "link_status": "matched",
        "age_band": "30-34", "sex": ["1", "2"] * 60, "drug_group": "opiate_only",
        "referral_route": "self", "exit_group": exits, "before": before,
        "after": [1, 0] * 60, "reentered": False, "custody_days_before": 0,
        "custody_days_after": 0,
    })
    retained = frame["exit_group"] == "retained"
    frame["retention_days"] = np.where(retained, 730, 200)
    frame["retention_band"] = np.where(retained, "retained_2y", "6-12m")
    frame["exit_date"] = pd.to_datetime(np.where(retained, None, "2007-01-01"))
    frame["after_post_exit"] = 0
    return frame


def test_the_worked_leak_retained_2y_beside_a_suppressed_retained_is_closed():
    members = worked_case()
    table = outcome_table(members, by_groups_of(members), SETTINGS)
    assert table.set_index(["dimension", "group"]).loc[("all", "all"), "before"] == 358
    primary = suppress(table, PERSON_COUNTS, 5, dependents=OUTCOME_DEPENDENTS)
    found = audit_of(members, outcomes=primary)["recoverable"]
    assert any(("outcome_table", ("exit_group", "died"), "n") in cells for cells in found)
    published = publish_outcome_table(table, 5, members, by_groups_of(members))
    rows = published.set_index(["dimension", "group"])
    # the same persons under two dimensions are shown or hidden together
    for column in ["n", "before", "after"]:
        assert pd.isna(rows.loc[("exit_group", "retained"), column]) == pd.isna(
            rows.loc[("retention_band", "retained_2y"), column])
    # all − the exit groups shown − retained_2y no longer gives `died`
    exits = rows.loc["exit_group"]
    assert exits["n"].isna().sum() >= 2
    assert table.loc[(table["dimension"] == "exit_group").to_numpy()
                     & published["n"].isna().to_numpy(), "n"].sum() >= 5
    assert audit_of(members, outcomes=published) == {"small": [], "recoverable": []}


def test_several_suppressed_cells_adding_up_to_a_few_persons_take_another_with_them():
    members = worked_case()
    members.loc[10:13, "exit_group"] = ["custody", "other", "other", "transferred"]
    table = outcome_table(members, by_groups_of(members), SETTINGS)
    published = publish_outcome_table(table, 5, members, by_groups_of(members))
    hidden_exits = (table["dimension"] == "exit_group").to_numpy() & \
        published["n"].isna().to_numpy()
    # custody + other + transferred + died = 6 ≥ 5, but each is bounded by the hidden total
    assert table.loc[hidden_exits, "n"].sum() >= 5 + table.loc[hidden_exits, "n"].max() - 1
    assert audit_of(members, outcomes=published) == {"small": [], "recoverable": []}


def random_members(seed: int, size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pick = lambda values, p=None: rng.choice(values, size, p=p)  # noqa: E731
    retention = rng.integers(0, 731, size)
    left = retention < 730
    frame = pd.DataFrame({
        "person_key": [f"p{i}" for i in range(size)],
        "age_band": pick(["18-24", "25-29", "30-34", "50+"], [0.3, 0.3, 0.38, 0.02]),
        "sex": pick(["1", "2"], [0.8, 0.2]),
        "drug_group": pick(["opiate_only", "crack_only", "other"], [0.7, 0.27, 0.03]),
        "referral_route": pick(["self", "criminal_justice", "other"]),
        "retention_days": retention,
        "retention_band": np.where(left, pick(["<3m", "3-6m", "6-12m"]), "retained_2y"),
        "exit_group": np.where(left, pick(["dropped_out", "successful_completion", "died"],
                                          [0.6, 0.38, 0.02]), "retained"),
        "reentered": left & (rng.random(size) < 0.3),
        "before": rng.integers(1, 6, size), "after": rng.poisson(0.8, size),
        "custody_days_before": rng.integers(0, 50, size),
        "custody_days_after": rng.integers(0, 50, size),
        "exit_date": np.where(left, pd.Timestamp("2007-01-01"), pd.NaT),
    })
    frame["after_post_exit"] = np.where(left, frame["after"] // 2, 0)
    groups = frame[["person_key", "before", "after"]].assign(
        offence_group=pick(["theft", "burglary", "robbery"], [0.9, 0.08, 0.02]))
    return frame, groups


@pytest.mark.parametrize("seed", range(12))
def test_generated_small_cohorts_every_published_set_audited(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(20, 121))
    frame, groups = random_members(seed, size)
    frame["link_status"] = np.where(rng.random(size) < 0.8, "matched", "absent")
    counts = frame["link_status"].value_counts()
    under_18, ambiguous = int(rng.integers(0, 6)), int(rng.integers(0, 9))
    matched = int(counts.get("matched", 0)) + int(rng.integers(0, 30))
    absent = int(counts.get("absent", 0)) + int(rng.integers(0, 30))
    adults = matched + absent + ambiguous
    funnel = funnel_of([adults + under_18, adults, matched, absent, ambiguous,
                        matched + absent, size])
    table = outcome_table(frame, groups, SETTINGS)
    published_funnel = publish_funnel(funnel, 5, frame)
    published = publish_outcome_table(table, 5, frame, groups, published_funnel)
    # the funnel is published once, by the cohort stage: the outcome audit leaves it alone
    assert audit_of(frame, groups, published, published_funnel) == {"small": [],
                                                                     "recoverable": []}
    for column in PERSON_COUNTS:
        assert (published[column].dropna() >= 5).all()
    # an attack of its own: a partition of the cohort never leaves hidden cells adding up
    # to fewer than 5 persons (or to exactly one hidden cell)
    everyone = published[published["dimension"] == "all"].iloc[0]
    for dimension in ["age_band", "sex", "drug_group", "exit_group", "retention_band"]:
        part = (table["dimension"] == dimension).to_numpy()
        for column in ["n", "before", "after"]:
            hidden_rows = part & published[column].isna().to_numpy()
            if pd.isna(everyone[column]) or not hidden_rows.any():
                continue
            assert hidden_rows.sum() >= 2, (seed, dimension, column)
            if column == "n":
                assert table.loc[hidden_rows, "n"].sum() >= 5, (seed, dimension)


def test_small_rows_lose_every_figure_and_small_window_counts_lose_their_figures():
    frame, groups = random_members(1, 60)
    table = outcome_table(frame, groups, SETTINGS)
    frame["link_status"] = "matched"
    published = publish_outcome_table(table, 5, frame, groups)
    small = table["n"] < 5
    assert small.any()
    figures = ["n", "before", "after", "reduction", "ci_low", "rate_after", "persons_after"]
    assert published.loc[small, figures].isna().all().all()
    few_after = (table["persons_after"] < 5) & ~small
    assert published.loc[few_after, ["after", "reduction", "rate_after"]].isna().all().all()


def test_published_text_renders_stars_for_suppressed_cells_only():
    table = pd.DataFrame({"group": ["all", "x", "z"], "n": [23, 3, 20],
                          "reduction": [0.2, np.nan, 0.1]})
    text = to_published_text(
        suppress(table, ["n"], 5, dependents={"n": ["reduction"]})).set_index("group")
    assert text.loc["x", "n"] == "*" and text.loc["x", "reduction"] == "*"
    assert text.loc["z", "n"] == "20" and text.loc["z", "reduction"] == "0.1"
    assert text.loc["all", "reduction"] == "0.2"


def test_the_blocking_check_fails_on_each_defect_and_passes_on_the_published_tables():
    members = worked_case()
    groups = by_groups_of(members)
    funnel = publish_funnel(funnel_of([150, 140, 125, 10, 5, 135, 120]), 5, members)
    table = outcome_table(members, groups, SETTINGS)
    published = publish_outcome_table(table, 5, members, groups, funnel)

    def failed(outcomes_table):
        return [o.rule for o in disclosure_audit(outcomes_table, funnel, members, groups, 5)
                if not o.passed]

    assert failed(published) == []
    leaky = suppress(table, PERSON_COUNTS, 5, dependents=OUTCOME_DEPENDENTS)
    assert failed(leaky) == ["no suppressed or implicit cell recoverable to within the "
                             "threshold (LP bounds)"]
    small = published.copy()
    died = (small["dimension"] == "exit_group") & (small["group"] == "died")
    small.loc[died, "n"] = 2
    assert "no person count below the threshold is shown" in failed(small)
    wrong = published.copy()
    wrong.loc[wrong["dimension"] == "all", "before"] = 357
    assert failed(wrong) == ["published cells agree with the persons of their sets "
                             "(cohort_members)"]
    outcome = disclosure_audit(leaky, funnel, members, groups, 5)[2]
    assert "outcome_table exit_group:died n" in outcome.examples
