"""Cohort-year partitions: English financial years `2004-05` … (METHOD.md §1).

Every year is a partition; whether a year can be analysed depends on the delivery's extract
date (METHOD.md §2), which is checked when the partition runs.

Exports `cohort_years`, `COHORT_YEAR_KEYS`, `FIRST_COHORT_YEAR`, `LAST_COHORT_YEAR`.
"""

import dagster as dg

# treatment records start in April 2003; a year earlier than 2004-05 would count clients
# already in treatment as new starters
FIRST_COHORT_YEAR = 2004
LAST_COHORT_YEAR = 2030

COHORT_YEAR_KEYS = [
    f"{y}-{(y + 1) % 100:02d}" for y in range(FIRST_COHORT_YEAR, LAST_COHORT_YEAR + 1)
]
cohort_years = dg.StaticPartitionsDefinition(COHORT_YEAR_KEYS)
