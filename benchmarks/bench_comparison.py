"""Time the comparison step (METHOD.md §10) of one cohort year on a loaded warehouse.

    python benchmarks/bench_comparison.py WAREHOUSE_URL [--cohort-year 2006-07]
        [--truth TRUTH_DIR] [--save DIR]

Reads what the `comparison_outcomes`/`comparison_balance` step reads (cohort_members,
treatment_journeys and the per-delivery comparison_persons/_convictions/_custody) from a
warehouse the pipeline has filled, runs `compare`, and prints the wall time of the step
(reading included), the process's peak resident memory (`resource.getrusage`), the `all`
and `placebo` rows, the largest |SMD| after weighting, and with `--truth` the generator's
true effect for the year (comparison_truth.csv). `--save` writes the unpublished outcomes
and the balance table as CSV (to compare two versions of the step exactly).
"""

import argparse
import resource
import time
from pathlib import Path

import pandas as pd

from dagster_project.comparison import compare, publish_comparison
from dagster_project.settings import Settings
from dagster_project.vocabulary.partition import PARTITION_COLUMN
from dagster_project.warehouse.engine import Warehouse

_COLUMNS = ["dimension", "group", "n", "n_treated", "n_controls", "controls_treated_later",
            "naive_reduction", "control_reduction", "adjusted_reduction", "ci_low", "ci_high",
            "max_abs_smd"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("warehouse_url")
    parser.add_argument("--cohort-year", default="2006-07")
    parser.add_argument("--truth")
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env(warehouse_url=args.warehouse_url)
    started = time.perf_counter()
    wh = Warehouse(args.warehouse_url)
    year = (PARTITION_COLUMN, args.cohort_year)
    members = wh.read_table("cohort_members", partition=year)
    journeys = wh.read_table("treatment_journeys")
    pool = [wh.read_table(t) for t in ("comparison_persons", "comparison_convictions",
                                       "comparison_custody")]
    read = time.perf_counter() - started
    result = compare(members, *pool, journeys, settings, args.cohort_year)
    published = publish_comparison(result.outcomes, settings.disclosure_threshold)
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"comparison step {args.cohort_year}: {took:.1f} s (reading {read:.1f} s), "
          f"peak RSS {peak:.2f} GB; {result.eligible_person_dates:,} eligible person-dates, "
          f"model fitted on {result.fit_rows:,} rows{' (a sample)' if result.sampled else ''}")
    rows = published[published["dimension"].isin(["all", "placebo"])][_COLUMNS]
    print(rows.to_markdown(index=False, floatfmt=".4f"))
    print(f"max |SMD| after weighting: {result.balance['smd_after_weighting'].abs().max():.4f}")
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        result.outcomes.to_csv(args.save / "outcomes.csv", index=False)
        result.balance.to_csv(args.save / "balance.csv", index=False)
    if args.truth:
        truth = pd.read_csv(Path(args.truth) / "comparison_truth.csv")
        print(truth[truth["cohort_year"] == args.cohort_year].to_markdown(index=False,
                                                                         floatfmt=".4f"))


if __name__ == "__main__":
    main()
