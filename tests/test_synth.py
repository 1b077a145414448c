"""The synthetic extract generator: determinism and the raw file contract (the `tiny` scale,
and `demo` for keys at scale). The world model's properties: test_synth_world.py."""

import dataclasses
import datetime as dt
import hashlib
import json

import pandas as pd
import pytest

from dagster_project.delivery.reference import load_reference
from dagster_project.delivery.schemas import DELIVERY_FILES, REQUIRED_COLUMNS
from dagster_project.synth import SCALES, SynthConfig, generate_delivery, truth_dir
from tests.synth_support import EXTRACT_DATE, NDTMS_DATES, PNC_DATES, PNCID
from tests.synth_support import planted as _planted
from tests.synth_support import read as _read
from tests.synth_support import valid as _valid


def _manifest(delivery) -> dict:
    return json.loads((delivery / "manifest.json").read_text())


# --- determinism and layout -------------------------------------------------------------


def test_same_seed_gives_identical_files_and_another_seed_different(tiny, tmp_path):
    config = SynthConfig.for_scale("tiny")
    again = generate_delivery(config, out=tmp_path / "a" / "landing", seed=7)
    other = generate_delivery(config, out=tmp_path / "b" / "landing", seed=8)
    assert _manifest(again) == _manifest(tiny)
    for name in DELIVERY_FILES:
        assert (again / name).read_bytes() == (tiny / name).read_bytes()
        assert _manifest(other)["files"][name]["sha256"] != _manifest(tiny)["files"][name]["sha256"]


def test_delivery_holds_exactly_the_contract_files_and_truth_lies_beside(tiny):
    assert tiny.name == EXTRACT_DATE
    assert sorted(p.name for p in tiny.iterdir()) == sorted(["manifest.json", *DELIVERY_FILES])
    truth = tiny.parent.parent / "truth" / EXTRACT_DATE
    assert truth == truth_dir(tiny.parent, EXTRACT_DATE)
    assert {
        "persons.parquet",
        "client_records.parquet",
        "journeys.parquet",
        "pnc_records.parquet",
        "planted_rows.csv",
        "parameters.json",
    } <= {p.name for p in truth.iterdir()}
    # the manifest comes last: no file of the delivery is newer
    written = (tiny / "manifest.json").stat().st_mtime_ns
    assert all((tiny / name).stat().st_mtime_ns <= written for name in DELIVERY_FILES)


def test_extract_date_override_names_the_folder(tmp_path):
    config = dataclasses.replace(SynthConfig.for_scale("tiny"), extract_date=dt.date(2010, 1, 31))
    delivery = generate_delivery(config, out=tmp_path / "landing", seed=1)
    assert delivery == tmp_path / "landing" / "2010-01-31"
    assert _manifest(delivery)["extract_date"] == "2010-01-31"


def test_scales():
    assert SCALES == ("tiny", "demo", "national", "full")
    national = SynthConfig.for_scale("national")
    assert national.pnc_other_nominals >= 3_000_000
    assert SynthConfig.for_scale("tiny").new_clients_per_year < national.new_clients_per_year
    with pytest.raises(ValueError, match="scale"):
        SynthConfig.for_scale("huge")
    with pytest.raises(ValueError):
        SynthConfig(extract_date="31/10/2009")


# --- the raw file contract ----------------------------------------------------------------


