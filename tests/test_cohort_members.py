"""Cohort selection, windows, counting and member attributes (METHOD.md §1–§4, §8)."""

import pandas as pd
import pytest

from dagster_project.cohort import FUNNEL_STAGES, MEMBER_COLUMNS, select_cohort, treatment_journeys
from tests.cohort_support import SETTINGS, YEAR, cohort, day, episodes, member, offences

PRIOR = {"cjs_code": "BU68001", "offence_group": "burglary", "offence_start": day(-200)}


def test_members_carry_every_column_of_the_output_contract():
    result = cohort([{}], [PRIOR])
    contract = ["person_key", "link_status", "age_band", "sex", "drug_group", "referral_route",
                "retention_days", "retention_band", "exit_group", "reentered", "before",
                "after", "after_post_exit", "custody_days_before", "custody_days_after"]
    assert set(contract) <= set(result.members.columns)
    assert list(result.members.columns) == MEMBER_COLUMNS
    assert list(result.funnel["stage"]) == list(FUNNEL_STAGES)


@pytest.mark.parametrize(
    ("offset", "window"),
    [(-731, None), (-730, "before"), (-1, "before"), (0, "after"), (729, "after"), (730, None)],
)
def test_window_edges(offset, window):
    result = cohort([{}], [PRIOR, {"offence_start": day(offset)}])
    counts = member(result)
    assert counts["before"] == 1 + (window == "before")
    assert counts["after"] == (window == "after")


@pytest.mark.parametrize(("late", "counted"), [(183, True), (184, False)])
def test_waiting_period_counts_from_the_window_last_day(late, counted):
    before = {"offence_start": day(-5), "outcome_date": day(-1 + late)}
    after = {"offence_start": day(700), "outcome_date": day(729 + late), "cjs_code": "RO68001"}
    result = cohort([{}], [PRIOR, before, after])
    assert member(result)["before"] == 1 + counted
    assert member(result)["after"] == int(counted)


def test_cautions_count_only_when_the_settings_say_so():
    rows = [PRIOR, {"offence_start": day(30), "outcome": "K"},
            {"offence_start": day(40), "outcome": "W"}, {"offence_start": day(50), "outcome": "A"},
            {"offence_start": day(60), "outcome": "P", "outcome_date": day(70)}]
    assert member(cohort([{}], rows))["after"] == 0
    with_cautions = cohort([{}], rows, settings=SETTINGS.with_(count_cautions=True))
    assert member(with_cautions)["after"] == 1


def test_duplicate_transmissions_are_one_conviction_but_another_suffix_is_another():
    twice = {"cjs_code": "TH68010", "offence_start": day(20), "outcome_date": day(60)}
    attempt = {**twice, "cjs_code": "TH68010A"}
    result = cohort([{}], [PRIOR, twice, twice, attempt])
    assert member(result)["after"] == 2


def test_only_trigger_offences_count():
    result = cohort([{}, {"person_key": "p2"}], [
        PRIOR, {"offence_start": day(20), "trigger": False, "cjs_code": "TH68010B"},
        {**PRIOR, "person_key": "p2", "trigger": False},
    ])
    assert member(result)["after"] == 0
    assert "p2" not in set(result.members["person_key"])


def test_cohort_needs_a_counted_before_conviction_and_absent_persons_have_none():
    result = cohort(
        [{}, {"person_key": "p2"}, {"person_key": "p3"}, {"person_key": "p4"}],
        [PRIOR, {"person_key": "p2", "offence_start": day(10)}, {**PRIOR, "person_key": "p4"}],
        links={"p3": "absent", "p4": "ambiguous"},
    )
    assert list(result.members["person_key"]) == ["p1"]
    funnel = result.funnel.set_index("stage")["persons"]
    assert funnel.to_dict() == {"starters": 4, "adult_starters": 4, "matched": 2, "absent": 1,
                                "ambiguous": 1, "study_population": 3, "cohort": 1}


