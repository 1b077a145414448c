"""Staging of the PNC files: nominals, aliases and offences (METHOD.md §9).

Nominals are staged first: aliases and offences are accepted only for a PNCID among the
staged nominals.

Exports `stage_pnc_nominals`, `stage_pnc_aliases`, `stage_pnc_offences`.
"""

import numpy as np
import pandas as pd

from dagster_project.staging.codes import classify_offences
from dagster_project.staging.dates import PNC_DATE, is_in, parse_counts, parse_dates
from dagster_project.staging.rules import repeats_earlier_row, split_by_rules, staged_frame

OUTCOMES = ("C", "A", "W", "K", "P")
OUTCOMES_NEEDING_A_DATE = ("C", "K")

Frames = tuple[pd.DataFrame, pd.DataFrame]


def stage_pnc_nominals(raw: pd.DataFrame) -> Frames:
    """Typed nominals; rejected when PNCID repeats an earlier row or DOB is unparseable.

    Reading of §9: an empty DOB is missing, not unparseable (only a non-empty value can be
    out of format), so such a nominal is staged with a missing DOB; linkage cannot use it."""
    dob = parse_dates(raw["dob"], PNC_DATE)
    rules = [
        ("PNCID repeats an earlier row", repeats_earlier_row(raw, ["pncid"])),
        ("DOB unparseable", dob.unparseable),
    ]
    keep, rejects = split_by_rules(raw, rules)
    return staged_frame("pnc_nominals.csv", raw, {"dob": dob.values}, keep), rejects


def _among_nominals(pncid: pd.Series, staged_nominals: pd.DataFrame) -> np.ndarray:
    """Whether each PNCID names a staged nominal (a missing PNCID names none)."""
    return is_in(pncid, staged_nominals["pncid"])


def stage_pnc_aliases(raw: pd.DataFrame, staged_nominals: pd.DataFrame) -> Frames:
    """Typed aliases; rejected when the PNCID is not a staged nominal or DOB is unparseable.
    An empty DOB means the nominal's and is staged as missing."""
    dob = parse_dates(raw["dob"], PNC_DATE)
    rules = [
        ("PNCID not among staged nominals", ~_among_nominals(raw["pncid"], staged_nominals)),
        ("DOB unparseable", dob.unparseable),
    ]
    keep, rejects = split_by_rules(raw, rules)
    return staged_frame("pnc_aliases.csv", raw, {"dob": dob.values}, keep), rejects


def stage_pnc_offences(
    raw: pd.DataFrame,
    staged_nominals: pd.DataFrame,
    offence_codes: pd.DataFrame,
    repeats: np.ndarray | None = None,
) -> Frames:
    """Typed offences with offence group and trigger flag; rejected, first rule first, when
    OFFENCE_START is missing or unparseable, OUTCOME is not C/A/W/K/P, OUTCOME is C or K
    without a (parseable) OUTCOME_DATE, the PNCID is not a staged nominal, or (ASN,
    OFFENCE_SEQ), as delivered, repeats an earlier row of the file (staged or not).

    Every rule but the last looks at one row, so a large file can be staged in slices of
    rows; `repeats` then carries the last rule, judged on the whole file's keys
    (`repeats_earlier_row`), for the rows of this slice."""
    if repeats is None:
        repeats = repeats_earlier_row(raw, ["asn", "offence_seq"])
    start = parse_dates(raw["offence_start"], PNC_DATE)
    outcome_date = parse_dates(raw["outcome_date"], PNC_DATE)
    outcome = raw["outcome"]
    needs_date = is_in(outcome, OUTCOMES_NEEDING_A_DATE)
    rules = [
        ("OFFENCE_START missing", raw["offence_start"].isna()),
        ("OFFENCE_START unparseable", start.unparseable),
        ("OUTCOME missing", outcome.isna()),
        ("OUTCOME not C, A, W, K or P", ~is_in(outcome, OUTCOMES)),
        ("OUTCOME_DATE missing for OUTCOME C or K", needs_date & raw["outcome_date"].isna()),
        # §9 asks for a date; an unparseable one is no date
        ("OUTCOME_DATE unparseable for OUTCOME C or K", needs_date & outcome_date.unparseable),
        ("PNCID not among staged nominals", ~_among_nominals(raw["pncid"], staged_nominals)),
        ("(ASN, OFFENCE_SEQ) repeats an earlier row", repeats),
    ]
    keep, rejects = split_by_rules(raw, rules)
    columns = {
        "offence_start": start.values,
        "offence_end": parse_dates(raw["offence_end"], PNC_DATE).values,
        "outcome_date": outcome_date.values,
        # integers out of format or range (SEQ < 1, negative days) are staged as missing
        "offence_seq": parse_counts(raw["offence_seq"], 1).values,
        "custody_days": parse_counts(raw["custody_days"], 0).values,
    } | dict(classify_offences(raw["cjs_code"], offence_codes).items())
    return staged_frame("pnc_offences.csv", raw, columns, keep), rejects
