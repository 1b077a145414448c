"""Treatment journeys, cohort selection, outcome tables and disclosure control: pure functions
over DataFrames (no Dagster), METHOD.md §1, §2, §4–§6, §8.

The narrow surface the assets use:

- `treatment_journeys(episodes, settings)` — §1 journeys (21-day rule)
- `select_cohort(journeys, client_link_status, linked_offences, settings, cohort_year)`
  → `CohortResult` (starters, funnel, members, convictions_by_group); `journeys_starting_in`
  names whose offences a cohort year reads
- `outcome_table(members, convictions_by_group, settings)` — §5 tables
- `publish_outcome_table`, `publish_funnel`, `suppress`, `to_published_text` — §6
- cohort years: `cohort_year_bounds`, `cohort_year_of`, `required_extract_date`,
  `is_mature`, `check_mature`, `ImmatureCohortYear`
"""

from dagster_project.cohort.disclosure import (
    publish_funnel,
    publish_outcome_table,
    suppress,
    to_published_text,
)
from dagster_project.cohort.journeys import treatment_journeys
from dagster_project.cohort.members import (
    FUNNEL_STAGES,
    MEMBER_COLUMNS,
    CohortResult,
    journeys_starting_in,
    select_cohort,
)
from dagster_project.cohort.outcomes import CI_METHOD, DIMENSIONS, outcome_table
from dagster_project.cohort.years import (
    ImmatureCohortYear,
    check_mature,
    cohort_year_bounds,
    cohort_year_of,
    is_mature,
    newest_mature_cohort_year,
    required_extract_date,
)

__all__ = [
    "CI_METHOD",
    "DIMENSIONS",
    "FUNNEL_STAGES",
    "MEMBER_COLUMNS",
    "CohortResult",
    "ImmatureCohortYear",
    "check_mature",
    "cohort_year_bounds",
    "cohort_year_of",
    "is_mature",
    "journeys_starting_in",
    "newest_mature_cohort_year",
    "outcome_table",
    "publish_funnel",
    "publish_outcome_table",
    "required_extract_date",
    "select_cohort",
    "suppress",
    "to_published_text",
    "treatment_journeys",
]
