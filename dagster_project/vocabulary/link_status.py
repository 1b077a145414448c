"""A client's link status (METHOD.md §3) and the cohort funnel's stages (§8).

Exports `MATCHED`, `ABSENT`, `AMBIGUOUS`, `LINK_STATUSES`, `STUDY_STATUSES`, `FUNNEL_STAGES`.
"""

MATCHED = "matched"
ABSENT = "absent"
AMBIGUOUS = "ambiguous"
LINK_STATUSES = (MATCHED, ABSENT, AMBIGUOUS)
# the study population: reliably matched or reliably absent (ambiguous clients are excluded)
STUDY_STATUSES = (MATCHED, ABSENT)

FUNNEL_STAGES = (
    "starters", "adult_starters", *LINK_STATUSES, "study_population", "cohort",
)
