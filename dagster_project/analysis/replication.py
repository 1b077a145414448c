"""The published figures of the NTA 2012 study (REFERENCE_FIGURES.md) beside the pipeline's.

Counts pass within ±5%, reductions and shares within ±3 percentage points; "shape" figures
pass when the direction the study reports holds.

Exports `replication_table`, `PUBLISHED_FIGURES`, `COUNT_FIGURES`.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.vocabulary.link_status import ADULT_STARTERS, COHORT, STUDY_POPULATION

COUNT_TOLERANCE = 0.05
POINTS_TOLERANCE = 0.03


@dataclass(frozen=True)
class Figure:
    id: str
    figure: str
    published: str
    kind: str  # count | reduction | share | range | shape
    target: float | tuple[float, float] | None = None


PUBLISHED_FIGURES = [
    Figure("F1", "adults (re)starting treatment", "82,935", "count", 82_935),
    Figure("F2", "study population (absent or reliably matched)", "53,851", "count", 53_851),
    Figure("F3", "cohort (convicted in the previous two years)", "19,570", "count", 19_570),
    Figure("F4", "reduction, cohort", "26%", "reduction", 0.26),
    Figure("F5", "reduction, opiate and crack", "20%", "reduction", 0.20),
    Figure("F6", "reduction, opiate only", "25%", "reduction", 0.25),
    Figure("F7", "reduction, crack only", "larger than F5 and F6", "shape"),
    Figure("F8", "reduction, neither opiates nor crack", "larger than F5", "shape"),
    Figure("F9", "share of the cohort referred by criminal justice", "45%", "share", 0.45),
    Figure("F10", "reduction by referral route", "each within ±3 points of F4", "shape"),
    Figure("F11", "retained two years: persons", "4,677", "count", 4_677),
    Figure("F12", "reduction, retained two years", "47%", "reduction", 0.47),
    Figure("F13", "reduction, in treatment 1–2 years", "24%", "reduction", 0.24),
    Figure("F14", "reduction, in treatment under 3 months", "17%", "reduction", 0.17),
    Figure("F15", "reduction by retention band", "rises; slightly between 3 and 12 m", "shape"),
    Figure("F16", "reduction, dropped out", "15%", "reduction", 0.15),
    Figure("F17", "share of the cohort that dropped out", "50–55%", "range", (0.50, 0.55)),
    Figure("F18", "dropouts' share of after-window convictions", "70–80%", "range", (0.70, 0.80)),
    Figure("F19", "reduction, successful completion", "41%", "reduction", 0.41),
    Figure("F20", "reduction, completion after ≥ 6 months", "48%", "reduction", 0.48),
    Figure("F21", "reduction, completed and did not return", "61%", "reduction", 0.61),
    Figure("F22", "reduction, dropped out and returned", "5%", "reduction", 0.05),
    Figure("F23", "leavers' after convictions committed after leaving", "70%", "share", 0.70),
    Figure("F24", "retained two years : completed successfully", "nearly 2 : 1", "range",
           (1.7, 2.05)),
    Figure("F25", "offence group with the largest fall in number", "theft", "shape"),
]
# the figures that count persons: disclosure control guards their pipeline values
COUNT_FIGURES = tuple(f.id for f in PUBLISHED_FIGURES if f.kind == "count")


def _cell(outcomes: pd.DataFrame, dimension: str, group: str, column: str) -> float:
    row = outcomes[(outcomes["dimension"] == dimension) & (outcomes["group"] == group)]
    if row.empty or pd.isna(row[column].iloc[0]):
        return np.nan
    return float(row[column].iloc[0])


def _observed(funnel: pd.DataFrame, outcomes: pd.DataFrame) -> dict[str, object]:
    """The pipeline's value of each figure from the published funnel and outcome table."""
    persons = dict(zip(funnel["stage"], funnel["persons"], strict=True))

    def red(dimension, group):
        return _cell(outcomes, dimension, group, "reduction")

    bands = ["<3m", "3-6m", "6-12m", "12-24m", "retained_2y"]
    band_reductions = [red("retention_band", b) for b in bands]
    routes = [red("referral_route", r) for r in ("criminal_justice", "self", "other")]
    groups = outcomes[outcomes["dimension"] == "offence_group"]
    fall = (groups["before"] - groups["after"]).astype("float64")
    cohort_n = _cell(outcomes, "all", "all", "n")
    f4 = red("all", "all")
    steps = np.diff(band_reductions)
    return {
        "F1": persons.get(ADULT_STARTERS), "F2": persons.get(STUDY_POPULATION),
        "F3": persons.get(COHORT), "F4": f4,
        "F5": red("drug_group", "opiate_and_crack"), "F6": red("drug_group", "opiate_only"),
        "F7": red("drug_group", "crack_only") > max(
            red("drug_group", "opiate_and_crack"), red("drug_group", "opiate_only")),
        "F8": red("drug_group", "other") > red("drug_group", "opiate_and_crack"),
        "F9": _cell(outcomes, "referral_route", "criminal_justice", "n") / cohort_n,
        "F10": all(abs(r - f4) <= POINTS_TOLERANCE for r in routes),
        "F11": _cell(outcomes, "retention_band", "retained_2y", "n"),
        "F12": red("retention_band", "retained_2y"), "F13": red("retention_band", "12-24m"),
        "F14": red("retention_band", "<3m"),
        # rises overall (dips of at most 2 points between neighbours), little from 3 to 12 m
        "F15": bool(np.all(steps >= -0.02) and band_reductions[-1] > band_reductions[0]
                    and abs(band_reductions[2] - band_reductions[1]) <= 0.05),
        "F16": red("exit_group", "dropped_out"),
        "F17": _cell(outcomes, "dropout_share_of_cohort", "dropped_out", "share"),
        "F18": _cell(outcomes, "dropout_share_of_after", "dropped_out", "share"),
        "F19": red("exit_group", "successful_completion"),
        "F20": red("completion_by_retention", ">=6m"),
        "F21": red("completion_by_reentry", "did_not_return"),
        "F22": red("dropout_by_reentry", "returned"),
        "F23": _cell(outcomes, "leavers_post_exit_share", "leavers", "share"),
        "F24": _cell(outcomes, "retention_band", "retained_2y", "n")
        / _cell(outcomes, "exit_group", "successful_completion", "n"),
        "F25": groups["group"].iloc[int(np.nanargmax(fall))] if fall.notna().any() else None,
    }


