"""Benchmark of the synthetic extract generator, with a quick look at the world it drew.

    .venv/bin/python benchmarks/bench_synth.py --scale national [--seed 7] [--keep DIR]
    .venv/bin/python benchmarks/bench_synth.py --scale full --no-diagnostic --keep DIR

Prints wall time, peak resident memory, rows and size of every file, then a diagnostic
against the published study: adult clients starting a journey in 2006-07 (METHOD.md §1)
and how they fare under the NTA rule's attributor (upper-cased initials, DOB, sex) against
the PNC's nominals and aliases. Not a test: a script to run by hand.
"""

import argparse
import json
import resource
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.synth import SCALES, SynthConfig, generate_delivery

_FOLD = {"Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Æ": "A", "æ": "a"}


def _initial(names: pd.Series) -> pd.Series:
    """First letter after removing accents (METHOD.md §3), computed once per distinct name."""

    def first_letter(name: str) -> str:
        text = unicodedata.normalize("NFKD", "".join(_FOLD.get(ch, ch) for ch in name))
        letters = [ch for ch in text if "A" <= ch.upper() <= "Z"]
        return letters[0].upper() if letters else ""

    names = names.fillna("").astype("category")
    letters = np.array([first_letter(n) for n in names.cat.categories], dtype=object)
    return pd.Series(letters[names.cat.codes.to_numpy()], index=names.index)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _starters(episodes: pd.DataFrame, year: int) -> pd.DataFrame:
    """Clients whose journey starts in financial year `year`, with their age there."""
    ep = episodes.assign(
        triaged=pd.to_datetime(episodes["TRIAGED"], format="%d/%m/%Y", errors="coerce"),
        disd=pd.to_datetime(episodes["DISD"], format="%d/%m/%Y", errors="coerce"),
        dob=pd.to_datetime(episodes["DOB"], format="%d/%m/%Y", errors="coerce"),
        fi=episodes["FINITIAL"].str.upper(),
        si=episodes["SINITIAL"].str.upper(),
    )
    ep = ep[ep["triaged"].notna() & ep["dob"].notna() & ep["SEX"].isin(["1", "2", "9"])]
    ep = ep[~(ep["disd"] < ep["triaged"]) & (ep["dob"] <= ep["triaged"])]
    ep = ep.drop_duplicates(["AGNCY", "EPISODID"])
    key = ["fi", "si", "dob", "SEX"]
    ep = ep.sort_values([*key, "triaged", "AGNCY", "EPISODID"], kind="stable")
    end = pd.Series(np.where(ep["disd"].isna(), np.iinfo(np.int64).max, ep["disd"].astype("int64")))
    client = ep.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    latest = end.groupby(client).cummax().to_numpy()
    prev = np.r_[np.iinfo(np.int64).min, latest[:-1]]
    gap = pd.Timedelta(days=21).value
    new = np.r_[True, client[1:] != client[:-1]] | (
        ep["triaged"].astype("int64").to_numpy() > prev + gap
    )
    starts = ep[new]
    lo, hi = pd.Timestamp(year, 4, 1), pd.Timestamp(year + 1, 3, 31)
    starts = starts[(starts["triaged"] >= lo) & (starts["triaged"] <= hi)]
    starts = starts.drop_duplicates(key)
    age = (
        starts["triaged"].dt.year
        - starts["dob"].dt.year
        - (
            (starts["triaged"].dt.month * 100 + starts["triaged"].dt.day)
            < (starts["dob"].dt.month * 100 + starts["dob"].dt.day)
        )
    )
    return starts.assign(age=age)[[*key, "age"]], ep.drop_duplicates(key)[key]


