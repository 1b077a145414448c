"""Dagster's side of the pipeline: jobs, schedules, sensors, partitions, resources, the IO
manager, what the instance knows (runs, backfills, stale runs, whether a refresh must run)
and the metadata every asset and check reports. The only folder of `dagster_project/`,
with `cli/` and `definitions.py`, that imports Dagster."""
