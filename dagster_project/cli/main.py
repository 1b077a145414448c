"""The `reconviction` command: make a synthetic delivery, run the pipeline, show the results.

    reconviction synth --scale demo --seed 7 --out data/landing
    reconviction run [--cohort-year 2006-07]   # refresh from the newest delivery + one cohort year
    reconviction demo                          # synth (if the landing folder is empty) + run
    reconviction replication                   # published figures beside the pipeline's
    reconviction backfill 2004-05:2007-08 --parallel 4   # cohort years, 4 runs at a time

Runs are recorded in DAGSTER_HOME (default `data/dagster_home`), so `dg dev` shows them with
their lineage afterwards; Dagster's event stream goes to a log file there, whose path each
command prints. Exit codes: 0 done, 2 refused (the one line on stderr says what to do), 1 failed.

Exports `main`.
"""

import argparse
import logging
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from dagster_project.settings import Settings
from dagster_project.vocabulary.job_names import COHORT_YEAR_JOB, REFRESH_JOB, TRENDS_JOB


def _synth(args: argparse.Namespace) -> int:
    from dagster_project.synth import SynthConfig, generate_delivery
    from dagster_project.synth.profiles import with_profile

    config = with_profile(SynthConfig.for_scale(args.scale), args.profile)
    if args.extract_date:
        config = replace(config, extract_date=date.fromisoformat(args.extract_date))
    # world dials given on the command line (None: the scale's own value)
    dials = {k: getattr(args, k, None) for k in ("treatment_effect", "age_decline")}
    config = replace(config, **{k: v for k, v in dials.items() if v is not None})
    started = time.perf_counter()
    # like `demo` and `run`: the landing folder of the environment unless --out says otherwise
    out = Path(args.out) if args.out else Settings.from_env().landing_dir
    path = generate_delivery(config, out=out, seed=args.seed)
    took = time.perf_counter() - started
    print(f"wrote {args.scale} {args.profile} delivery {path} in {took:.1f} s")
    return 0


def _landed_delivery(settings: Settings) -> Path:
    """The newest complete delivery in the landing folder, or a refusal naming what to do. A
    newer delivery that is refused (incomplete, a broken manifest, dated in the future, a link
    out of the landing folder) refuses the run: it never falls back quietly to an older one."""
    from dagster_project.cli.refusals import newest_refused, no_delivery_refusal
    from dagster_project.delivery.manifest import ignored_folders
    from dagster_project.orchestration.refresh import newest_landed_delivery

    for line in ignored_folders(settings.landing_dir):
        print(f"landing: {line}")
    landed, passed_over = newest_landed_delivery(settings.landing_dir)
    if landed is None:
        raise no_delivery_refusal(settings.landing_dir, passed_over)
    if passed_over:
        raise newest_refused(passed_over, landed)
    return landed


def _mature_cohort_year(requested: str | None, extract_date: str, settings: Settings) -> str:
    """The cohort year to analyse, judged against the delivery before anything is loaded."""
    from dagster_project.cli.refusals import Refusal, immature_refusal
    from dagster_project.cohort.years import ImmatureCohortYear, is_mature
    from dagster_project.cohort.years import newest_mature_cohort_year as newest

    if requested is None:
        try:
            return newest(extract_date, settings)
        except ImmatureCohortYear as exc:
            raise Refusal(f"{exc}; land a later delivery") from None
    try:
        mature = is_mature(requested, extract_date, settings)
    except ValueError as exc:  # not written like 2006-07
        raise Refusal(str(exc)) from None
    if not mature:
        raise immature_refusal([requested], extract_date, settings)
    return requested


def _refresh(session, settings: Settings, landed: Path) -> None:
    """Load the delivery unless the warehouse already holds it (same delivery, code and
    settings, a refresh that finished): Dagster's data and code versions decide."""
    from dagster_project.cli.refusals import Refusal
    from dagster_project.orchestration.refresh import (
        observe_landing,
        redelivery_problem,
        refresh_reason,
    )

    problem = redelivery_problem(session.instance, landed)
    if problem:
        raise Refusal(problem)
    observe_landing(session.instance, landed)
    reason = refresh_reason(session.instance, settings, landed)
    if reason is None:
        print(f"{REFRESH_JOB}: skipped, delivery {landed.name} is loaded already "
              "(same files, code and settings)")
        return
    session.run(REFRESH_JOB, why=f"{reason}; loading {landed.name}")


