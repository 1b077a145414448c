"""A cohort year under every linkage rule (METHOD.md §7 linkage sensitivity), computed from
the links made once per delivery (`linkage_alternatives`), never by linking again.

Exports `cohort_year_under`, `linkage_sensitivity_table`, `offences_for_year`,
`sensitivity_rules`,
`SENSITIVITY_COLUMNS`, `CohortYearTables`.

Rules published side by side open a hole that one table does not have: two rules' rows for
the same group differ by the persons whose status the rule changed, so a difference of 1–4
persons would publish their convictions by subtraction. Such a row is suppressed whole
(`suppressed_by_difference`), as is a study population differing by 1–4 clients.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.cohort import (
    journeys_starting_in,
    outcome_table,
    publish_funnel,
    publish_outcome_table,
    select_cohort,
)
from dagster_project.cohort.outcomes import COMBINATIONS, SHARE_DIMENSIONS
from dagster_project.linkage.alternatives import DETERMINISTIC, links_under
from dagster_project.linkage.handover import in_handover_order
from dagster_project.linkage.resolve import PROBABILISTIC
from dagster_project.settings import Settings
from dagster_project.vocabulary.link_status import COHORT, MATCHED, STUDY_POPULATION
from dagster_project.warehouse.engine import Warehouse

ALTERNATIVE_OFFENCES = "alternative_linked_offences"
SENSITIVITY_DIMENSIONS = ["all", *COMBINATIONS, *SHARE_DIMENSIONS]
SENSITIVITY_COLUMNS = [
    "method", "match_threshold", "dimension", "group", "study_population", "cohort", "n",
    "before", "after", "reduction", "ci_low", "ci_high", "share", "suppressed",
    "suppressed_cells", "suppressed_by_difference",
]
_ROW_VALUES = ["n", "before", "after", "reduction", "ci_low", "ci_high", "share"]


@dataclass(frozen=True)
class CohortYearTables:
    funnel: pd.DataFrame  # published
    outcomes: pd.DataFrame  # published


def offences_for_year(wh: Warehouse, cohort_year: str, journeys: pd.DataFrame,
                      alternatives: pd.DataFrame) -> pd.DataFrame:
    """Of `alternative_linked_offences`, the offences of the persons some rule matched to a
    client with a journey starting in the cohort year: all that any rule's cohort year reads
    (nationally the table holds millions of rows for every year's clients)."""
    persons = journeys_starting_in(journeys, cohort_year)["person_key"]
    matched = alternatives["person_key"].isin(persons) & alternatives["link_status"].eq(MATCHED)
    return in_handover_order(wh.read_rows(ALTERNATIVE_OFFENCES, "pnc_key",
                                           alternatives.loc[matched, "pnc_key"]))


def sensitivity_rules(settings: Settings) -> list[tuple[str, float | None]]:
    """The NTA rule, then the probabilistic rule at each threshold of the settings."""
    return [(DETERMINISTIC, None),
            *((PROBABILISTIC, threshold) for threshold in settings.sensitivity_thresholds)]


def cohort_year_under(
    method: str,
    threshold: float | None,
    cohort_year: str,
    settings: Settings,
    *,
    journeys: pd.DataFrame,
    alternatives: pd.DataFrame,
    offences: pd.DataFrame,
) -> CohortYearTables:
    """Select and tabulate a cohort year with one rule's links, all else as configured."""
    status, linked = links_under(alternatives, offences, method, threshold)
    cohort = select_cohort(journeys, status, linked, settings, cohort_year)
    table = outcome_table(cohort.members, cohort.convictions_by_group, settings)
    threshold = settings.disclosure_threshold
    funnel = publish_funnel(cohort.funnel, threshold, cohort.members)
    return CohortYearTables(
        funnel=funnel,
        outcomes=publish_outcome_table(table, threshold, cohort.members,
                                       cohort.convictions_by_group, funnel),
    )


def linkage_sensitivity_table(
    cohort_year: str,
    settings: Settings,
    *,
    journeys: pd.DataFrame,
    alternatives: pd.DataFrame,
    offences: pd.DataFrame,
) -> pd.DataFrame:
    """`linkage_sensitivity` (METHOD.md §8): the headline rows under every rule."""
    journeys, alternatives, offences = _integer_keys(journeys, alternatives, offences)
    frames = []
    for method, threshold in sensitivity_rules(settings):
        tables = cohort_year_under(method, threshold, cohort_year, settings,
                                   journeys=journeys, alternatives=alternatives,
                                   offences=offences)
        persons = tables.funnel.set_index("stage")["persons"]
        rows = tables.outcomes[tables.outcomes["dimension"].isin(SENSITIVITY_DIMENSIONS)]
        frames.append(rows.assign(
            method=method, match_threshold=np.nan if threshold is None else threshold,
            study_population=persons.get(STUDY_POPULATION), cohort=persons.get(COHORT),
            suppressed_by_difference=False))
    table = pd.concat(frames, ignore_index=True)
    return _suppress_differences(table, settings)[SENSITIVITY_COLUMNS]


def _integer_keys(journeys: pd.DataFrame, alternatives: pd.DataFrame,
                  offences: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """The tables with `person_key` and `pnc_key` as their ranks among the keys (missing
    stays missing): every rule's cohort joins, sorts and looks up these keys, and pandas
    does it on 64-character text several times slower (nationally 23 s → 10 s for the six
    rules). Ranks sort as the text does, so the tables are the same; only counts leave."""
    persons = _ranks([journeys["person_key"], alternatives["person_key"]])
    pnc = _ranks([alternatives["pnc_key"], offences["pnc_key"]])
    return (journeys.assign(person_key=persons[0]),
            alternatives.assign(person_key=persons[1], pnc_key=pnc[0]),
            offences.assign(pnc_key=pnc[1]))


def _ranks(columns: list[pd.Series]) -> list:
    """Each column's values as their rank among all the columns' distinct values: plain
    integers, or nullable ones where a value is missing (slower in joins)."""
    codes, _ = pd.factorize(pd.concat(columns, ignore_index=True), sort=True)
    ranks = codes
    if (codes < 0).any():
        ranks = pd.array(codes, dtype="Int64")
        ranks[codes < 0] = pd.NA
    bounds = np.cumsum([0, *map(len, columns)])
    return [ranks[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def _suppress_differences(table: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Blank rows whose persons differ from an earlier published row of the same group by
    fewer than the threshold (the configured rule's rows come first and always stand)."""
    threshold = settings.disclosure_threshold
    configured = (table["method"].eq(settings.linkage_method)
                  & (table["match_threshold"].isna()
                     | np.isclose(table["match_threshold"], settings.match_threshold)))
    table = pd.concat([table[configured], table[~configured]], ignore_index=True)
    numeric = [*_ROW_VALUES, "study_population", "cohort"]
    # a stage the funnel suppressed under one rule is NA beside other rules' counts (object)
    table[numeric] = table[numeric].apply(pd.to_numeric).astype("float64")
    for column, key in (("n", ["dimension", "group"]), ("study_population", ["dimension"])):
        values = table[column].astype("float64")
        for _, positions in table.groupby(key, sort=False).indices.items():
            _blank_close(table, values, positions, column, threshold)
    return table


def _blank_close(table, values, positions, column: str, threshold: int) -> None:
    """Within one group (a handful of rules), keep a row only when it differs from every
    kept row by 0 or by at least the threshold."""
    kept: list[float] = []
    for position in positions:
        value = values.iloc[position]
        if np.isnan(value):
            continue
        if any(0 < abs(value - other) < threshold for other in kept):
            blank = _ROW_VALUES if column == "n" else ["study_population", "cohort"]
            table.loc[position, blank] = np.nan
            table.loc[position, ["suppressed", "suppressed_by_difference"]] = True
            known = [c for c in str(table.at[position, "suppressed_cells"]).split(",") if c]
            table.at[position, "suppressed_cells"] = ",".join(dict.fromkeys([*known, *blank]))
        else:
            kept.append(value)
