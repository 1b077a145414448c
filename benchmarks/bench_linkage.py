"""Time both linkage rules on one synthetic delivery and score them against its truth.

    python benchmarks/bench_linkage.py LANDING/2009-10-31 [--cohort-year 2006-07] [--seed 42]

Stages the delivery, builds the identity tables, runs the NTA rule and the probabilistic
rule, and prints each step's wall time and the process's peak resident memory
(Linux VmHWM, reset before the NTA rule, so its figure is its own peak with the staged
tables it reads; the probabilistic rule runs in a process of its own that reads the PNC's
variants and offences streamed from a DuckDB warehouse file, as the pipeline's step does),
then the quality of both rules among adult clients with a journey starting in the cohort
year (the project's own journey chaining), overall and by the identity error the generator
planted. The truth is read from `LANDING/../truth/<extract date>/`.
"""

import argparse
import contextlib
import logging
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from dagster_project.delivery.manifest import verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.linkage import client_identities, nta_links, pnc_identity_variants
from dagster_project.linkage.evaluation import (
    adult_starters,
    calibration_table,
    client_truth,
    error_breakdown,
    evaluate_links,
    exact_stranger_share,
    no_record_absent_by_stranger,
    record_persons,
)
from dagster_project.linkage.features import OFFENCE_INPUT_COLUMNS, VARIANT_INPUT_COLUMNS
from dagster_project.linkage.handover import STAGED_OFFENCES
from dagster_project.linkage.identities import ATTRIBUTOR
from dagster_project.linkage.probabilistic import model_parameters_markdown, score_pairs
from dagster_project.linkage.resolve import links_from_pairs
from dagster_project.linkage.variant_reads import VARIANTS, streamed
from dagster_project.settings import Settings
from dagster_project.staging import stage_delivery
from dagster_project.warehouse.engine import Warehouse


