"""Running the code location's jobs in this process (CLI, tests) and reading why one failed.

Exports `execute_job`, `failure_causes`, `failure_messages`.
"""

import dagster as dg


def execute_job(name: str, instance: dg.DagsterInstance, **kwargs) -> dg.ExecuteInProcessResult:
    """Run a job of `dagster_project.definitions` in process; failures are returned, not
    raised, so the caller can say what went wrong."""
    from dagster_project.definitions import defs
    from dagster_project.orchestration.stale_runs import process_tags

    # the process is named on the run, so that a later command can tell a run it killed
    tags = {**process_tags(), **(kwargs.pop("tags", None) or {})}
    return defs.resolve_job_def(name).execute_in_process(
        instance=instance, raise_on_error=False, tags=tags, **kwargs
    )


def failure_causes(result: dg.ExecuteInProcessResult) -> list[tuple[str, str, str]]:
    """(step, exception class, message) for every failed step, with the user's own exception
    (Dagster wraps it; the cause chain holds what the user needs: file, line, rule, extract
    date)."""
    causes = []
    for event in result.all_events:
        if not event.is_step_failure or event.step_failure_data.error is None:
            continue
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        causes.append((event.step_key, error.cls_name, error.message.strip()))
    return causes


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """`step: class: message` for every failed step."""
    return [f"{step}: {cls}: {message}" for step, cls, message in failure_causes(result)]
