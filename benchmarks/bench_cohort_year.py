"""Run one cohort year end to end on a delivery, time each stage, and compare with the study.

    python benchmarks/bench_cohort_year.py LANDING/2009-10-31 [--cohort-year 2006-07]
        [--method deterministic|probabilistic] [--outcomes]

Staging → linkage → journeys → cohort → outcomes with the pipeline's pure functions (no
Dagster, no warehouse). Prints each stage's wall time and the process's peak resident
memory (`resource.getrusage`: a running maximum, so a stage's figure includes everything
before it), the time of journeys + cohort + outcomes together (the part that runs per
cohort year), then the replication table of REFERENCE_FIGURES.md (markdown). `--outcomes`
also prints the unpublished outcome table's headline rows: the calibration view.
"""

import argparse
import resource
import time
from pathlib import Path

import pandas as pd

from dagster_project.analysis.replication import replication_table
from dagster_project.cohort import (
    check_mature,
    outcome_table,
    publish_funnel,
    publish_outcome_table,
    select_cohort,
    treatment_journeys,
)
from dagster_project.delivery.manifest import verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.linkage import client_identities, nta_links, pnc_identity_variants
from dagster_project.linkage.handover import (
    client_link_status,
    client_links_table,
    linked_offences,
    treatment_episodes,
)
from dagster_project.settings import Settings
from dagster_project.staging import stage_delivery

PSEUDONYM_KEY = "benchmark"  # pseudonyms never leave this process
CALIBRATION_DIMENSIONS = [
    "all", "drug_group", "referral_route", "retention_band", "exit_group", "offence_group",
    "completion_by_retention", "completion_by_reentry", "dropout_by_reentry",
]


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


class Timer:
    """Wall time per stage, printed as it ends; `since` sums a run of stages."""

    def __init__(self):
        self.started = self.mark = time.perf_counter()

    def step(self, label: str) -> None:
        now = time.perf_counter()
        print(f"{label:<44} {now - self.mark:7.1f} s   peak RSS {peak_gb():5.2f} GB", flush=True)
        self.mark = now

    def since(self, label: str, started: float) -> None:
        took = time.perf_counter() - started
        print(f"{label:<44} {took:7.1f} s   peak RSS {peak_gb():5.2f} GB", flush=True)


def stage(folder: Path) -> tuple[dict[str, pd.DataFrame], str]:
    """The staged tables of a delivery, and its extract date."""
    delivery = verify_delivery(folder)
    raws = {name: read_extract(delivery, name)[0] for name in delivery.files}
    staged, _ = stage_delivery(raws, {name: load_reference(name) for name in REFERENCE_TABLES})
    return staged, folder.name


def link(staged: dict[str, pd.DataFrame], settings: Settings) -> pd.DataFrame:
    """Per-client links under the settings' rule (attributor, link_status, pncid, …)."""
    clients = client_identities(staged["ndtms_episodes.csv"])
    variants = pnc_identity_variants(staged["pnc_nominals.csv"], staged["pnc_aliases.csv"])
    if settings.linkage_method == "deterministic":
        return nta_links(clients, variants)
    from dagster_project.linkage.probabilistic import probabilistic_links

    return probabilistic_links(clients, variants, staged["pnc_offences.csv"], settings)[0]


def run_cohort_year(folder: Path, cohort_year: str, settings: Settings, timer: Timer) -> dict:
    """The whole chain for one cohort year; returns funnel, outcomes (raw and published)."""
    staged, extract_date = stage(folder)
    check_mature(cohort_year, extract_date, settings)
    timer.step("verify, read and stage")
    links = client_links_table(link(staged, settings), PSEUDONYM_KEY)
    timer.step(f"linkage ({settings.linkage_method})")
    episodes = treatment_episodes(staged["ndtms_episodes.csv"], PSEUDONYM_KEY,
                                  Settings().journey_gap_days)
    status, offences = client_link_status(links), linked_offences(links, staged["pnc_offences.csv"])
    del staged
    timer.step("hand-over (pseudonymised tables)")
    per_year = time.perf_counter()
    journeys = treatment_journeys(episodes, settings)
    timer.step("journeys")
    result = select_cohort(journeys, status, offences, settings, cohort_year)
    timer.step("cohort")
    outcomes = outcome_table(result.members, result.convictions_by_group, settings)
    funnel = publish_funnel(result.funnel, settings.disclosure_threshold, result.members)
    published = publish_outcome_table(outcomes, settings.disclosure_threshold, result.members,
                                      result.convictions_by_group, funnel)
    timer.step("outcomes (with disclosure control)")
    timer.since("journeys + cohort + outcomes (target <= 120 s)", per_year)
    return {"funnel": result.funnel, "outcomes": outcomes, "published": published,
            "published_funnel": funnel}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("delivery", type=Path)
    parser.add_argument("--cohort-year", default="2006-07")
    parser.add_argument("--method", default="deterministic",
                        choices=["deterministic", "probabilistic"])
    parser.add_argument("--outcomes", action="store_true", help="print the calibration view")
    args = parser.parse_args()
    settings = Settings(linkage_method=args.method, pseudonym_key=PSEUDONYM_KEY)
    timer = Timer()
    out = run_cohort_year(args.delivery, args.cohort_year, settings, timer)
    print(f"{'whole run':<44} {time.perf_counter() - timer.started:7.1f} s   "
          f"peak RSS {peak_gb():5.2f} GB\n")
    print(out["funnel"][["stage", "persons"]].to_markdown(index=False), "\n")
    if args.outcomes:
        rows = out["outcomes"][out["outcomes"]["dimension"].isin(CALIBRATION_DIMENSIONS)]
        columns = ["dimension", "group", "n", "before", "after", "reduction", "reduction_at_risk"]
        print(rows[columns].to_markdown(index=False, floatfmt=".3f"), "\n")
    # the published tables, as a reader of the report would compute the figures from them
    table = replication_table(out["published_funnel"], out["published"], args.method)
    print(table.to_markdown(index=False))
    print(f"\n{int(table['passes'].sum())} of {len(table)} figures pass")


if __name__ == "__main__":
    main()
