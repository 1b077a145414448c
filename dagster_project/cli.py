"""The `reconviction` command: make a synthetic delivery, run the pipeline, show the results.

    reconviction synth --scale demo --seed 7 --out data/landing
    reconviction run [--cohort-year 2006-07]   # refresh from the newest delivery + one cohort year
    reconviction demo                          # synth (if the landing folder is empty) + run
    reconviction replication                   # published figures beside the pipeline's
    reconviction backfill 2004-05:2007-08 --parallel 4   # cohort years, 4 runs at a time

Runs are recorded in DAGSTER_HOME (default `data/dagster_home`), so `dagster dev` shows
them with their lineage afterwards.

Exports `main`.
"""

import argparse
import os
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from dagster_project.settings import Settings, project_data_dir


def _synth(args: argparse.Namespace) -> int:
    from dagster_project.synth import SynthConfig, generate_delivery
    from dagster_project.synth.profiles import with_profile

    config = with_profile(SynthConfig.for_scale(args.scale), args.profile)
    if args.extract_date:
        config = replace(config, extract_date=date.fromisoformat(args.extract_date))
    started = time.perf_counter()
    path = generate_delivery(config, out=Path(args.out), seed=args.seed)
    took = time.perf_counter() - started
    print(f"wrote {args.scale} {args.profile} delivery {path} in {took:.1f} s")
    return 0


def _dagster_home() -> None:
    """Record runs where `dagster dev` will find them, unless the user chose a home."""
    if not os.environ.get("DAGSTER_HOME"):
        home = project_data_dir() / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        if not config.exists():
            # local SQLite storage (Dagster's default); no usage data leaves the machine
            config.write_text("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = str(home)


def _execute(job_name: str, instance, **kwargs) -> bool:
    """Run one job in this process; print its failures (messages name file, line, rule)."""
    from dagster_project.runs import execute_job, failure_messages

    started = time.perf_counter()
    result = execute_job(job_name, instance, **kwargs)
    elapsed = time.perf_counter() - started
    for message in failure_messages(result):
        print(message, file=sys.stderr)
    state = "succeeded" if result.success else "FAILED"
    label = f"{job_name} {kwargs.get('partition_key', '')}".strip()
    print(f"{label}: run {result.run_id} {state} in {elapsed:.1f} s")
    return result.success


def _run(args: argparse.Namespace) -> int:
    _dagster_home()
    import dagster as dg

    from dagster_project.cohort import newest_mature_cohort_year
    from dagster_project.summary import delivery_summary, extract_date_of, headline_table

    settings = Settings.from_env()
    instance = dg.DagsterInstance.get()
    if not _execute("refresh_delivery", instance):
        return 1
    print(delivery_summary(settings))
    cohort_year = args.cohort_year or newest_mature_cohort_year(
        extract_date_of(settings), settings
    )
    started = time.time()
    if not _execute("cohort_year", instance, partition_key=cohort_year):
        return 1
    print(headline_table(settings, cohort_year))
    _print_report_location(cohort_year, since=started)
    return 0


def _print_report_location(cohort_year: str, since: float) -> None:
    """Say where this run's report is (written by the `cohort_report` asset), or that it is not."""
    from dagster_project.report import report_path

    path = report_path(cohort_year)
    if path.exists() and path.stat().st_mtime >= since:
        print(f"\nreport: {path}\n  (published tables as CSV and a workbook beside it)")
    else:
        print(f"\nreport: not written by this run (it goes to {path})")


def _backfill(args: argparse.Namespace) -> int:
    """Cohort years of the loaded delivery, several runs at once, then the trends."""
    _dagster_home()
    import dagster as dg

    from dagster_project.backfill import parse_cohort_years, run_backfill
    from dagster_project.cohort import required_extract_date
    from dagster_project.summary import extract_date_of

    settings = Settings.from_env()
    years = parse_cohort_years(args.cohort_years)
    extract_date = extract_date_of(settings)
    # refuse immature years before any run starts, rather than fail them one by one
    immature = [y for y in years if required_extract_date(y, settings).isoformat() > extract_date]
    if immature:
        print(f"not mature on the loaded extract ({extract_date}): {', '.join(immature)}; "
              "load a later delivery first", file=sys.stderr)
        return 2

    def report(run) -> None:
        for message in run.messages:
            print(f"{run.cohort_year}: {message}", file=sys.stderr)
        state = "succeeded" if run.success else "FAILED"
        print(f"cohort_year {run.cohort_year}: run {run.run_id} {state} in {run.seconds:.1f} s")

    started = time.perf_counter()
    result = run_backfill(years, parallel=args.parallel, report=report)
    failed = [r.cohort_year for r in result.runs if not r.success]
    print(f"backfill {result.backfill_id}: {len(years) - len(failed)}/{len(years)} cohort years "
          f"in {time.perf_counter() - started:.1f} s" + (f"; failed: {', '.join(failed)}"
                                                        if failed else ""))
    if failed:
        return 1
    if not args.no_trends and not _execute("trends", dg.DagsterInstance.get()):
        return 1
    return 0


def _replication(args: argparse.Namespace) -> int:
    from dagster_project.summary import replication_summary

    print(replication_summary(Settings.from_env(), args.cohort_year))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from dagster_project.delivery import list_deliveries

    settings = Settings.from_env()
    if not list_deliveries(settings.landing_dir):
        demo = argparse.Namespace(
            out=str(settings.landing_dir), scale="demo", seed=args.seed, extract_date=None
        )
        _synth(demo)
    return _run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reconviction", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    synth = sub.add_parser("synth", help="write a synthetic delivery (and its ground truth)")
    synth.add_argument("--scale", choices=["tiny", "demo", "national"], default="demo")
    synth.add_argument("--seed", type=int, default=7)
    synth.add_argument("--out", default=str(Settings().landing_dir))
    synth.add_argument("--extract-date", help="YYYY-MM-DD (default: the scale's)")
    synth.add_argument(
        "--profile", default="default",
        choices=["default", "noisy", "big-pnc", "sparse", "mobile"],
        help="a named world (synth/profiles.py): default, or one the linkage model was "
        "not tuned on",
    )
    synth.set_defaults(handler=_synth)
    run = sub.add_parser("run", help="materialise every stage from the newest delivery")
    demo = sub.add_parser("demo", help="a synthetic demo delivery (if none) + run")
    demo.add_argument("--seed", type=int, default=7)
    replication = sub.add_parser(
        "replication", help="the published figures beside the pipeline's (both linkage rules)"
    )
    replication.add_argument("--cohort-year", default="2006-07")
    replication.set_defaults(handler=_replication)
    backfill = sub.add_parser(
        "backfill", help="cohort years of the loaded delivery, in parallel runs, then trends"
    )
    backfill.add_argument("cohort_years", help="2004-05:2007-08 (range), 2004-05,2006-07 (list)")
    backfill.add_argument("--parallel", type=int, default=1, help="runs at once (default 1)")
    backfill.add_argument(
        "--no-trends", action="store_true", help="skip the trends job (cohort_trends)"
    )
    backfill.set_defaults(handler=_backfill)
    for command, handler in ((run, _run), (demo, _demo)):
        command.add_argument(
            "--cohort-year", help="e.g. 2006-07 (default: the newest mature cohort year)"
        )
        command.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