def test_manifest_rows_and_hashes_match_the_files(tiny):
    manifest = _manifest(tiny)
    assert manifest["extract_date"] == EXTRACT_DATE
    assert set(manifest["files"]) == set(DELIVERY_FILES)
    for name, entry in manifest["files"].items():
        data = (tiny / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == data.count(b"\n") - 1
        assert entry["rows"] > 0


def test_csv_conventions_and_required_columns(tiny):
    for name in DELIVERY_FILES:
        text = (tiny / name).read_bytes().decode("utf-8")
        assert "\r" not in text and text.endswith("\n")
        header = text.split("\n", 1)[0].split(",")
        assert set(REQUIRED_COLUMNS[name]) <= set(header), name
        assert '"' not in text  # nothing generated needs quoting
        widths = {line.count(",") for line in text.splitlines()}
        assert widths == {len(header) - 1}, name


def test_dates_are_in_each_systems_format(tiny):
    episodes = _valid(tiny, "ndtms_episodes.csv")
    for column in NDTMS_DATES:
        values = episodes[column][episodes[column] != ""]
        assert values.str.fullmatch(r"\d\d/\d\d/\d{4}").all(), column
        assert pd.to_datetime(values, format="%d/%m/%Y", errors="coerce").notna().all(), column
    assert (episodes["TRIAGED"] != "").all()
    for name, columns in PNC_DATES.items():
        table = _valid(tiny, name)
        for column in columns:
            values = table[column][table[column] != ""]
            assert len(values) > 0, (name, column)
            assert values.str.fullmatch(r"\d{4}-\d\d-\d\d").all(), (name, column)
            assert pd.to_datetime(values, format="%Y-%m-%d", errors="coerce").notna().all()


def test_codes_come_from_the_reference_except_planted_unknowns(tiny):
    episodes = _valid(tiny, "ndtms_episodes.csv")
    planted = _planted(tiny)
    unknown = planted[~planted["rejected"]]
    drugs = set(load_reference("drug_codes")["code"])
    for column, reference in [
        ("RFLS", set(load_reference("referral_sources")["code"])),
        ("DRUG1", drugs),
        ("DRUG2", drugs | {""}),
        ("DRUG3", drugs | {""}),
        ("DISRSN", set(load_reference("discharge_reasons")["code"]) | {""}),
        ("ETHNIC", set(load_reference("ethnicity_codes")["ndtms_code"])),
    ]:
        outside = episodes.index[~episodes[column].isin(reference)]
        planted_here = unknown[unknown["kind"] == f"unknown {column}"]["line"]
        assert set(outside) == set(planted_here), column
    assert set(episodes["SEX"]) == {"1", "2", "9"}
    assert set(episodes["INJSTAT"]) <= {"P", "C", "N", "Z", ""}
    assert set(episodes["MODAL"]) - {""} <= {str(m) for m in range(1, 13)}
    assert (episodes["FINITIAL"] + episodes["SINITIAL"]).str.fullmatch(r"[A-Za-z]{0,2}").all()

    offences = _valid(tiny, "pnc_offences.csv")
    codes = set(load_reference("offence_codes")["code"])
    base, suffix = offences["CJS_CODE"].str[:7], offences["CJS_CODE"].str[7:]
    outside = offences.index[~base.isin(codes)]
    assert set(outside) == set(unknown[unknown["kind"] == "unknown CJS_CODE"]["line"])
    assert set(suffix) == {"", "A", "B", "C", "I"}
    assert set(offences["OUTCOME"]) == {"C", "A", "W", "K", "P"}
    assert set(offences["DISPOSAL"]) == {"CUS", "SUS", "COM", "FIN", "DIS", "OTH", ""}
    assert (offences["DISPOSAL"][offences["OUTCOME"] != "C"] == "").all()
    assert (offences["CUSTODY_DAYS"][offences["DISPOSAL"] != "CUS"] == "").all()
    assert (offences["OUTCOME_DATE"][offences["OUTCOME"] == "P"] == "").all()
    forces = {f"{i:02d}" for i in range(1, 44)}
    assert set(offences["FORCE"]) <= forces
    nominals = _valid(tiny, "pnc_nominals.csv")
    assert set(nominals["FORCE"]) <= forces
    assert set(nominals["SEX"]) <= {"M", "F", "U"} and {"M", "F"} <= set(nominals["SEX"])
    assert set(nominals["ETHNICITY"]) <= set(load_reference("ethnicity_codes")["pnc_code"])


def test_keys_hold_at_demo_scale(demo):
    offences = _valid(demo, "pnc_offences.csv")
    assert not offences.duplicated(["ASN", "OFFENCE_SEQ"]).any()
    episodes = _valid(demo, "ndtms_episodes.csv")
    assert not episodes.duplicated(["AGNCY", "EPISODID"]).any()
    assert _valid(demo, "pnc_nominals.csv")["PNCID"].is_unique


def test_pncids_are_well_formed_and_keys_hold(tiny):
    nominals = _valid(tiny, "pnc_nominals.csv")
    aliases = _valid(tiny, "pnc_aliases.csv")
    offences = _valid(tiny, "pnc_offences.csv")
    for table in (nominals, aliases, offences):
        assert table["PNCID"].str.fullmatch(PNCID.pattern).all()
    assert nominals["PNCID"].is_unique
    assert aliases["PNCID"].isin(nominals["PNCID"]).all()
    assert offences["PNCID"].isin(nominals["PNCID"]).all()
    assert not offences.duplicated(["ASN", "OFFENCE_SEQ"]).any()
    assert (offences["OFFENCE_SEQ"].astype(int) >= 1).all()
    # every nominal has offences: people are on the PNC because they were caught
    assert nominals["PNCID"].isin(offences["PNCID"]).all()


def test_planted_defects_are_what_the_truth_says(tiny):
    planted = _planted(tiny)
    expected = {
        "ndtms_episodes.csv": {
            "repeated AGNCY+EPISODID",
            "unparseable TRIAGED",
            "unparseable DOB",
            "unparseable DISD",
            "missing TRIAGED",
            "invalid SEX",
            "DISD before TRIAGED",
            "DOB after TRIAGED",
        },
        "pnc_offences.csv": {
            "repeated ASN+OFFENCE_SEQ",
            "unparseable OFFENCE_START",
            "missing OFFENCE_START",
            "unknown OUTCOME",
            "C without OUTCOME_DATE",
            "PNCID with no nominal",
        },
        "pnc_nominals.csv": {"repeated PNCID", "unparseable DOB"},
        "pnc_aliases.csv": {"unknown PNCID", "unparseable DOB"},
    }
    for name, kinds in expected.items():
        rows = planted[(planted["file"] == name) & planted["rejected"]]
        assert set(rows["kind"]) == kinds, name
        table = _read(tiny, name)
        table.index += 2
        for kind, lines in rows.groupby("kind")["line"]:
            got = table.loc[lines]
            if kind.startswith("repeated"):
                key = {
                    "repeated AGNCY+EPISODID": ["AGNCY", "EPISODID"],
                    "repeated ASN+OFFENCE_SEQ": ["ASN", "OFFENCE_SEQ"],
                    "repeated PNCID": ["PNCID"],
                }[kind]
                first = table.drop_duplicates(key)
                assert not got.index.isin(first.index).any(), kind
            elif kind.startswith("unparseable"):
                column = kind.split()[1]
                fmt = "%d/%m/%Y" if name.startswith("ndtms") else "%Y-%m-%d"
                parsed = pd.to_datetime(got[column], format=fmt, errors="coerce")
                assert parsed.isna().all() and (got[column] != "").all(), (name, kind)
    episodes = _read(tiny, "ndtms_episodes.csv")
    episodes.index += 2
    lines = planted[planted["kind"] == "DISD before TRIAGED"]["line"]
    day = {
        c: pd.to_datetime(episodes.loc[lines, c], format="%d/%m/%Y") for c in ("DISD", "TRIAGED")
    }
    assert (day["DISD"] < day["TRIAGED"]).all()
    parameters = json.loads((truth_dir(tiny.parent, tiny.name) / "parameters.json").read_text())
    counts = parameters["counts"]["planted_rows"]["pnc_offences.csv"]
    assert sum(counts.values()) == (planted["file"] == "pnc_offences.csv").sum()
    assert parameters["seed"] == 7 and parameters["config"]["scale"] == "tiny"
    assert "in_treatment_multiplier" in parameters["effect"]


# --- the world model ---------------------------------------------------------------------
