"""Time the raw and staging stages on one delivery: verify, read each file, stage.

    python benchmarks/bench_load.py LANDING/2009-10-31          # an existing delivery
    python benchmarks/bench_load.py --fabricate 10000000 /tmp/fab  # write one first

`--fabricate N` writes a crude delivery with N offences (N/3 nominals, N/10 episodes and
aliases) built with numpy, for when no synthetic generator is at hand. It is a load test,
not realistic data: a few rows are quoted names with commas and newlines.

Prints wall time per step and the peak resident memory of the process.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from dagster_project.delivery.manifest import verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.staging import stage_delivery


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class _Timer:
    def __init__(self):
        self.started = time.perf_counter()

    def step(self, label: str) -> None:
        now = time.perf_counter()
        print(
            f"{label:<32} {now - self.started:7.1f} s   peak RSS {_peak_rss_mb():7.0f} MB",
            flush=True,
        )
        self.started = now


def benchmark(folder: Path) -> None:
    total = time.perf_counter()
    timer = _Timer()
    delivery = verify_delivery(folder)
    timer.step("verify (sha256 + row count)")
    raws = {}
    for name in delivery.files:
        raws[name], _ = read_extract(delivery, name)
        timer.step(f"read {name} ({len(raws[name]):,})")
    refs = {name: load_reference(name) for name in REFERENCE_TABLES}
    staged, rejects = stage_delivery(raws, refs)
    timer.step(f"stage ({len(rejects):,} rejects)")
    print(f"{'total':<32} {time.perf_counter() - total:7.1f} s   peak RSS {_peak_rss_mb():7.0f} MB")


def _dates(rng, n: int, iso: bool) -> pa.Array:
    days = rng.integers(
        np.datetime64("1960-01-01").astype(int), np.datetime64("2009-10-01").astype(int), n
    ).astype("datetime64[D]")
    text = pa.array(days.astype(str))
    if iso:
        return text
    parts = [pc.utf8_slice_codeunits(text, a, b) for a, b in ((8, 10), (5, 7), (0, 4))]
    return pc.binary_join_element_wise(*parts, "/")


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(prefix, numbers.astype(str)))


def fabricate(out: Path, offences: int, seed: int = 7) -> Path:
    """A crude but well-formed delivery of the given size, manifest included."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.delivery_factory import write_manifest  # counts rows independently

    rng = np.random.default_rng(seed)
    folder = out / "2009-10-31"
    folder.mkdir(parents=True, exist_ok=True)
    people = max(offences // 3, 1)
    pncids = _ids("1998/", rng.permutation(people) + 1000000)
    names = np.array(["Smith", "O'Brien", "Zoë", "Smith-Jones", "Lee, Jr", "New\nLine"])
    tables = {
        "pnc_nominals.csv": {
            "PNCID": pncids,
            "SURNAME": pa.array(names[rng.integers(0, 6, people)]),
            "FORENAMES": pa.array(np.full(people, "John Paul")),
            "DOB": _dates(rng, people, True),
            "SEX": pa.array(np.full(people, "M")),
            "FORCE": pa.array(np.full(people, "01")),
        },
        "pnc_aliases.csv": {
            "PNCID": pncids.take(pa.array(rng.integers(0, people, offences // 10))),
            "SURNAME": pa.array(np.full(offences // 10, "Smith")),
            "FORENAMES": pa.array(np.full(offences // 10, "Jo")),
        },
        "pnc_offences.csv": {
            "PNCID": pncids.take(pa.array(rng.integers(0, people, offences))),
            "ASN": _ids("06/01AB/", np.arange(offences) // 2),
            "OFFENCE_SEQ": pa.array((np.arange(offences) % 2 + 1).astype(str)),
            "CJS_CODE": pa.array(
                np.array(["TH68010", "TH68010A", "OF61047", "XX99999"])[
                    rng.integers(0, 4, offences)
                ]
            ),
            "OFFENCE_START": _dates(rng, offences, True),
            "OUTCOME": pa.array(np.array(list("CAWKP"))[rng.integers(0, 5, offences)]),
            "OUTCOME_DATE": _dates(rng, offences, True),
            "CUSTODY_DAYS": pa.array(rng.integers(0, 999, offences).astype(str)),
        },
        "ndtms_episodes.csv": _episodes(rng, max(offences // 10, 1)),
    }
    for name, columns in tables.items():
        pv.write_csv(
            pa.table(columns), folder / name, write_options=pv.WriteOptions(quoting_style="needed")
        )
    write_manifest(folder)
    return folder


def _episodes(rng, n: int) -> dict[str, pa.Array]:
    return {
        "AGNCY": _ids("A", rng.integers(0, 200, n)),
        "CLIENTID": _ids("C", np.arange(n)),
        "EPISODID": _ids("E", np.arange(n)),
        "FINITIAL": pa.array(np.full(n, "j")),
        "SINITIAL": pa.array(np.full(n, "S")),
        "DOB": _dates(rng, n, False),
        "SEX": pa.array(np.array(["1", "2", "9"])[rng.integers(0, 3, n)]),
        "REFLD": _dates(rng, n, False),
        "RFLS": pa.array(np.full(n, "5")),
        "TRIAGED": _dates(rng, n, False),
        "DRUG1": pa.array(np.full(n, "1011")),
        "DISD": _dates(rng, n, False),
        "DISRSN": pa.array(np.full(n, "80")),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "path",
        type=Path,
        help="a delivery folder (or, with --fabricate, a landing folder to write one into)",
    )
    parser.add_argument(
        "--fabricate",
        type=int,
        metavar="OFFENCES",
        help="first write a crude delivery with this many offences",
    )
    args = parser.parse_args(argv)
    folder = args.path
    if args.fabricate:
        started = time.perf_counter()
        folder = fabricate(args.path, args.fabricate)
        print(f"fabricated {folder} in {time.perf_counter() - started:.1f} s")
    benchmark(folder)


if __name__ == "__main__":
    main()
