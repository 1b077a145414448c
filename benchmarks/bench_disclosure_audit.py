"""The disclosure audit on many small cohort years drawn from the synthetic generator.

    python benchmarks/bench_disclosure_audit.py [--draws 200] [--deliveries 4] [--seed 0]
        [--scale tiny] [--work DIR]

Writes `--deliveries` synthetic deliveries (`reconviction synth`, seeds seed+1…), runs each
through staging → NTA linkage → journeys → cohort for every mature cohort year (the
pipeline's pure functions, as `bench_cohort_year.py`), then draws `--draws` small cohort
years: a generated cohort year, a size n between 20 and 300, n of its members at random
(their attributes and convictions as generated) and the persons outside the cohort in
each funnel stage thinned in the same proportion. Each draw is published as the pipeline
publishes (funnel on its own, then the outcome table with it) and every published set is
audited afresh; the script prints how many draws leave a cell recoverable (the target is
none), the cells suppressed by the primary rule and in addition by the audit, and the time.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_cohort_year import PSEUDONYM_KEY, link, stage  # a sibling script

from dagster_project.cohort import outcome_table, select_cohort, treatment_journeys
from dagster_project.cohort.disclosure import (
    OUTCOME_DEPENDENTS,
    OUTCOME_PERSON_COUNTS,
    disclosure_findings,
    publish_funnel,
    publish_outcome_table,
    suppress,
)
from dagster_project.cohort.published_cells import OUTCOME_COUNTS
from dagster_project.cohort.years import is_mature
from dagster_project.linkage.handover import (
    client_link_status,
    client_links_table,
    linked_offences,
    treatment_episodes,
)
from dagster_project.orchestration.partitions import COHORT_YEAR_KEYS
from dagster_project.settings import Settings
from dagster_project.synth import SynthConfig, generate_delivery


def generated_cohort_years(work: Path, deliveries: int, seed: int, scale: str, settings):
    """(members, convictions by group, funnel) of every mature cohort year generated."""
    years = []
    for k in range(1, deliveries + 1):
        folder = generate_delivery(SynthConfig.for_scale(scale), work / f"s{seed + k}", seed + k)
        staged, extract_date = stage(folder)
        links = client_links_table(link(staged, settings), PSEUDONYM_KEY)
        episodes = treatment_episodes(staged["ndtms_episodes.csv"], PSEUDONYM_KEY,
                                  Settings().journey_gap_days)
        status, offences = client_link_status(links), linked_offences(
            links, staged["pnc_offences.csv"])
        journeys = treatment_journeys(episodes, settings)
        for year in COHORT_YEAR_KEYS:
            if is_mature(year, extract_date, settings):
                result = select_cohort(journeys, status, offences, settings, year)
                if len(result.members) >= 20:
                    years.append((result.members, result.convictions_by_group, result.funnel))
    return years


def draw(rng, members, by_group, funnel):
    """A small cohort year: n members at random, the funnel thinned alike."""
    n = int(rng.integers(20, min(300, len(members)) + 1))
    chosen = members.iloc[np.sort(rng.choice(len(members), n, replace=False))]
    fraction = n / len(members)
    p = funnel.set_index("stage")["persons"]
    status = members["link_status"].value_counts()
    thin = lambda k: int(rng.binomial(int(k), fraction))  # noqa: E731
    under_18, ambiguous = thin(p["starters"] - p["adult_starters"]), thin(p["ambiguous"])
    chosen_status = chosen["link_status"].value_counts()
    matched = int(chosen_status.get("matched", 0)) + thin(p["matched"] - status.get("matched", 0))
    absent = int(chosen_status.get("absent", 0)) + thin(p["absent"] - status.get("absent", 0))
    adults = matched + absent + ambiguous
    small = funnel.assign(persons=np.array(
        [adults + under_18, adults, matched, absent, ambiguous, matched + absent, n]))
    return chosen, by_group[by_group["person_key"].isin(chosen["person_key"])], small


def hidden_counts(table: pd.DataFrame, columns) -> int:
    return int(sum(len([c for c in cells.split(",") if c in columns])
                   for cells in table["suppressed_cells"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--deliveries", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings(linkage_method="deterministic", pseudonym_key=PSEUDONYM_KEY)
    threshold = settings.disclosure_threshold
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        started = time.perf_counter()
        years = generated_cohort_years(work, args.deliveries, args.seed, args.scale, settings)
        print(f"{len(years)} generated cohort years ({[len(y[0]) for y in years]} members) in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
    rng = np.random.default_rng(args.seed)
    rows, audit_seconds = [], 0.0
    for k in range(args.draws):
        members, by_group, funnel = draw(rng, *years[int(rng.integers(len(years)))])
        table = outcome_table(members, by_group, settings)
        tick = time.perf_counter()
        published_funnel = publish_funnel(funnel, threshold, members)
        published = publish_outcome_table(table, threshold, members, by_group, published_funnel)
        publish_seconds = time.perf_counter() - tick
        audit_seconds += publish_seconds
        found = disclosure_findings(published, published_funnel, members, by_group, threshold)
        primary = suppress(table, OUTCOME_PERSON_COUNTS, threshold, dependents=OUTCOME_DEPENDENTS)
        primary_funnel = suppress(funnel, ["persons"], threshold)
        rows.append({
            "n": len(members), "cells": len(table) * len(OUTCOME_COUNTS) + len(funnel),
            "primary": hidden_counts(primary, OUTCOME_COUNTS)
            + hidden_counts(primary_funnel, ["persons"]),
            "final": hidden_counts(published, OUTCOME_COUNTS)
            + hidden_counts(published_funnel, ["persons"]),
            "recoverable": len(found["recoverable"]), "small_shown": len(found["small"]),
            "seconds": publish_seconds,
        })
        if (k + 1) % 20 == 0:
            print(f"{k + 1} draws, {audit_seconds:.0f} s publishing", flush=True)
    report(pd.DataFrame(rows))


def report(results: pd.DataFrame) -> None:
    results["additional"] = results["final"] - results["primary"]
    bands = pd.cut(results["n"], [19, 50, 100, 200, 300])
    summary = results.groupby(bands, observed=True).agg(
        draws=("n", "size"), cells=("cells", "mean"), primary=("primary", "mean"),
        additional=("additional", "mean"), final=("final", "mean"),
        seconds=("seconds", "mean"))
    print(summary.to_markdown(floatfmt=".1f"))
    print(f"\ndraws: {len(results)}; with a recoverable cell after the audit: "
          f"{int((results['recoverable'] > 0).sum())}; with a small count shown: "
          f"{int((results['small_shown'] > 0).sum())}")
    print(f"count cells suppressed: primary {int(results['primary'].sum())}, in addition by the "
          f"audit {int(results['additional'].sum())} (mean {results['additional'].mean():.1f} "
          f"per draw, median {results['additional'].median():.0f}, max "
          f"{int(results['additional'].max())}) of {int(results['cells'].sum())} count cells")
    print(f"publishing (funnel + outcome table, with the audit): mean "
          f"{results['seconds'].mean():.2f} s, max {results['seconds'].max():.2f} s per draw")


if __name__ == "__main__":
    main()
