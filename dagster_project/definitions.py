"""The code location: `dagster dev` and `dagster asset materialize -m dagster_project.definitions`.

Each part exports its own definitions; this module only merges them: the assets
(`assets/`), their checks (`checks/`), and the jobs, schedules, sensors, resources and the
command's logger (`orchestration/`). Tests and the command build from the same `defs`.

Exports `defs`.
"""

import dagster as dg

import assets
import checks
from dagster_project.orchestration import jobs, progress, resources, schedules, sensors

defs = dg.Definitions.merge(
    assets.defs, checks.defs, jobs.defs, schedules.defs, sensors.defs, resources.defs,
    progress.defs,
)