def _missing(value) -> bool:
    """Not computable, or suppressed by disclosure control (NULL in a published table)."""
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _passes(figure: Figure, value) -> bool:
    if _missing(value):
        return False
    if figure.kind == "count":
        return abs(value / figure.target - 1) <= COUNT_TOLERANCE
    if figure.kind in ("reduction", "share"):
        return abs(value - figure.target) <= POINTS_TOLERANCE
    if figure.kind == "range":
        low, high = figure.target
        return low <= value <= high
    return value == "theft" if figure.id == "F25" else bool(value)


def _shown(figure: Figure, value) -> str:
    if _missing(value):
        return "—"
    if isinstance(value, bool | np.bool_):
        return "holds" if value else "does not hold"
    if isinstance(value, str):
        return value
    if figure.kind == "count":
        return f"{value:,.0f}"
    if figure.id == "F24":
        return f"{value:.2f} : 1"
    return f"{value:.1%}"


def replication_table(funnel: pd.DataFrame, outcomes: pd.DataFrame, method: str) -> pd.DataFrame:
    """One row per published figure: `id`, `figure`, `published`, `pipeline`, `passes`,
    `method` (the linkage rule the pipeline's figures come from)."""
    observed = _observed(funnel, outcomes)
    return pd.DataFrame(
        {
            "id": [f.id for f in PUBLISHED_FIGURES],
            "figure": [f.figure for f in PUBLISHED_FIGURES],
            "published": [f.published for f in PUBLISHED_FIGURES],
            "pipeline": [_shown(f, observed[f.id]) for f in PUBLISHED_FIGURES],
            "passes": [_passes(f, observed[f.id]) for f in PUBLISHED_FIGURES],
            "method": method,
        }
    )