def _peak_gb() -> float:
    """Peak resident memory since the last `_reset_peak` (Linux VmHWM), else since start."""
    try:
        status = Path("/proc/self/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines()
                   if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    return kib / 1024**2


def _reset_peak() -> None:
    """Start a new peak (Linux: writing 5 to clear_refs resets VmHWM), so that a rule's
    figure is its own and not staging's, which reads every file at once."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


class _Timer:
    def __init__(self):
        self.started = time.perf_counter()

    def step(self, label: str) -> float:
        now = time.perf_counter()
        took, self.started = now - self.started, now
        print(f"{label:<40} {took:7.1f} s   peak RSS {_peak_gb():5.2f} GB", flush=True)
        return took


_CACHED = {"ndtms_episodes.csv": None, "pnc_nominals.csv": None, "pnc_aliases.csv": None,
           "pnc_offences.csv": ["pncid", "offence_start", "force"]}


def _stage(folder: Path, timer: _Timer, cache: Path | None) -> dict[str, pd.DataFrame]:
    """The staged tables linkage reads; with `cache`, kept as parquet there so that a
    second run on the same delivery skips staging (staging is benchmarked elsewhere)."""
    if cache and all((cache / f"{name}.parquet").exists() for name in _CACHED):
        staged = {name: pd.read_parquet(cache / f"{name}.parquet") for name in _CACHED}
        timer.step("staged tables from the cache")
        return staged
    delivery = verify_delivery(folder)
    raws = {name: read_extract(delivery, name)[0] for name in delivery.files}
    refs = {name: load_reference(name) for name in REFERENCE_TABLES}
    staged, _ = stage_delivery(raws, refs)
    staged = {name: staged[name] if columns is None else staged[name][columns]
              for name, columns in _CACHED.items()}
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        for name, frame in staged.items():
            frame.to_parquet(cache / f"{name}.parquet")
    timer.step("verify, read and stage")
    return staged


def _warehouse_in(folder: Path) -> Warehouse:
    return Warehouse(f"duckdb:///{folder / 'warehouse.duckdb'}")


def _warehouse(folder: Path, variants: pd.DataFrame, offences: pd.DataFrame) -> None:
    """The PNC's identity variants and staged offences in a DuckDB warehouse file of their
    own, for the probabilistic rule to stream as the pipeline does."""
    warehouse = _warehouse_in(folder)
    warehouse.write_tables({VARIANTS: variants, STAGED_OFFENCES: offences})
    warehouse.dispose()  # the file's lock goes with it: the rule's process opens it


def _in_a_process_of_its_own(folder: Path, clients: pd.DataFrame, absent_floor: float,
                             seed: int, with_levels: bool):
    """`score_pairs` in a fresh process, as a Dagster step runs: its peak memory is the
    rule's own (the clients, two DuckDB databases, the scored pairs), not this benchmark's
    staged tables. Returns the pairs, the model, wall time and peak RSS in GB."""
    clients.to_parquet(folder / "clients.parquet")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_score_from_the_warehouse, (str(folder), absent_floor, seed,
                                                      with_levels))


def _score_from_the_warehouse(folder: str, absent_floor: float, seed: int, with_levels: bool):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("splink").setLevel(logging.WARNING)
    started = time.perf_counter()
    clients = pd.read_parquet(Path(folder) / "clients.parquet")
    warehouse = _warehouse_in(Path(folder))
    try:
        pairs, model = score_pairs(
            clients, streamed(warehouse, VARIANTS, VARIANT_INPUT_COLUMNS),
            streamed(warehouse, STAGED_OFFENCES, OFFENCE_INPUT_COLUMNS), absent_floor,
            seed=seed, with_levels=with_levels)
    finally:
        warehouse.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KB on Linux
    return pairs, model, time.perf_counter() - started, peak


def _print_quality(name: str, summary: dict, breakdown: pd.DataFrame) -> None:
    print(f"\n== {name} ==")
    for key, value in summary.items():
        print(f"  {key:<36} {value:.4f}" if isinstance(value, float)
              else f"  {key:<36} {value}")
    with pd.option_context("display.width", 140, "display.float_format", "{:.4f}".format):
        print(breakdown.to_string())


def _worst_band(calibration: pd.DataFrame, min_pairs: int = 200) -> str:
    held = calibration[calibration["pairs"] >= min_pairs]
    if held.empty:
        return "no band with enough pairs"
    worst = held.loc[held["gap"].abs().idxmax()]
    return (f"{worst['band']}: predicted {worst['mean_predicted']:.3f}, "
            f"correct {worst['share_correct']:.3f} ({int(worst['pairs']):,} pairs)")


def _summary_row(profile: str, rule: str, quality: dict, worst: str) -> str:
    return (f"| {profile} | {rule} | {quality['precision']:.4f} | {quality['recall']:.4f} | "
            f"{quality['share_matched']:.4f} | {quality['share_absent']:.4f} | "
            f"{quality['share_ambiguous']:.4f} | {quality['no_record_absent_share']:.4f} | "
            f"{worst} |")


def _save_pairs(path: Path, pairs: pd.DataFrame, truth: pd.DataFrame,
                mask: pd.Series) -> None:
    """Adult starters' scored pairs with `true` (the PNC record is the client's) and
    whether the client has a record at all."""
    pairs = pairs[mask.to_numpy()[pairs["client"].to_numpy()]]
    true_pncids = truth["true_pncids"].reset_index(drop=True)
    client_truth_ = true_pncids.iloc[pairs["client"].to_numpy()].to_numpy()
    pairs = pairs.assign(
        true=[str(p) in t for p, t in zip(pairs["pncid"], client_truth_, strict=True)],
        has_record=[len(t) > 0 for t in client_truth_])
    pairs.to_parquet(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("delivery", type=Path)
    parser.add_argument("--cohort-year", default="2006-07")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache", type=Path, help="keep the staged tables here (parquet)")
    parser.add_argument("--profile", default="", help="a label for the summary table")
    parser.add_argument("--save-pairs", type=Path,
                        help="write the scored pairs of adult starters, with their truth, "
                        "here (parquet), to study the model's errors")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("splink").setLevel(logging.WARNING)
    settings = Settings()
    timer = _Timer()
    staged = _stage(args.delivery, timer, args.cache)
    episodes = staged["ndtms_episodes.csv"]
    clients = client_identities(episodes)
    variants = pnc_identity_variants(staged["pnc_nominals.csv"], staged["pnc_aliases.csv"])
    timer.step(f"identities ({len(clients):,} clients, {len(variants):,} variants)")
    _reset_peak()
    nta = nta_links(clients, variants)
    nta_time = timer.step("NTA rule")
    # all that the summary reads of the variants later: those of some client's attributor
    sharing = variants.merge(clients[ATTRIBUTOR].drop_duplicates(), on=ATTRIBUTOR)[ATTRIBUTOR]
    with tempfile.TemporaryDirectory(prefix="bench-linkage-") as scratch:
        _warehouse(Path(scratch), variants, staged.pop("pnc_offences.csv"))
        del variants, staged["pnc_nominals.csv"], staged["pnc_aliases.csv"]
        timer.step("variants and offences into a warehouse")
        pairs, model, prob_time, prob_peak = _in_a_process_of_its_own(
            Path(scratch), clients, settings.absent_floor, args.seed, args.save_pairs is not None)
    prob = links_from_pairs(clients, pairs, settings.match_threshold, settings.absent_floor)
    print(f"{'probabilistic rule (features, training, scoring)':<40} {prob_time:7.1f} s   "
          f"peak RSS {prob_peak:5.2f} GB (a process of its own)", flush=True)
    print(f"\nlinkage time: NTA {nta_time:.1f} s, probabilistic {prob_time:.1f} s; the NTA "
          "rule's peak includes the staged tables in memory; the probabilistic rule runs in a "
          "process of its own, reading the PNC streamed from a warehouse file, as the "
          "pipeline's step `client_link_candidates` does")

    truth = client_truth(args.delivery.parent.parent / "truth" / args.delivery.name, clients)
    mask = adult_starters(episodes, clients, args.cohort_year, settings)
    print(f"\nadult starters {args.cohort_year}: {int(mask.sum()):,} clients")
    nta_quality = evaluate_links(nta, truth, mask)
    prob_quality = evaluate_links(prob, truth, mask, baseline=nta)
    _print_quality("NTA rule", nta_quality, error_breakdown(nta, truth, mask))
    _print_quality("probabilistic rule", prob_quality, error_breakdown(prob, truth, mask))
    calibration = calibration_table(pairs, truth, mask)
    if args.save_pairs:
        _save_pairs(args.save_pairs, pairs, truth, mask)
    truth_dir = args.delivery.parent.parent / "truth" / args.delivery.name
    by_person = calibration_table(pairs, truth, mask, record_persons(truth_dir))
    with pd.option_context("display.width", 140, "display.float_format", "{:.4f}".format):
        print("\n== calibration of the probabilistic rule (adult starters' scored pairs) ==")
        print(calibration.to_string(index=False))
        print("\n== the same per person (a person's unconsolidated PNC records summed) ==")
        print(by_person.to_string(index=False))
        # a client that is two persons under one attributor has a record that matches
        # neither its area nor its ethnicity: the model cannot see which person it is
        one_person = mask & truth["persons"].map(len).le(1)
        print("\n== the same per person, clients that are one person only ==")
        print(calibration_table(pairs, truth, one_person,
                                record_persons(truth_dir)).to_string(index=False))
    print("\n== targets (probabilistic rule) ==")
    ratio = prob_quality["share_ambiguous"] / max(nta_quality["share_ambiguous"], 1e-9)
    print(f"  precision {prob_quality['precision']:.4f} (>= 0.995)")
    print(f"  ambiguous share ratio {ratio:.3f} (<= 0.50)")
    print(f"  recall {prob_quality['recall']:.4f} vs NTA {nta_quality['recall']:.4f} + 0.10")
    print(f"  no-record clients absent {prob_quality['no_record_absent_share']:.4f} (>= 0.90); "
          f"{exact_stranger_share(clients, sharing, truth, mask):.4f} of them share their "
          "whole attributor with a PNC identity")
    split = no_record_absent_by_stranger(prob, clients, sharing, truth, mask)
    print(f"  no-record clients absent: {split['absent_exact_strangers']:.4f} of those sharing "
          f"their whole attributor with a PNC identity ({split['exact_stranger_share']:.4f} "
          f"of them), {split['absent_others']:.4f} of the others; with the others all absent "
          f"the share could reach {split['ceiling_at_this_exact_stranger_rate']:.4f}")
    print("\n| profile | rule | precision | recall | matched | absent | ambiguous "
          "| no-record absent | worst calibration band (>= 200 pairs) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(_summary_row(args.profile, "NTA", nta_quality, "—"))
    print(_summary_row(args.profile, "probabilistic", prob_quality,
                       f"{_worst_band(calibration)}; per person {_worst_band(by_person)}"))
    print("\n" + model_parameters_markdown(model))


if __name__ == "__main__":
    main()
