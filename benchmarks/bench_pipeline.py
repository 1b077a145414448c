"""Benchmark the Dagster jobs themselves on a delivery: the refresh (reference → raw →
staging → linkage → journeys), one cohort year (cohort → outcomes → replication), then a
second cohort year on the loaded delivery, to show what each further year of a backfill
costs (work that belongs to the delivery must not be repeated per year).

    python benchmarks/bench_pipeline.py /path/to/landing [--cohort-year 2006-07]
        [--second-cohort-year 2005-06 | --second-cohort-year ""]
        [--method deterministic|probabilistic] [--warehouse duckdb:///tmp/bench.duckdb]
        [--no-checks]

Each step runs in its own process (Dagster's multiprocess executor, as in production), so
the peak memory printed per step is that step's own; wall times come from the event log.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from dagster_project.vocabulary.job_names import COHORT_YEAR_JOB, REFRESH_JOB

PARTITION_TAG = "dagster/partition"


def _step_table(instance, run_id: str) -> list[tuple[str, float, float, int | None]]:
    """When every step of a run started (seconds after the run's first event), its wall time
    (STEP_START → STEP_SUCCESS) and the step process's peak memory, which every asset
    records as `peak_memory_mb` metadata (or, run in process, how far memory rose during the
    step: `peak_memory_increase_mb`). The start shows which steps ran side by side."""
    import dagster as dg

    started, peak, rows, first = {}, {}, [], None
    for record in instance.get_records_for_run(run_id).records:
        event = record.event_log_entry
        first = event.timestamp if first is None else first
        if not event.is_dagster_event:
            continue
        kind = event.dagster_event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            started[event.step_key] = event.timestamp
        elif kind in (
            dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ):
            data = event.dagster_event.event_specific_data
            metadata = getattr(data, "materialization", data).metadata
            value = metadata.get("peak_memory_mb") or metadata.get("peak_memory_increase_mb")
            if value is not None:
                peak[event.step_key] = max(peak.get(event.step_key, 0), value.value)
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            start = started.get(event.step_key, event.timestamp)
            rows.append((event.step_key, start - first, event.timestamp - start,
                         peak.get(event.step_key)))
    return rows


def _run(job_name: str, instance, **kwargs) -> tuple[float | None, float]:
    """Run a job; its wall time in seconds (None when it failed) and its largest step's
    peak memory in MB."""
    import dagster as dg

    job = _definitions().resolve_job_def(job_name)
    started = time.perf_counter()
    # multiprocess execution: one process per step, the way `dagster dev` runs it
    result = dg.execute_job(
        dg.reconstructable(_job_factory(job_name)), instance=instance, **kwargs
    )
    elapsed = time.perf_counter() - started
    print(f"\n{job.name} {kwargs.get('tags', {}).get(PARTITION_TAG, '')}: "
          f"{'succeeded' if result.success else 'FAILED'} in {elapsed:.1f} s")
    print(f"  {'step':<30} {'starts':>8} {'takes':>9}  peak")
    largest = 0.0
    for step, start, seconds, peak_mb in _step_table(instance, result.run_id):
        memory = f"{peak_mb / 1024:6.2f} GB" if peak_mb else ""
        print(f"  {step:<30} {start:7.1f}s {seconds:7.1f} s  {memory}")
        largest = max(largest, peak_mb or 0.0)
    return (elapsed if result.success else None), largest


def _year_before(cohort_year: str) -> str:
    start = int(cohort_year[:4]) - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _job_factory(name: str):
    return {REFRESH_JOB: refresh_delivery, COHORT_YEAR_JOB: cohort_year}[name]


def _definitions():
    """The code location, or (`--no-checks`) the same assets and jobs without their checks,
    to measure what the checks cost. Read in every step process, hence the variable."""
    from dagster_project.definitions import defs

    if os.environ.get("BENCH_WITHOUT_CHECKS") != "1":
        return defs
    import dagster as dg

    return dg.Definitions(assets=defs.assets, jobs=defs.jobs, resources=defs.resources)


def refresh_delivery():
    return _definitions().resolve_job_def(REFRESH_JOB)


def cohort_year():
    return _definitions().resolve_job_def(COHORT_YEAR_JOB)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("--cohort-year", default="2006-07")
    parser.add_argument(
        "--second-cohort-year", default=None,
        help="a further year run after the first (default: the year before it; '' for none)",
    )
    parser.add_argument("--method", default="deterministic")
    parser.add_argument("--warehouse")
    parser.add_argument("--no-checks", action="store_true", help="run without asset checks")
    args = parser.parse_args()
    os.environ["BENCH_WITHOUT_CHECKS"] = "1" if args.no_checks else "0"
    scratch = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    os.environ["RECONVICTION_LANDING_DIR"] = str(args.landing)
    os.environ["RECONVICTION_LINKAGE_METHOD"] = args.method
    os.environ["RECONVICTION_WAREHOUSE_URL"] = (
        args.warehouse or f"duckdb:///{scratch / 'warehouse.duckdb'}"
    )
    os.environ["DAGSTER_HOME"] = str(scratch / "dagster_home")
    os.environ["RECONVICTION_OUTPUT_DIR"] = str(scratch / "reports")  # not the checkout's data/
    (scratch / "dagster_home").mkdir()
    (scratch / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    import dagster as dg

    second = _year_before(args.cohort_year) if args.second_cohort_year is None \
        else args.second_cohort_year
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        runs = [_run(REFRESH_JOB, instance)]
        if runs[-1][0] is not None:
            runs.append(_run(COHORT_YEAR_JOB, instance, tags={PARTITION_TAG: args.cohort_year}))
        ok = len(runs) == 2 and runs[-1][0] is not None
        if ok:
            refresh, first = runs[0][0], runs[1][0]
            print(f"\nrefresh + cohort year {args.cohort_year}: {refresh + first:.1f} s")
        if ok and second:
            runs.append(_run(COHORT_YEAR_JOB, instance, tags={PARTITION_TAG: second}))
            further = runs[-1][0]
            ok = further is not None
            if ok:
                print(f"\nsecond cohort year {second}: {further:.1f} s = "
                      f"{further / first:.0%} of the first cohort year ({first:.1f} s), "
                      f"{further / (refresh + first):.0%} of refresh + first year "
                      f"({refresh + first:.1f} s)")
    # the steps are the forkserver's children, not this process's: their own records
    largest = max(peak for _, peak in runs)
    print(f"\nend to end: {time.perf_counter() - started:.1f} s; "
          f"peak memory of the largest step process {largest / 1024:.2f} GB (scratch {scratch})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
