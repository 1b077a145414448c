"""The report asset end to end: a tiny synthetic delivery (small cells everywhere) through a
whole cohort year and `cohort_report`, then every exported and displayed cell checked against
the disclosure threshold, the Dagster metadata, and a headless-Chromium screenshot saved to
`test-artifacts/` (it fails in CI, CI=true, when Chromium is missing; elsewhere it skips)."""

import os
import shutil
import struct
import subprocess
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from dagster_project.cli.runs import execute_job, failure_messages
from dagster_project.report import SECTIONS, WORKBOOK
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.vocabulary.groups import COHORT_GROUP, OUTCOMES_GROUP, REPORT_GROUP
from tests.test_report import assert_csv_published, assert_html_published, assert_workbook_published

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
COHORT_YEAR = "2006-07"


def _definitions() -> dg.Definitions:
    """The code location plus a job running a cohort year to its report without the
    comparison group (tested on its own in test_comparison_world.py)."""
    from dagster_project.definitions import defs

    job = dg.define_asset_job(
        "cohort_year_with_report",
        selection=dg.AssetSelection.groups(COHORT_GROUP, OUTCOMES_GROUP, REPORT_GROUP),
    )
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_run")
    generate_delivery(SynthConfig.for_scale("tiny"), out=root / "landing", seed=5)
    (root / "dagster_home").mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RECONVICTION_LANDING_DIR", str(root / "landing"))
        env.setenv("RECONVICTION_WAREHOUSE_URL", f"duckdb:///{root / 'warehouse.duckdb'}")
        env.setenv("RECONVICTION_OUTPUT_DIR", str(root / "reports"))
        env.setenv("RECONVICTION_LINKAGE_METHOD", "deterministic")
        env.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        with dg.instance_for_test() as instance:
            assert execute_job("refresh_delivery", instance).success
            result = _definitions().resolve_job_def("cohort_year_with_report").execute_in_process(
                partition_key=COHORT_YEAR, instance=instance, raise_on_error=False)
            assert result.success, failure_messages(result)
            [materialization] = result.asset_materializations_for_node("cohort_report")
    folder = root / "reports" / COHORT_YEAR
    yield SimpleNamespace(folder=folder, report=folder / "report.html",
                          metadata=materialization.metadata)


def test_report_and_exports_are_written_with_every_section(report_run):
    html = report_run.report.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    assert "F25" in html  # the published figures beside 2006-07's
    names = {p.name for p in report_run.folder.iterdir()}
    assert {"report.html", "cohort_funnel.csv", "outcome_table.csv", "replication.csv",
            WORKBOOK} <= names


def test_no_cell_of_a_tiny_cohort_below_the_threshold_is_shown(report_run):
    html = report_run.report.read_text(encoding="utf-8")
    stars = assert_html_published(html)
    assert stars > 0, "a tiny world has small cells: the report must show some as *"
    for name in ("cohort_funnel", "outcome_table", "replication"):
        assert_csv_published(report_run.folder / f"{name}.csv")
    assert_workbook_published(report_run.folder / WORKBOOK)


def test_dagster_metadata_gives_the_path_and_the_published_headline(report_run):
    metadata = report_run.metadata
    assert Path(metadata["report_path"].value) == report_run.report
    headline = metadata["headline"].value
    assert "whole cohort" in headline and "95% CI" in headline
    assert "person_key" not in headline and "pncid" not in headline.lower()
    for line in headline.splitlines()[2:]:
        persons = line.split("|")[3].strip()
        assert persons == "*" or int(persons.replace(",", "")) >= 5


def _chromium() -> str:
    found = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    if found is None:
        reason = "no Chromium on PATH (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI needs Chromium for the report screenshot: {reason}")
        pytest.skip(reason)
    return found


def test_headless_chromium_renders_the_report(report_run, tmp_path):
    chromium = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / f"report-{COHORT_YEAR}.png"
    png.unlink(missing_ok=True)
    shutil.copy(report_run.report, ARTIFACTS / f"report-{COHORT_YEAR}.html")
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
         "--window-size=1200,5000", f"--screenshot={png}", report_run.report.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1200, 5000)
    # a blank page compresses to a few kilobytes; charts and tables take far more
    assert png.stat().st_size > 50_000
