"""Initials compared without accents and case (METHOD.md §3)."""

import pandas as pd
import pytest

from dagster_project.linkage.names import first_forename_initial, initial_of, is_single_letter


@pytest.mark.parametrize(
    ("name", "initial"),
    [
        ("Émile", "E"),
        ("O'Brien", "O"),
        ("Zoë", "Z"),
        ("Øystein", "O"),
        ("øystein", "O"),
        ("Łukasz", "L"),
        ("łukasz", "L"),
        ("Æthelred", "A"),
        ("æthelred", "A"),
        ("Œuvre", "O"),
        ("ßa", "S"),
        ("Þóra", "T"),
        ("Đorđe", "D"),
        ("-Smith", "S"),
        ("smith", "S"),
        ("e\u0301mile", "E"),  # decomposed accent: the base letter comes first
        ("\u0301x", "X"),  # a stray combining mark is not a letter
        ("'  ärger", "A"),
        ("½ Ⅻ", "X"),  # NFKD turns the Roman numeral into letters
    ],
)
def test_initial_of(name, initial):
    assert initial_of(pd.Series([name])).tolist() == [initial]


@pytest.mark.parametrize("name", ["123", "", "  ", "-'", None])
def test_initial_missing_without_a_letter(name):
    assert initial_of(pd.Series([name], dtype="str")).isna().all()


def test_initial_of_keeps_index_and_order():
    names = pd.Series(["zoë", None, "Émile", "'Ann"], index=[7, 3, 5, 1])
    initials = initial_of(names)
    assert initials.index.tolist() == [7, 3, 5, 1]
    assert initials.tolist()[0] == "Z" and pd.isna(initials[3])
    assert initials.tolist()[2:] == ["E", "A"]


def test_first_forename_initial():
    forenames = pd.Series([" John  Paul", "mary ann", "\u00a0Zoë", "", None, "123 John"])
    initials = first_forename_initial(forenames)
    assert initials.tolist()[:3] == ["J", "M", "Z"]
    # the first forename holds no letter: no initial, not that of the next forename
    assert initials.iloc[3:].isna().all()


def test_is_single_letter():
    initials = pd.Series(["J", "j", "JO", "1", "É", "", None], dtype="str")
    assert is_single_letter(initials).tolist() == [True, True, False, False, False, False, False]
