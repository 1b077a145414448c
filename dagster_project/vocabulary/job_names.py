"""The jobs' names: the CLI, the sensors, the backfill and the IO manager find runs by them.

Exports `REFRESH_JOB`, `COHORT_YEAR_JOB`, `TRENDS_JOB`.
"""

REFRESH_JOB = "refresh_delivery"
COHORT_YEAR_JOB = "cohort_year"
TRENDS_JOB = "trends"
