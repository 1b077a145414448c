"""Jobs: a delivery refresh, a cohort year, and the trends across cohort years.

Their names (`vocabulary.job_names`) and the groups they select (`vocabulary.groups`) are
vocabulary; this module only assembles them.

Exports `refresh_delivery_job`, `cohort_year_job`, `trends_job`, `STEP_EXECUTOR`, `defs`.
"""

import dagster as dg

from dagster_project.orchestration.partitions import cohort_years
from dagster_project.vocabulary.groups import COHORT_YEAR_GROUPS, DELIVERY_GROUPS, TRENDS_GROUPS
from dagster_project.vocabulary.job_names import COHORT_YEAR_JOB, REFRESH_JOB, TRENDS_JOB

refresh_delivery_job = dg.define_asset_job(
    REFRESH_JOB,
    # observing `landing` first records which delivery raw was loaded from (its data
    # version), however the refresh was launched: CLI, sensor or UI
    selection=dg.AssetSelection.groups(*DELIVERY_GROUPS) | dg.AssetSelection.keys("landing"),
    description="Load the newest complete delivery through reference, raw, staging, linkage "
    "and journeys into a schema of its own, then switch readers to it (current_delivery).",
)

cohort_year_job = dg.define_asset_job(
    COHORT_YEAR_JOB,
    selection=dg.AssetSelection.groups(*COHORT_YEAR_GROUPS),
    partitions_def=cohort_years,
    description="One cohort year: cohort selection, outcome tables and the report.",
)

trends_job = dg.define_asset_job(
    TRENDS_JOB,
    selection=dg.AssetSelection.groups(*TRENDS_GROUPS),
    description="Every materialised cohort year's headline rows side by side.",
)

# Each step in a process of its own (the UI, the daemon; the CLI runs in process), forked
# from a server that has imported the code location once: spawned, every step imported
# dagster, pandas, Splink and the definitions anew (3-4 s), and a refresh is some thirty
# steps, most of them one after another. Great Expectations is not preloaded: it would save
# each check step 1.5 s, but national staging, forked from a server that had imported it,
# peaked 0.9 GB higher (3.7 against 2.8 GB, twice each).
STEP_EXECUTOR = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["dagster_project.definitions"]}}},
    name="multiprocess_forkserver",
)

defs = dg.Definitions(jobs=[refresh_delivery_job, cohort_year_job, trends_job],
                      executor=STEP_EXECUTOR)