def _run(args: argparse.Namespace) -> int:
    from dagster_project.analysis.summary import delivery_summary, headline_table
    from dagster_project.cli.session import Session

    settings = Settings.from_env()
    landed = _landed_delivery(settings)
    # judged before any refresh: an immature year is refused in seconds, not after a reload
    cohort_year = _mature_cohort_year(args.cohort_year, landed.name, settings)
    session = Session(args.command)
    _refresh(session, settings, landed)
    print(delivery_summary(settings))
    started = time.time()
    session.run(COHORT_YEAR_JOB, partition_key=cohort_year)
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
    from dagster_project.cli.backfill import backfill_delivery, parse_cohort_years, run_backfill
    from dagster_project.cli.refusals import Refusal, immature_refusal
    from dagster_project.cli.session import JobFailed, Session
    from dagster_project.cohort.years import is_mature

    settings = Settings.from_env()
    try:
        years = parse_cohort_years(args.cohort_years)
    except ValueError as exc:
        raise Refusal(str(exc)) from None
    extract_date, tags = backfill_delivery(settings, args.delivery)
    # refuse immature years before any run starts, rather than fail them one by one
    immature = [y for y in years if not is_mature(y, extract_date, settings)]
    if immature:
        raise immature_refusal(immature, extract_date, settings)
    session = Session(args.command)

    def report(run) -> None:
        for message in run.messages:
            print(f"{run.cohort_year}: {message}", file=sys.stderr)
        state = "succeeded" if run.success else "FAILED"
        print(f"cohort_year {run.cohort_year}: run {run.run_id} {state} in {run.seconds:.1f} s")

    started = time.perf_counter()
    result = run_backfill(years, parallel=args.parallel, report=report, log_file=session.log,
                          tags=tags)
    failed = [r.cohort_year for r in result.runs if not r.success]
    print(f"backfill {result.backfill_id}: {len(years) - len(failed)}/{len(years)} cohort years "
          f"in {time.perf_counter() - started:.1f} s" + (f"; failed: {', '.join(failed)}"
                                                        if failed else ""))
    if failed:
        raise JobFailed(f"cohort years {', '.join(failed)} failed; the trace is in {session.log}")
    if not args.no_trends:
        session.run(TRENDS_JOB)
    return 0


def _replication(args: argparse.Namespace) -> int:
    from dagster_project.analysis.summary import replication_summary

    print(replication_summary(Settings.from_env(), args.cohort_year))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from dagster_project.delivery.manifest import list_deliveries

    settings = Settings.from_env()
    if not list_deliveries(settings.landing_dir):
        demo = argparse.Namespace(
            out=str(settings.landing_dir), scale="demo", seed=args.seed, extract_date=None,
            profile="default",
        )
        _synth(demo)
    return _run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reconviction", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    synth = sub.add_parser("synth", help="write a synthetic delivery (and its ground truth)")
    synth.add_argument("--scale", choices=["tiny", "demo", "national", "full"], default="demo")
    synth.add_argument("--seed", type=int, default=7)
    synth.add_argument("--out", help="default: RECONVICTION_LANDING_DIR, else data/landing")
    synth.add_argument("--extract-date", help="YYYY-MM-DD (default: the scale's)")
    synth.add_argument(
        "--profile", default="default",
        choices=["default", "noisy", "big-pnc", "sparse", "mobile"],
        help="a named world (synth/profiles.py): default, or one the linkage model was "
        "not tuned on",
    )
    synth.add_argument(
        "--treatment-effect", type=float, default=None, metavar="SHARE",
        help="a world with a counterfactual (synth/counterfactual.py): treatment takes away "
        "this share of cases over two years from a start (0: it does nothing); the true "
        "effect per cohort year goes to the truth folder. Default: the calibrated world",
    )
    synth.add_argument(
        "--age-decline", type=float, default=None, metavar="RATE",
        help="how fast offending falls with age past its peak: the rate is multiplied by "
        "exp(-RATE x years past the peak). Default 0.02, the calibrated world's; a larger "
        "RATE gives a world whose convictions fall more without treatment",
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
    backfill.add_argument(
        "--delivery", metavar="YYYY-MM-DD",
        help="read this kept delivery instead of the one in use (RECONVICTION_KEEP_DELIVERIES)",
    )
    backfill.set_defaults(handler=_backfill)
    for command, handler in ((run, _run), (demo, _demo)):
        command.add_argument(
            "--cohort-year", help="e.g. 2006-07 (default: the newest mature cohort year)"
        )
        command.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command: 0 done, 2 refused (one line on stderr saying what to do), 1 failed
    (one line, the trace in the log file)."""
    from dagster_project.cli.refusals import Refusal
    from dagster_project.cli.session import JobFailed

    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except Refusal as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    except JobFailed as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        logging.getLogger("reconviction").error("unexpected error", exc_info=exc)
        where = [h.baseFilename for h in logging.getLogger().handlers if hasattr(h, "baseFilename")]
        print(f"error: {type(exc).__name__}: {exc}" + (f" (trace in {where[-1]})" if where else ""),
              file=sys.stderr)
        if not where:
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
