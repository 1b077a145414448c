"""The code location: `dagster dev` and `dagster asset materialize -m dagster_project.definitions`.

Each part exports its own definitions; this module only merges them: the assets
(`assets/`), their checks (`checks/`), the jobs, schedules, sensors and resources
(`orchestration/`), and the command's logger (`cli/progress.py`). Tests build from the same
`defs`.

Exports `defs`.
"""

import dagster as dg

import assets
import checks
from dagster_project.cli import progress
from dagster_project.orchestration import jobs, resources, schedules, sensors

defs = dg.Definitions.merge(
    assets.defs, checks.defs, jobs.defs, schedules.defs, sensors.defs, resources.defs,
    progress.defs,
)
