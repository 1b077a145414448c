"""Disclosure control (METHOD.md §6): small cells suppressed, and not recoverable from totals."""

import numpy as np
import pandas as pd

from dagster_project.cohort import (
    outcome_table,
    publish_funnel,
    publish_outcome_table,
    suppress,
    to_published_text,
)
from dagster_project.settings import Settings

SETTINGS = Settings()
PERSON_COUNTS = ["n", "persons_before", "persons_after"]


def dimension_table(groups: dict[str, int]) -> pd.DataFrame:
    """A one-dimension table whose groups add up to the `all` row."""
    rows = [("all", "all", sum(groups.values()))] + [("d", g, n) for g, n in groups.items()]
    return pd.DataFrame(rows, columns=["dimension", "group", "n"])


def relations_of(table: pd.DataFrame):
    total = table.index[table["dimension"] == "all"][0]
    return [(total, list(table.index[table["dimension"] == "d"]))]


def test_counts_below_the_threshold_are_suppressed_zero_included():
    table = pd.DataFrame({"stage": list("abcd"), "persons": [0, 4, 5, 120]})
    published = suppress(table, ["persons"], 5)
    assert published["persons"].isna().tolist() == [True, True, False, False]
    assert published["suppressed"].tolist() == [True, True, False, False]
    assert published["persons"].dtype == "Int64"


def test_one_suppressed_group_takes_the_next_smallest_with_it():
    table = dimension_table({"x": 3, "y": 10, "z": 20, "w": 12})
    published = suppress(table, ["n"], 5, relations=relations_of(table)).set_index("group")
    assert published["n"].isna().to_dict() == {"all": False, "x": True, "y": True, "z": False,
                                               "w": False}


def test_no_secondary_suppression_when_two_groups_are_already_hidden_or_parts_do_not_add_up():
    two_small = dimension_table({"x": 3, "y": 2, "z": 20})
    published = suppress(two_small, ["n"], 5, relations=relations_of(two_small))
    assert published["n"].isna().sum() == 2
    overlapping = dimension_table({"x": 3, "y": 10, "z": 20})
    overlapping.loc[0, "n"] = 40  # persons may be in several groups: no sum to recover from
    published = suppress(overlapping, ["n"], 5, relations=relations_of(overlapping))
    assert published["n"].isna().sum() == 1


def test_funnel_small_ambiguous_count_cannot_be_recovered():
    funnel = pd.DataFrame({
        "stage": ["starters", "adult_starters", "matched", "absent", "ambiguous",
                  "study_population", "cohort"],
        "persons": [120, 100, 60, 37, 3, 97, 40],
    })
    published = publish_funnel(funnel, 5).set_index("stage")["persons"]
    assert pd.isna(published["ambiguous"])
    # neither adult − study nor adult − matched − absent gives it away
    assert pd.isna(published["study_population"]) or pd.isna(published["adult_starters"])
    assert published[["matched", "absent"]].isna().any()
    assert published["cohort"] == 40


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


def test_published_outcome_tables_show_no_small_cell_and_no_lone_suppression():
    for seed in range(5):
        frame, groups = random_members(seed, 60)
        published = publish_outcome_table(outcome_table(frame, groups, SETTINGS), 5)
        for column in PERSON_COUNTS:
            shown = published[column].dropna()
            assert (shown >= 5).all(), (seed, column)
        everyone = published[published["dimension"] == "all"].iloc[0]
        for dimension in ["age_band", "sex", "drug_group", "exit_group"]:
            rows = published[published["dimension"] == dimension]
            for column in ["n", "before", "after"]:
                hidden = rows[column].isna().sum() + pd.isna(everyone[column])
                assert hidden != 1, (seed, dimension, column)


def test_small_rows_lose_every_figure_and_small_window_counts_lose_their_figures():
    frame, groups = random_members(1, 60)
    table = outcome_table(frame, groups, SETTINGS)
    published = publish_outcome_table(table, 5)
    small = table["n"] < 5
    assert small.any()
    figures = ["n", "before", "after", "reduction", "ci_low", "rate_after", "persons_after"]
    assert published.loc[small, figures].isna().all().all()
    few_after = (table["persons_after"] < 5) & ~small
    assert published.loc[few_after, ["after", "reduction", "rate_after"]].isna().all().all()


def test_published_text_renders_stars_for_suppressed_cells_only():
    table = dimension_table({"x": 3, "y": 10, "z": 20}).assign(reduction=[0.2, np.nan, np.nan, 0.1])
    text = to_published_text(
        suppress(table, ["n"], 5, dependents={"n": ["reduction"]}, relations=relations_of(table))
    ).set_index("group")
    assert text.loc["x", "n"] == "*" and text.loc["x", "reduction"] == "*"
    assert text.loc["y", "n"] == "*"
    assert text.loc["z", "n"] == "20" and text.loc["z", "reduction"] == "0.1"
    assert text.loc["all", "reduction"] == "0.2"
