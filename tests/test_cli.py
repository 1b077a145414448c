"""The `reconviction` command as a user meets it: a second run on the same delivery does not
reload it, an immature cohort year or a malformed delivery is refused in one line with exit
code 2 before anything is loaded, and Dagster's event stream goes to the log file."""

import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.cli.main import main
from dagster_project.cohort.years import required_extract_date
from dagster_project.delivery.schemas import DELIVERY_FILES, RAW_TABLES, STAGED_TABLES
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.orchestration.sensors import delivery_sensor
from dagster_project.settings import Settings
from dagster_project.synth import SynthConfig, generate_delivery

DELIVERY_KEYS = [dg.AssetKey(RAW_TABLES[f]) for f in DELIVERY_FILES] + [
    dg.AssetKey(STAGED_TABLES[f]) for f in DELIVERY_FILES
]


@pytest.fixture(scope="module")
def tiny_delivery(tmp_path_factory):
    landing = tmp_path_factory.mktemp("synth") / "landing"
    return generate_delivery(SynthConfig.for_scale("tiny"), out=landing, seed=5)


@pytest.fixture
def landed(data_dir, tiny_delivery, monkeypatch):
    monkeypatch.setenv("RECONVICTION_LINKAGE_METHOD", "deterministic")
    monkeypatch.setenv("RECONVICTION_PSEUDONYM_KEY", "test-key")
    return shutil.copytree(tiny_delivery, data_dir / "landing" / tiny_delivery.name)


def _materialisations(keys) -> dict[str, int]:
    with dg.DagsterInstance.get() as instance:
        return {
            key.to_user_string(): len(instance.fetch_materializations(key, limit=100).records)
            for key in keys
        }


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.slow
def test_second_run_on_the_same_delivery_does_not_reload_it(landed, capsys):
    assert main(["run", "--cohort-year", "2006-07"]) == 0
    first = capsys.readouterr()
    loaded = _materialisations(DELIVERY_KEYS)
    assert set(loaded.values()) == {1}
    assert first.err == ""
    # a line per stage, not Dagster's event stream; the events are in the log it names
    assert "  staging " in first.out and len(first.out.splitlines()) < 60
    log = next(line for line in first.out.splitlines() if line.startswith("log: "))[5:]
    assert "STEP_SUCCESS" in Path(log).read_text()

    assert main(["run", "--cohort-year", "2005-06"]) == 0
    second = capsys.readouterr()
    assert "skipped" in second.out and landed.name in second.out
    assert _materialisations(DELIVERY_KEYS) == loaded  # raw and staging not written again
    assert _materialisations([dg.AssetKey("outcome_table")]) == {"outcome_table": 2}

    # the delivery sensor agrees: it finds the delivery loaded and requests no refresh
    with dg.DagsterInstance.get() as instance:
        context = dg.build_sensor_context(
            instance=instance, resources={"settings": SettingsResource()}
        )
        requests = delivery_sensor(context)
    assert context.cursor == landed.name
    assert all(r.job_name != "refresh_delivery" for r in requests)
    capsys.readouterr()  # the sensor's own log lines (a test context logs to the console)

    # backfill refuses years the loaded delivery does not cover, naming the extract they need
    assert main(["backfill", "2005-06:2008-09"]) == 2
    refusal = _one_line(capsys.readouterr().err)
    needed = required_extract_date("2008-09", Settings.from_env()).isoformat()
    assert needed in refusal and "2007-08" in refusal and "synth --extract-date" in refusal


def test_immature_year_is_refused_before_anything_is_loaded(landed, capsys):
    started = time.perf_counter()
    assert main(["run", "--cohort-year", "2008-09"]) == 2
    elapsed = time.perf_counter() - started
    refusal = _one_line(capsys.readouterr().err)
    needed = required_extract_date("2008-09", Settings.from_env()).isoformat()
    assert needed in refusal and "Traceback" not in refusal
    assert elapsed < 10
    assert set(_materialisations(DELIVERY_KEYS).values()) == {0}


def test_malformed_delivery_is_one_line_naming_the_file(landed, capsys):
    with (landed / "pnc_offences.csv").open("a") as f:  # no longer matches its manifest
        f.write("1999/0000001A,X,1,TH68010,2006-01-01,,,C,2006-02-01,,\n")
    code = main(["run"])
    refusal = _one_line(capsys.readouterr().err)
    assert code == 2, refusal
    assert "pnc_offences.csv" in refusal and "SHA-256" in refusal
    assert "replace the delivery" in refusal
    assert set(_materialisations(DELIVERY_KEYS).values()) == {0}


def test_no_delivery_is_refused_saying_how_to_make_one(data_dir, capsys):
    assert main(["run"]) == 2
    assert "reconviction synth" in _one_line(capsys.readouterr().err)


def test_a_cohort_year_written_wrongly_is_refused(landed, capsys):
    assert main(["run", "--cohort-year", "2006"]) == 2
    assert "2006-07" in _one_line(capsys.readouterr().err)


def test_demo_writes_its_delivery_and_runs_the_cohort_year(data_dir, capsys):
    # the README's main command, from an empty landing folder: it writes the demo delivery
    # (the generator's default world) and runs every stage to the report
    assert main(["demo", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert [p.name for p in (data_dir / "landing").iterdir()] == ["2009-10-31"]
    report = next(line for line in out.splitlines() if line.startswith("report: "))[8:]
    assert Path(report).is_file() and len(out.splitlines()) <= 60