@pytest.mark.parametrize(
    ("spells", "before", "after"),
    [
        ([(-10, 1)], 1, 0),  # 1 day → 1 day
        ([(-10, 3)], 2, 0),  # 3 days → 2 days (half, rounded up)
        ([(-10, 4)], 2, 0),  # 4 days → 2 days
        ([(-10, 0)], 0, 0),
        ([(-1, 6)], 1, 2),  # split at the index date
        ([(-20, 20), (-15, 20)], 15, 0),  # overlapping: [-20, -10) ∪ [-15, -5)
        ([(-735, 20)], 5, 0),  # clipped at index − 730
        ([(725, 20)], 0, 5),  # clipped at index + 729
        ([(-10, None)], 0, 0),  # CUS without a length adds nothing
    ],
)
def test_custody_days_half_the_sentence_rounded_up_merged_and_clipped(spells, before, after):
    custody = [
        {"cjs_code": "XX00001", "trigger": False, "offence_group": "other",
         "offence_start": day(-900), "outcome_date": day(start), "disposal": "CUS",
         "custody_days": length}
        for start, length in spells
    ]
    counts = member(cohort([{}], [PRIOR, *custody]))
    assert (counts["custody_days_before"], counts["custody_days_after"]) == (before, after)


@pytest.mark.parametrize(("age", "adult"), [(18, True), (17, False)])
def test_adult_is_18_on_the_index_date(age, adult):
    result = cohort([{"age_at_triage": age}], [PRIOR])
    funnel = result.funnel.set_index("stage")["persons"]
    assert funnel["starters"] == 1 and funnel["adult_starters"] == int(adult)
    assert len(result.members) == int(adult)


@pytest.mark.parametrize(
    ("start", "starter"), [("2006-04-01", True), ("2007-03-31", True), ("2006-03-31", False),
                           ("2007-04-01", False)],
)
def test_index_date_inside_the_cohort_year(start, starter):
    result = cohort([{"triaged": start}], [])
    assert result.funnel.set_index("stage").loc["starters", "persons"] == int(starter)


def test_two_journeys_in_the_year_count_once_at_the_first():
    result = cohort(
        [{"triaged": "2006-05-01", "disd": "2006-05-10", "age_at_triage": 17},
         {"triaged": "2006-09-01", "age_at_triage": 18}],
        [PRIOR],
    )
    assert len(result.starters) == 1
    assert result.starters.loc[0, "start"] == pd.Timestamp("2006-05-01")
    assert result.members.empty  # judged at the first start, aged 17


@pytest.mark.parametrize(
    ("discharged", "days", "band"),
    [(0, 0, "<3m"), (90, 90, "<3m"), (91, 91, "3-6m"), (182, 182, "3-6m"), (183, 183, "6-12m"),
     (364, 364, "6-12m"), (365, 365, "12-24m"), (729, 729, "12-24m"), (730, 730, "retained_2y"),
     (900, 730, "retained_2y"), (None, 730, "retained_2y")],
)
def test_retention_days_and_bands(discharged, days, band):
    disd = None if discharged is None else day(discharged)
    person = member(cohort([{"disd": disd, "exit_group": "dropped_out"}], [PRIOR]))
    assert (person["retention_days"], person["retention_band"]) == (days, band)
    assert (person["exit_group"] == "retained") == (days == 730)
    assert pd.isna(person["exit_date"]) == (days == 730)


def test_exit_group_of_the_latest_discharge_same_day_the_one_triaged_last():
    person = member(cohort([
        {"triaged": day(0), "disd": day(100), "exit_group": "successful_completion"},
        {"triaged": day(50), "disd": day(100), "exit_group": "dropped_out"},
    ], [PRIOR]))
    assert person["exit_group"] == "dropped_out" and person["retention_days"] == 100


def test_exit_group_other_when_the_reason_is_missing():
    assert member(cohort([{"disd": day(30)}], [PRIOR]))["exit_group"] == "other"


@pytest.mark.parametrize(("restart", "reentered"), [(200, True), (729, True), (730, False)])
def test_reentry_within_the_after_window(restart, reentered):
    person = member(cohort(
        [{"disd": day(100), "exit_group": "dropped_out"}, {"triaged": day(restart)}], [PRIOR]
    ))
    assert person["reentered"] == reentered


def test_retained_never_reenter():
    assert not member(cohort([{"disd": day(740)}, {"triaged": day(800)}], [PRIOR]))["reentered"]


def test_after_post_exit_counts_offences_strictly_after_the_exit_date():
    rows = [PRIOR, {"offence_start": day(50)}, {"offence_start": day(100), "cjs_code": "RO68001"},
            {"offence_start": day(101)}, {"offence_start": day(300)}]
    person = member(cohort([{"disd": day(100), "exit_group": "dropped_out"}], rows))
    assert (person["after"], person["after_post_exit"]) == (4, 2)
    retained = member(cohort([{}], rows))
    assert retained["after_post_exit"] == 0


