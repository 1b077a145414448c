"""The delivery sensor: a new complete delivery in the landing folder requests a refresh.

The cursor is the newest extract date already requested, so each delivery is loaded once;
an incomplete delivery (still being copied, or corrupt) is skipped with its reason and
looked at again on the next tick.

Exports `delivery_sensor`, `next_delivery`.
"""

from pathlib import Path

import dagster as dg

from dagster_project.delivery import is_complete, list_deliveries
from dagster_project.jobs import refresh_delivery_job
from dagster_project.resources import SettingsResource


def next_delivery(landing_dir: Path, cursor: str | None) -> tuple[Path | None, list[str]]:
    """The newest complete delivery newer than the cursor, and why newer ones were skipped."""
    newer = [p for p in list_deliveries(landing_dir) if cursor is None or p.name > cursor]
    skipped = []
    for path in reversed(newer):
        complete, reason = is_complete(path)
        if complete:
            return path, skipped
        skipped.append(f"{path.name}: {reason}")
    return None, skipped


@dg.sensor(
    job=refresh_delivery_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests a refresh when a new complete delivery lands.",
)
def delivery_sensor(context: dg.SensorEvaluationContext, settings: SettingsResource):
    landing_dir = settings.get().landing_dir
    path, skipped = next_delivery(landing_dir, context.cursor)
    for line in skipped:
        context.log.info(f"skipped incomplete delivery {line}")
    if path is None:
        reason = "; ".join(skipped) or f"no delivery newer than {context.cursor} in {landing_dir}"
        return dg.SkipReason(reason)
    context.update_cursor(path.name)
    return dg.RunRequest(run_key=f"delivery-{path.name}", tags={"extract_date": path.name})
