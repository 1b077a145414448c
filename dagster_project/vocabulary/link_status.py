"""A client's link status (METHOD.md §3) and the cohort funnel's stages (§8).

Exports `MATCHED`, `ABSENT`, `AMBIGUOUS`, `LINK_STATUSES`, `STUDY_STATUSES`, the funnel's other
stages `STARTERS`, `ADULT_STARTERS`, `STUDY_POPULATION`, `COHORT`, and `FUNNEL_STAGES`.
"""

MATCHED = "matched"
ABSENT = "absent"
AMBIGUOUS = "ambiguous"
LINK_STATUSES = (MATCHED, ABSENT, AMBIGUOUS)
# the study population: reliably matched or reliably absent (ambiguous clients are excluded)
STUDY_STATUSES = (MATCHED, ABSENT)

STARTERS, ADULT_STARTERS = "starters", "adult_starters"
STUDY_POPULATION, COHORT = "study_population", "cohort"
FUNNEL_STAGES = (STARTERS, ADULT_STARTERS, *LINK_STATUSES, STUDY_POPULATION, COHORT)
