"""Issue 12, privacy hygiene: the linkage stage hands over an age only where the analysis reads
one (a client's first journey start of a cohort year: where an index date may fall), so that
ages beside exact triage dates cannot bracket a birth date between two episodes; the
journeys, and so every figure, are unchanged."""

from dataclasses import replace

import pandas as pd

from dagster_project.cohort import treatment_journeys
from dagster_project.delivery.manifest import verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.linkage.handover import (
    EPISODE_COLUMNS,
    age_in_completed_years,
    treatment_episodes,
)
from dagster_project.settings import Settings
from dagster_project.staging import stage_delivery
from dagster_project.synth import SynthConfig, generate_delivery

GAP = Settings().journey_gap_days
KEY = "age-handover-test-key"


def birth_window_days(episodes: pd.DataFrame) -> pd.Series:
    """Per person, how many birth dates fit every (triage date, completed years) pair handed
    over: what someone holding the table could infer."""
    known = episodes.dropna(subset=["age_at_triage"])
    years = known["age_at_triage"].astype(int)
    latest = [t - pd.DateOffset(years=a) for t, a in zip(known["triaged"], years, strict=True)]
    earliest = [t - pd.DateOffset(years=a + 1) + pd.Timedelta(days=1)
                for t, a in zip(known["triaged"], years, strict=True)]
    bounds = pd.DataFrame({"person_key": known["person_key"].to_numpy(),
                           "earliest": earliest, "latest": latest})
    per_person = bounds.groupby("person_key").agg(earliest=("earliest", "max"),
                                                  latest=("latest", "min"))
    return (per_person["latest"] - per_person["earliest"]).dt.days + 1


def _staged(rows: list[dict]) -> pd.DataFrame:
    base = {c: None for c in EPISODE_COLUMNS} | {
        "finitial": "J", "sinitial": "S", "dob": "1980-06-15", "sex": "1", "agncy": "A1",
    }
    frame = pd.DataFrame([{**base, **row} for row in rows])
    for column in ("dob", "triaged", "disd"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def test_a_birthday_between_two_transfers_is_no_longer_pinned_to_a_day():
    staged = _staged([
        # one journey: a transfer on the 25th birthday, the day after triage
        {"episodid": "E1", "triaged": "2005-06-14", "disd": "2005-06-15"},
        {"episodid": "E2", "triaged": "2005-06-15", "disd": "2005-09-01"},
        # a second journey two years later
        {"episodid": "E3", "triaged": "2008-01-10", "disd": "2008-03-01"},
    ])
    every_triage = treatment_episodes(staged, KEY, GAP).assign(
        age_at_triage=[24, 25, 27])  # what was handed over before
    handed_over = treatment_episodes(staged, KEY, GAP)

    ages = handed_over.set_index("episodid")["age_at_triage"]
    assert ages.isna().tolist() == [False, True, False]
    assert (ages["E1"], ages["E3"]) == (24, 27)
    assert birth_window_days(every_triage).iloc[0] == 1
    assert birth_window_days(handed_over).iloc[0] > 180


def test_journeys_are_the_same_with_ages_at_index_date_candidates_only(tmp_path):
    config = replace(SynthConfig.for_scale("tiny"), extract_date="2009-10-31")
    folder = generate_delivery(config, out=tmp_path / "landing", seed=3)
    delivery = verify_delivery(folder)
    raws = {name: read_extract(delivery, name)[0] for name in delivery.files}
    staged, _ = stage_delivery(raws, {n: load_reference(n) for n in REFERENCE_TABLES})
    episodes = staged["ndtms_episodes.csv"]

    handed_over = treatment_episodes(episodes, KEY, GAP)
    journeys = treatment_journeys(handed_over, Settings())
    starts = handed_over["age_at_triage"].notna()
    assert starts.sum() == journeys["age_at_start"].notna().sum()
    assert 0 < starts.sum() < len(journeys) < len(handed_over)

    with_every_age = handed_over.assign(age_at_triage=age_in_completed_years(
        episodes["dob"], episodes["triaged"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(journeys, treatment_journeys(with_every_age, Settings()))
    # ages at every triage pin some persons' birth dates to a month or less; ages at
    # journey starts alone pin fewer
    assert (birth_window_days(with_every_age) <= 31).any()
    assert (birth_window_days(handed_over) <= 31).sum() < (
        birth_window_days(with_every_age) <= 31).sum()
