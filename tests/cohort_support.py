"""Builders of tiny cohort years for the cohort tests: episodes and offences of one or a few
persons around an index date, selected as METHOD.md §1–§4 say."""

import pandas as pd

from dagster_project.cohort import select_cohort, treatment_journeys
from dagster_project.settings import Settings
from dagster_project.vocabulary.link_status import MATCHED

SETTINGS = Settings()
YEAR = "2006-07"
INDEX = pd.Timestamp("2006-06-01")


def day(offset: int) -> pd.Timestamp:
    return INDEX + pd.Timedelta(days=offset)


def episodes(*rows: dict) -> pd.DataFrame:
    base = {
        "person_key": "p1", "agncy": "A1", "episodid": None, "sex": "1", "age_at_triage": 30,
        "triaged": INDEX, "disd": None, "rfls": "4", "referral_route": "self",
        "drug1": "1011", "drug2": None, "drug3": None, "drug1_class": "opiate",
        "drug2_class": None, "drug3_class": None, "disrsn": None, "exit_group": None,
    }
    frame = pd.DataFrame([{**base, "episodid": f"E{i}", **row} for i, row in enumerate(rows)])
    for column in ("triaged", "disd"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.astype({"age_at_triage": "Int64"})


def offences(*rows: dict) -> pd.DataFrame:
    base = {
        "person_key": "p1", "cjs_code": "TH68010", "offence_group": "theft", "trigger": True,
        "offence_start": day(-100), "outcome": "C", "outcome_date": None, "disposal": "FIN",
        "custody_days": None,
    }
    frame = pd.DataFrame([{**base, **row} for row in rows], columns=list(base))
    frame["offence_start"] = pd.to_datetime(frame["offence_start"])
    # proven ten days after the offence unless said otherwise
    proven = pd.to_datetime(frame["outcome_date"])
    ten_days_later = frame["offence_start"] + pd.Timedelta(10, "D")
    frame["outcome_date"] = proven.where(proven.notna(), ten_days_later)
    return frame.astype({"custody_days": "Int64", "trigger": bool})


def cohort(episode_rows, offence_rows, links: dict | None = None, settings=SETTINGS):
    ep = episodes(*episode_rows)
    persons = ep["person_key"].unique()
    status = {p: MATCHED for p in persons} | (links or {})
    link_status = pd.DataFrame({"person_key": list(status), "link_status": list(status.values())})
    journeys = treatment_journeys(ep, settings)
    return select_cohort(journeys, link_status, offences(*offence_rows), settings, YEAR)


def member(result, person="p1") -> pd.Series:
    rows = result.members[result.members["person_key"] == person]
    assert len(rows) == 1, f"{person} is not a cohort member"
    return rows.iloc[0]
