"""Staging of NDTMS treatment episodes (METHOD.md §9).

Exports `stage_ndtms_episodes`.
"""

import pandas as pd

from dagster_project.staging.codes import map_codes
from dagster_project.staging.dates import NDTMS_DATE, is_in, parse_counts, parse_dates
from dagster_project.staging.rules import repeats_earlier_row, split_by_rules, staged_frame

FILE = "ndtms_episodes.csv"
SEXES = ("1", "2", "9")


def stage_ndtms_episodes(
    raw: pd.DataFrame, refs: dict[str, pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed episodes, and the rejected rows with the first rule each fails:

    TRIAGED, DOB or SEX missing or unparseable; DISD unparseable or before TRIAGED; DOB after
    TRIAGED; (AGNCY, EPISODID) repeating any earlier row of the file (staged or not)."""
    dates = {
        name: parse_dates(raw[name], NDTMS_DATE)
        for name in ("dob", "refld", "triaged", "modst", "modend", "disd")
    }
    triaged, dob, disd = dates["triaged"].values, dates["dob"].values, dates["disd"].values
    sex_given = raw["sex"].notna().to_numpy()
    rules = [
        ("TRIAGED missing", raw["triaged"].isna()),
        ("TRIAGED unparseable", dates["triaged"].unparseable),
        ("DOB missing", raw["dob"].isna()),
        ("DOB unparseable", dates["dob"].unparseable),
        ("SEX missing", ~sex_given),
        ("SEX not 1, 2 or 9", sex_given & ~is_in(raw["sex"], SEXES)),
        ("DISD unparseable", dates["disd"].unparseable),
        # comparisons with a missing date are false: an open episode passes
        ("DISD before TRIAGED", (disd < triaged).to_numpy()),
        ("DOB after TRIAGED", (dob > triaged).to_numpy()),
        (
            "(AGNCY, EPISODID) repeats an earlier row",
            repeats_earlier_row(raw, ["agncy", "episodid"]),
        ),
    ]
    keep, rejects = split_by_rules(raw, rules)
    columns = (
        {name: parsed.values for name, parsed in dates.items()}
        | _codes(raw, refs)
        | {
            "finitial": raw["finitial"].str.upper(),
            "sinitial": raw["sinitial"].str.upper(),
            # MODAL is 1–12; anything else is staged as missing (an optional field never rejects)
            "modal": parse_counts(raw["modal"], 1, 12).values,
        }
    )
    return staged_frame(FILE, raw, columns, keep), rejects


def _codes(raw: pd.DataFrame, refs: dict[str, pd.DataFrame]) -> dict[str, pd.Series]:
    """Derived columns: referral route, drug classes and exit group."""
    derived = {
        # RFLS is required: an empty one is as uninformative as an unknown one
        "referral_route": map_codes(
            raw["rfls"], refs["referral_sources"], "route", unknown="other", empty="other"
        ),
        "exit_group": map_codes(
            raw["disrsn"], refs["discharge_reasons"], "exit_group", unknown="other", empty=None
        ),
    }
    for drug in ("drug1", "drug2", "drug3"):
        derived[f"{drug}_class"] = map_codes(
            raw[drug], refs["drug_codes"], "drug_class", unknown="unknown", empty=None
        )
    return derived
