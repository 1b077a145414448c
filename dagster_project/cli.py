"""The `reconviction` command: make a synthetic delivery, run the pipeline, show the results.

    reconviction synth --scale demo --seed 7 --out data/landing
    reconviction run                 # materialise every stage from the newest delivery
    reconviction demo                # synth (if the landing folder is empty) + run

Runs are recorded in DAGSTER_HOME (default `data/dagster_home`), so `dagster dev` shows
them with their lineage afterwards.

Exports `main`.
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from dagster_project.settings import Settings, project_data_dir


def _synth(args: argparse.Namespace) -> Path:
    from dataclasses import replace

    from dagster_project.synth import SynthConfig, generate_delivery

    config = SynthConfig.for_scale(args.scale)
    if args.extract_date:
        config = replace(config, extract_date=date.fromisoformat(args.extract_date))
    started = time.perf_counter()
    path = generate_delivery(config, out=Path(args.out), seed=args.seed)
    print(f"wrote {args.scale} delivery {path} in {time.perf_counter() - started:.1f} s")
    return path


def _dagster_home() -> None:
    """Record runs where `dagster dev` will find them, unless the user chose a home."""
    if not os.environ.get("DAGSTER_HOME"):
        home = project_data_dir() / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["DAGSTER_HOME"] = str(home)


def _run(args: argparse.Namespace) -> int:
    _dagster_home()
    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.summary import delivery_summary

    settings = Settings.from_env()
    job = defs.resolve_job_def("refresh_delivery")
    started = time.perf_counter()
    result = job.execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False)
    elapsed = time.perf_counter() - started
    if not result.success:
        for event in result.all_events:
            if event.is_failure:
                print(event.message, file=sys.stderr)
        print(f"run {result.run_id} failed after {elapsed:.1f} s", file=sys.stderr)
        return 1
    print(f"run {result.run_id} succeeded in {elapsed:.1f} s")
    print(delivery_summary(settings))
    return 0


def _demo(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    from dagster_project.delivery import list_deliveries

    if not list_deliveries(settings.landing_dir):
        args.out, args.scale, args.extract_date = str(settings.landing_dir), "demo", None
        _synth(args)
    return _run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reconviction", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    synth = sub.add_parser("synth", help="write a synthetic delivery (and its ground truth)")
    synth.add_argument("--scale", choices=["tiny", "demo", "national"], default="demo")
    synth.add_argument("--seed", type=int, default=7)
    synth.add_argument("--out", default=str(Settings().landing_dir))
    synth.add_argument("--extract-date", help="YYYY-MM-DD (default: the scale's)")
    run = sub.add_parser("run", help="materialise the pipeline from the newest delivery")
    demo = sub.add_parser("demo", help="synthetic demo delivery (if none) + run")
    demo.add_argument("--seed", type=int, default=7)
    for p in (run, demo):
        p.set_defaults(command_fn=_run if p is run else _demo)
    synth.set_defaults(command_fn=lambda a: (_synth(a), 0)[1])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.command_fn(args)


if __name__ == "__main__":
    sys.exit(main())