def linkage_diagnostic(delivery: Path, year: int = 2006) -> dict:
    """The NTA rule's funnel among adult starters of `year`, from the delivered files."""
    episodes = _read(delivery / "ndtms_episodes.csv")
    starters, clients = _starters(episodes, year)
    adults = starters[starters["age"] >= 18]
    nominals = _read(delivery / "pnc_nominals.csv").drop_duplicates("PNCID")
    aliases = _read(delivery / "pnc_aliases.csv")
    aliases = aliases.merge(
        nominals[["PNCID", "DOB", "SEX"]], on="PNCID", suffixes=("", "_nominal")
    )
    aliases["DOB"] = aliases["DOB"].where(aliases["DOB"] != "", aliases["DOB_nominal"])
    names = pd.concat([nominals, aliases[["PNCID", "SURNAME", "FORENAMES", "DOB", "SEX"]]])
    pnc = (
        pd.DataFrame(
            {
                "PNCID": names["PNCID"].to_numpy(),
                "fi": _initial(names["FORENAMES"]).to_numpy(),
                "si": _initial(names["SURNAME"]).to_numpy(),
                "dob": pd.to_datetime(names["DOB"], format="%Y-%m-%d", errors="coerce").to_numpy(),
                "SEX": names["SEX"].map({"M": "1", "F": "2"}).to_numpy(),
            }
        )
        .dropna()
        .drop_duplicates()
    )
    key = ["fi", "si", "dob", "SEX"]
    linkable = clients[
        clients["SEX"].isin(["1", "2"])
        & clients["fi"].str.fullmatch("[A-Z]")
        & clients["si"].str.fullmatch("[A-Z]")
    ]
    cand = linkable.merge(pnc, on=key)
    n_cand = cand.groupby(key).size().rename("candidates")
    clients_of_person = cand.groupby("PNCID").size()
    unique = cand.merge(n_cand[n_cand == 1].reset_index(), on=key)
    matched_keys = unique[unique["PNCID"].map(clients_of_person) == 1][key]
    adults = adults.merge(n_cand.reset_index(), on=key, how="left")
    adults["candidates"] = adults["candidates"].fillna(0)
    adults["linkable"] = (
        adults["SEX"].isin(["1", "2"])
        & adults["fi"].str.fullmatch("[A-Z]")
        & adults["si"].str.fullmatch("[A-Z]")
    )
    adults = adults.merge(matched_keys.assign(matched=True), on=key, how="left")
    matched = adults["matched"].fillna(False).astype(bool) & adults["linkable"]
    absent = adults["linkable"] & (adults["candidates"] == 0)
    n = len(adults)
    return {
        "adult_starters": n,
        "exactly_one_candidate": float((adults["linkable"] & (adults["candidates"] == 1)).mean()),
        "no_candidate": float(absent.mean()),
        "several_candidates": float((adults["linkable"] & (adults["candidates"] > 1)).mean()),
        "not_linkable(sex 9 / initial missing)": float((~adults["linkable"]).mean()),
        "nta_matched": float(matched.mean()),
        "nta_absent": float(absent.mean()),
        "nta_study_population": int((matched | absent).sum()),
        "nta_study_population_share": float((matched | absent).mean()),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="national", choices=SCALES)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write here instead of a temporary folder")
    parser.add_argument(
        "--no-diagnostic", action="store_true",
        help="skip the diagnostic (it reads whole files: at `full`, more memory than generating)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = (args.keep or Path(tmp)) / "landing"
        started = time.perf_counter()
        delivery = generate_delivery(SynthConfig.for_scale(args.scale), out, args.seed)
        wall = time.perf_counter() - started
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        manifest = json.loads((delivery / "manifest.json").read_text())
        print(f"scale={args.scale} seed={args.seed} wall={wall:.1f}s peak_rss={peak_gb:.2f}GB")
        for name, entry in manifest["files"].items():
            size = (delivery / name).stat().st_size / 1024**2
            print(f"  {name:22s} rows={entry['rows']:>11,d} size={size:9.1f} MB")
        if not args.no_diagnostic:
            started = time.perf_counter()
            diagnostic = linkage_diagnostic(delivery)
            print(
                f"linkage diagnostic, cohort year 2006-07 ({time.perf_counter() - started:.0f}s;"
                " published: 82,935 adult starters, 53,851 = 64.9% study population)"
            )
            for name, value in diagnostic.items():
                print(
                    f"  {name:40s} {value:,.3f}"
                    if isinstance(value, float)
                    else f"  {name:40s} {value:,d}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
