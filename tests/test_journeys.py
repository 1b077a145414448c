"""Treatment journeys (METHOD.md §1) and cohort years (§1, §2 maturity)."""

from datetime import date

import pandas as pd
import pytest

from dagster_project.cohort import (
    ImmatureCohortYear,
    check_mature,
    cohort_year_bounds,
    cohort_year_of,
    is_mature,
    required_extract_date,
    treatment_journeys,
)
from dagster_project.settings import Settings

SETTINGS = Settings()


def episodes(*rows: dict) -> pd.DataFrame:
    """Staged-like episodes; each row overrides a plain opiate user's first episode."""
    base = {
        "person_key": "p1", "agncy": "A1", "episodid": "E1", "sex": "1", "age_at_triage": 30,
        "triaged": "2006-06-01", "disd": None, "rfls": "4", "referral_route": "self",
        "drug1": "1011", "drug2": None, "drug3": None, "drug1_class": "opiate",
        "drug2_class": None, "drug3_class": None, "disrsn": None, "exit_group": None,
    }
    frame = pd.DataFrame([{**base, **row} for row in rows])
    for column in ("triaged", "disd"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.astype({"age_at_triage": "Int64"})


def journeys_of(*rows: dict) -> pd.DataFrame:
    return treatment_journeys(episodes(*rows), SETTINGS)


def test_next_triage_21_days_after_discharge_joins_22_starts_anew():
    joined = journeys_of(
        {"episodid": "E1", "triaged": "2006-06-01", "disd": "2006-07-01"},
        {"episodid": "E2", "triaged": "2006-07-22", "disd": "2006-08-01"},
    )
    split = journeys_of(
        {"episodid": "E1", "triaged": "2006-06-01", "disd": "2006-07-01"},
        {"episodid": "E2", "triaged": "2006-07-23", "disd": "2006-08-01"},
    )
    assert len(joined) == 1 and joined.loc[0, "episodes"] == 2
    assert joined.loc[0, "end"] == pd.Timestamp("2006-08-01")
    assert list(split["journey_seq"]) == [1, 2]
    assert list(split["start"]) == [pd.Timestamp("2006-06-01"), pd.Timestamp("2006-07-23")]


def test_gap_is_measured_from_the_latest_discharge_of_the_journey_so_far():
    # E2 is nested inside E1; E3 comes 21 days after E1's discharge, not E2's
    journey = journeys_of(
        {"episodid": "E1", "triaged": "2006-01-01", "disd": "2006-12-01"},
        {"episodid": "E2", "triaged": "2006-02-01", "disd": "2006-03-01"},
        {"episodid": "E3", "triaged": "2006-12-22", "disd": "2007-01-10"},
    )
    assert len(journey) == 1 and journey.loc[0, "end"] == pd.Timestamp("2007-01-10")


def test_episodes_after_an_open_episode_always_join_and_the_journey_is_open():
    journey = journeys_of(
        {"episodid": "E1", "triaged": "2006-01-01", "disd": None},
        {"episodid": "E2", "triaged": "2009-01-01", "disd": "2009-02-01", "exit_group": "x"},
    )
    assert len(journey) == 1
    assert journey.loc[0, "open"] and pd.isna(journey.loc[0, "end"])
    assert pd.isna(journey.loc[0, "ending_exit_group"])


def test_clients_are_chained_separately():
    journey = journeys_of(
        {"person_key": "p1", "triaged": "2006-01-01", "disd": None},
        {"person_key": "p2", "triaged": "2006-02-01", "disd": "2006-03-01"},
    )
    assert list(journey["person_key"]) == ["p1", "p2"]
    assert list(journey["journey_seq"]) == [1, 1]


def test_same_day_triage_takes_the_first_by_agncy_then_episodid():
    journey = journeys_of(
        {"agncy": "B", "episodid": "1", "triaged": "2006-06-01", "drug1": "7000"},
        {"agncy": "A", "episodid": "9", "triaged": "2006-06-01", "drug1": "3201"},
        {"agncy": "A", "episodid": "10", "triaged": "2006-06-01", "drug1": "5000",
         "referral_route": "criminal_justice", "age_at_triage": 41},
    )
    first = journey.iloc[0]
    # EPISODID is text: "10" sorts before "9"
    assert (first["first_agncy"], first["first_episodid"]) == ("A", "10")
    assert first["drug1"] == "5000" and first["referral_route"] == "criminal_justice"
    assert first["age_at_start"] == 41


def test_ending_episode_is_the_latest_discharge_and_same_day_the_one_triaged_last():
    journey = journeys_of(
        {"episodid": "E1", "triaged": "2006-01-01", "disd": "2006-09-01",
         "exit_group": "successful_completion"},
        {"episodid": "E2", "triaged": "2006-03-01", "disd": "2006-09-01",
         "exit_group": "dropped_out"},
        {"episodid": "E3", "triaged": "2006-05-01", "disd": "2006-06-01",
         "exit_group": "transferred"},
    )
    assert journey.loc[0, "ending_exit_group"] == "dropped_out"
    assert journey.loc[0, "ending_episodid"] == "E2"


def test_ending_episode_tie_beyond_triage_is_the_last_by_agncy_then_episodid():
    journey = journeys_of(
        {"agncy": "B", "episodid": "E1", "disd": "2006-09-01", "exit_group": "custody"},
        {"agncy": "A", "episodid": "E2", "disd": "2006-09-01", "exit_group": "died"},
    )
    assert journey.loc[0, "ending_agncy"] == "B"


def test_no_episodes_gives_no_journeys():
    assert treatment_journeys(episodes({}).iloc[:0], SETTINGS).empty


def test_cohort_year_bounds_and_membership():
    assert cohort_year_bounds("2006-07") == (date(2006, 4, 1), date(2007, 3, 31))
    assert cohort_year_bounds("1999-00") == (date(1999, 4, 1), date(2000, 3, 31))
    assert cohort_year_of(date(2006, 4, 1)) == "2006-07"
    assert cohort_year_of(date(2007, 3, 31)) == "2006-07"
    assert cohort_year_of(date(2006, 3, 31)) == "2005-06"
    with pytest.raises(ValueError):
        cohort_year_bounds("2006-08")


def test_maturity_is_31_march_plus_730_plus_183_days():
    # 2008 is a leap year: 2007-03-31 + 913 days is 2009-09-29
    assert required_extract_date("2006-07", SETTINGS) == date(2009, 9, 29)
    assert is_mature("2006-07", "2009-09-29", SETTINGS)
    assert not is_mature("2006-07", date(2009, 9, 28), SETTINGS)


def test_immature_cohort_year_is_refused_naming_the_extract_date_needed():
    with pytest.raises(ImmatureCohortYear, match="2009-09-29"):
        check_mature("2006-07", date(2009, 9, 28), SETTINGS)
    check_mature("2006-07", date(2009, 10, 31), SETTINGS)