def test_drug_group_from_the_first_episode():
    rows = [
        {"person_key": "oc", "drug2": "3201", "drug2_class": "crack"},
        {"person_key": "o"},
        {"person_key": "c", "drug1": "3201", "drug1_class": "crack"},
        {"person_key": "powder", "drug1": "3200", "drug1_class": "cocaine"},
        {"person_key": "alc", "drug1": "7000", "drug1_class": "alcohol",
         "drug3": "1000", "drug3_class": "opiate"},
    ]
    result = cohort(rows, [{**PRIOR, "person_key": r["person_key"]} for r in rows])
    groups = result.members.set_index("person_key")["drug_group"].to_dict()
    assert groups == {"oc": "opiate_and_crack", "o": "opiate_only", "c": "crack_only",
                      "powder": "other", "alc": "opiate_only"}


def test_age_bands():
    ages = [18, 24, 25, 29, 30, 34, 35, 39, 40, 49, 50, 71]
    rows = [{"person_key": f"p{a}", "age_at_triage": a} for a in ages]
    result = cohort(rows, [{**PRIOR, "person_key": r["person_key"]} for r in rows])
    bands = result.members.set_index("person_key")["age_band"]
    assert [bands[f"p{a}"] for a in ages] == [
        "18-24", "18-24", "25-29", "25-29", "30-34", "30-34", "35-39", "35-39", "40-49",
        "40-49", "50+", "50+"]


def test_funnel_identities_and_monotone():
    rows = [{"person_key": f"p{i}", "age_at_triage": 16 + i % 5} for i in range(30)]
    links = {f"p{i}": ["matched", "absent", "ambiguous"][i % 3] for i in range(30)}
    result = cohort(rows, [{**PRIOR, "person_key": f"p{i}"} for i in range(0, 30, 2)], links)
    f = result.funnel.set_index("stage")["persons"]
    assert f["adult_starters"] == f["matched"] + f["absent"] + f["ambiguous"]
    assert f["study_population"] == f["matched"] + f["absent"]
    assert f["starters"] >= f["adult_starters"] >= f["study_population"] >= f["cohort"] > 0


def test_adult_starter_without_a_link_status_is_an_error():
    ep = episodes({})
    links = pd.DataFrame({"person_key": ["other"], "link_status": ["matched"]})
    with pytest.raises(ValueError, match="no link status"):
        select_cohort(treatment_journeys(ep, SETTINGS), links, offences(PRIOR), SETTINGS, YEAR)


def test_convictions_by_group_one_row_per_member_and_group():
    rows = [PRIOR, {"offence_start": day(10)}, {"offence_start": day(20)},
            {"offence_start": day(-20), "cjs_code": "TH68001"}]
    table = cohort([{}], rows).convictions_by_group.set_index("offence_group")
    assert table.loc["burglary", ["before", "after"]].tolist() == [1, 0]
    assert table.loc["theft", ["before", "after"]].tolist() == [1, 2]
    assert set(table["cohort_year"]) == {YEAR}


CUSTODY = {"disposal": "CUS", "offence_start": day(-300), "outcome_date": day(50),
           "custody_days": 200}  # in custody from day 50 for 100 days


@pytest.mark.parametrize(
    ("discharged", "exit_group", "at_risk"),
    [
        # died on day 80: alive days 0..80, of which 50..80 (31 days) in custody
        (80, "died", 81 - 31),
        # died on day 20, before the custody spell: alive days 0..20
        (20, "died", 21),
        # another exit: at risk to the window's end, less all 100 custody days
        (80, "dropped_out", 730 - 100),
        # died on the last day of the window (a journey end on index + 729)
        (729, "died", 730 - 100),
    ],
)
def test_death_discharge_ends_time_at_risk_and_nothing_else(discharged, exit_group, at_risk):
    result = cohort([{"disd": day(discharged), "disrsn": "x", "exit_group": exit_group}],
                    [PRIOR, CUSTODY])
    m = member(result)
    assert m["exit_group"] == exit_group
    assert m["days_at_risk_after"] == at_risk
    # custody and counts are what they were: only time at risk changes
    assert (m["custody_days_after"], m["before"]) == (100, 2)
