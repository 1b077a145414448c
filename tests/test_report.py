"""The cohort-year report and its exports from crafted published tables with tiny groups:
no displayed or exported cell below the disclosure threshold, suppressed values never drawn,
every section present (METHOD.md §6, issue 7).

The checkers here (`assert_*`) are reused by tests/test_report_pipeline.py."""

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from dagster_project.cohort import outcome_table, publish_funnel, publish_outcome_table
from dagster_project.report import (
    SECTIONS,
    WORKBOOK,
    ReportInputs,
    code_version,
    export_tables,
    headline_markdown,
    output_dir,
    render_report,
)
from dagster_project.report.cells import guard_counts, guard_replication, hidden, label
from dagster_project.report.provenance import _git_commit
from dagster_project.report.tables import Column, cell_text
from dagster_project.settings import Settings

THRESHOLD = 5
COUNT_COLUMNS = {"persons", "n", "before", "after", "persons_before", "persons_after"}
COUNT_FIGURES = {"F1", "F2", "F3", "F11"}


# ---- checkers ---------------------------------------------------------------------------------

def assert_published_count(text: object, where: str, threshold: int = THRESHOLD) -> None:
    """A shown count is `*`, empty, or at least the threshold."""
    cell = "" if text is None else str(text).strip()
    if cell in ("", "*", "—"):
        return
    number = float(cell.replace(",", ""))
    assert number >= threshold, f"{where}: {cell} is below the threshold {threshold}"


class _Cells(HTMLParser):
    """Collects (section id, element, class, text) of every table cell and SVG text."""

    def __init__(self) -> None:
        super().__init__()
        self.section, self.open, self.found = "", None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("id", "")
        if tag in ("td", "text", "b"):
            self.open = [self.section, tag, attrs.get("class", ""), ""]

    def handle_data(self, data):
        if self.open is not None:
            self.open[3] += data

    def handle_endtag(self, tag):
        if self.open is not None and tag == self.open[1]:
            self.found.append(tuple(self.open))
            self.open = None


def assert_html_published(html: str, threshold: int = THRESHOLD) -> int:
    """Every count in the report's tables, charts and key figures is `*` or ≥ threshold.
    Returns how many cells show `*` (so a test can insist that suppression happened)."""
    parser = _Cells()
    parser.feed(html)
    stars = 0
    for section, tag, css, text in parser.found:
        if section == "provenance":
            continue  # settings: thresholds and window lengths, not counts of persons
        where = f"{section} {tag}.{css} {text!r}"
        stars += text.strip() == "*"
        if tag != "text" and (css == "count" or re.fullmatch(r"\d[\d,]*", text.strip())):
            assert_published_count(text, where, threshold)
        if tag == "text" and css == "count":
            # chart labels: "1,234", "1,234 (42.1% of adult starters)", "1,437 → *"
            for number in re.findall(r"(?<![\d.,])\d[\d,]*(?![\d.%,])", text):
                assert_published_count(number, where, threshold)
    return stars


def assert_csv_published(path: Path, threshold: int = THRESHOLD) -> pd.DataFrame:
    lines = path.read_text(encoding="utf-8").splitlines()
    table = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    documented = [line.split(":")[0].removeprefix("# ") for line in lines[1:] if
                  line.startswith("#")]
    assert lines[0].startswith("#") and documented == list(table.columns), path.name
    for column in COUNT_COLUMNS & set(table.columns):
        for cell in table[column]:
            assert_published_count(cell, f"{path.name} {column}", threshold)
    _assert_replication_counts(table, path.name, threshold)
    return table


def _assert_replication_counts(table: pd.DataFrame, where: str, threshold: int) -> None:
    if "id" not in table:
        return
    rows = table[table["id"].isin(COUNT_FIGURES)]
    for column in [c for c in table.columns if c.startswith("pipeline_")]:
        for cell in rows[column]:
            assert_published_count(cell, f"{where} {column}", threshold)


def assert_workbook_published(path: Path, threshold: int = THRESHOLD) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        table = pd.DataFrame(rows[1:], columns=rows[0])
        for column in COUNT_COLUMNS & set(table.columns) if sheet.title != "README" else []:
            for cell in table[column]:
                assert_published_count(cell, f"{path.name}:{sheet.title} {column}", threshold)
        _assert_replication_counts(table, f"{path.name}:{sheet.title}", threshold)
    return book.sheetnames


# ---- crafted published tables with tiny groups ----------------------------------------------

def _members() -> pd.DataFrame:
    """60 cohort members: most in large groups, a few in groups of 1–4 persons."""
    rng = np.random.default_rng(3)
    n = 60
    frame = pd.DataFrame({
        "cohort_year": "2006-07", "person_key": [f"p{i}" for i in range(n)],
        "link_status": "matched", "age_band": rng.choice(["25-29", "30-34"], n), "sex": "1",
        "drug_group": "opiate_only", "referral_route": rng.choice(["self", "criminal_justice"], n),
        "retention_days": 730, "retention_band": "retained_2y", "exit_group": "retained",
        "reentered": False, "before": rng.integers(1, 6, n), "after": rng.integers(0, 4, n),
        "after_post_exit": 0, "custody_days_before": 0, "custody_days_after": 0,
        "exit_date": pd.NaT,
    })
    frame.loc[:2, "drug_group"] = "crack_only"  # 3 persons: suppressed
    frame.loc[50:, "drug_group"] = "other"  # 10 persons: suppressed with them (secondary)
    frame.loc[3:6, ["exit_group", "retention_days", "retention_band"]] = ["died", 100, "3-6m"]
    frame.loc[7, "age_band"] = "50+"
    frame.loc[8:40, ["exit_group", "retention_days", "retention_band"]] = [
        "dropped_out", 60, "<3m"]
    frame["exit_date"] = pd.to_datetime(
        np.where(frame["exit_group"] == "retained", None, "2006-10-01"))
    frame["after_post_exit"] = np.where(frame["exit_date"].notna(), frame["after"], 0)
    return frame


@pytest.fixture(scope="module")
def crafted() -> ReportInputs:
    members = _members()
    groups = members[["person_key", "before", "after"]].assign(offence_group="theft")
    # two persons' convictions are robbery, not theft (by group adds up to each member's)
    groups = pd.concat([groups.iloc[2:], groups.head(2).assign(offence_group="robbery")])
    settings = Settings(linkage_method="deterministic")
    funnel = publish_funnel(pd.DataFrame({
        "cohort_year": "2006-07",
        "stage": ["starters", "adult_starters", "matched", "absent", "ambiguous",
                  "study_population", "cohort"],
        "persons": [120, 110, 80, 27, 3, 107, 60],
    }), THRESHOLD, members)
    outcomes = publish_outcome_table(outcome_table(members, groups, settings), THRESHOLD,
                                     members, groups, funnel)
    replication = pd.DataFrame({
        "id": ["F1", "F4", "F11"], "figure": ["adults", "reduction", "retained"],
        "published": ["82,935", "26%", "4,677"],
        "pipeline_deterministic": ["110", "20.0%", "3"],  # F11 of 3 must not be shown
        "passes_deterministic": [False, False, False], "cohort_year": "2006-07",
    })
    return ReportInputs(
        cohort_year="2006-07", funnel=funnel, outcomes=outcomes,
        settings=settings.as_metadata(), extract_date="2009-10-31",
        code_version="reconviction test", generated_at="2026-01-01T00:00:00",
        replication=replication,
    )


# ---- tests ------------------------------------------------------------------------------------

def test_no_displayed_or_exported_count_is_below_the_threshold(crafted, tmp_path):
    html = render_report(crafted)
    assert assert_html_published(html) > 0, "the crafted tiny groups must show as *"
    tables = {"cohort_funnel": crafted.funnel, "outcome_table": crafted.outcomes,
              "replication": crafted.replication}
    export_tables(tables, tmp_path, THRESHOLD)
    for name in tables:
        assert "*" in assert_csv_published(tmp_path / f"{name}.csv").to_numpy()
    sheets = assert_workbook_published(tmp_path / WORKBOOK)
    assert sheets == ["README", *tables]


def test_a_suppressed_value_is_never_drawn(crafted):
    html = render_report(crafted)
    exit_groups = html[html.index('id="exit_group"'):html.index('id="drug_group"')]
    drug_groups = html[html.index('id="drug_group"'):html.index('id="referral_route"')]
    assert 'data-label="died"' not in exit_groups and "* suppressed (under 5 persons" in exit_groups
    assert 'data-label="crack only"' not in drug_groups
    routes = html[html.index('id="referral_route"'):html.index('id="offences"')]
    for dimension, section in (("drug_group", drug_groups), ("referral_route", routes)):
        rows = crafted.outcomes[crafted.outcomes["dimension"] == dimension]
        for _, row in rows.iterrows():  # drawn exactly when its reduction is shown
            drawn = f'data-label="{label(row["group"])}"' in section
            assert drawn == (not hidden(row, "reduction")), (dimension, row["group"])
    assert 'data-label="self"' in routes  # shown bars are drawn
    funnel = html[html.index('id="funnel"'):html.index('id="headline"')]
    assert 'data-label="ambiguous (excluded)"' not in funnel  # 3 persons


def test_the_report_has_every_section_and_needs_no_network(crafted):
    html = render_report(crafted)
    for section in SECTIONS:
        assert f'<section id="{section}">' in html, section
    for chart in ("retention_band", "exit_group", "drug_group", "referral_route"):
        assert f'<h3 id="{chart}">' in html and html.count("<svg") >= 6
    for limit in ("Regression to the mean", "Ageing", "Time at risk", "Linkage error",
                  "A conviction is not an offence"):
        assert limit in html
    for fact in ("2009-10-31", "reconviction test", "deterministic", "disclosure_threshold",
                 "95% CI", "reduction, time at risk", "82,935"):
        assert fact in html, fact
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html


def test_other_cohort_years_say_the_study_published_2006_07_only(crafted):
    later = ReportInputs(**{**{k: getattr(crafted, k) for k in
                               ("funnel", "outcomes", "settings", "extract_date",
                                "code_version", "generated_at")},
                            "cohort_year": "2008-09"})
    assert "2006-07 only" in render_report(later)


def test_the_gate_hides_a_count_below_the_threshold_even_if_published():
    table = pd.DataFrame({"dimension": ["all", "sex"], "group": ["all", "2"], "n": [40, 3],
                          "reduction": [0.2, 0.5], "suppressed_cells": ["", ""]})
    guarded = guard_counts(table, THRESHOLD)
    assert guarded["suppressed_cells"].iloc[0] == ""
    assert {"n", "reduction"} <= set(guarded["suppressed_cells"].iloc[1].split(","))
    replication = guard_replication(pd.DataFrame({
        "id": ["F1", "F4"], "pipeline_deterministic": ["4", "3.0%"]}), THRESHOLD)
    assert list(replication["suppressed_cells"]) == ["pipeline_deterministic", ""]


def test_headline_markdown_shows_published_cells_only(crafted):
    markdown = headline_markdown(crafted.outcomes, THRESHOLD)
    crack = next(line for line in markdown.splitlines() if "crack only" in line)
    assert re.findall(r"\|\s*\*\s*", crack) and not re.search(r"\|\s*3\s*\|", crack)
    assert "person_key" not in markdown


def test_output_folder_follows_the_environment(tmp_path):
    assert output_dir("2006-07", {"RECONVICTION_OUTPUT_DIR": str(tmp_path)}) == (
        tmp_path / "2006-07")
    assert output_dir("2006-07", {}).parts[-2:] == ("reports", "2006-07")


def test_code_version_does_without_git(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert _git_commit() is None
    assert code_version().startswith("reconviction ") and "git" not in code_version()


def test_report_names_the_interval_method_flags_imprecise_groups_and_death_limits(crafted):
    html = render_report(crafted)
    method = html[html.index('id="method"'):html.index('id="limits"')]
    assert "Fieller" in method and "capped at 100%" in method and "not estimable" in method
    limits = html[html.index('id="limits"'):html.index('id="disclosure"')]
    assert "Deaths after discharge" in limits and "invisible" in limits
    small = crafted.outcomes[(crafted.outcomes["n"] < 50).fillna(False)]
    assert len(small) and "imprecise (under 50 persons)" in html
    row = pd.Series({"n": 60, "ci_low": np.nan, "ci_high": np.nan, "not_estimable": True,
                     "imprecise": False, "suppressed_cells": ""})
    assert cell_text(row, Column("ci", "95% CI", "ci")) == "not estimable"
    assert cell_text(row, Column("imprecise", "precision", "flag")) == ""
    hidden_row = row.copy()
    hidden_row["suppressed_cells"] = "n,ci_low,ci_high,not_estimable,imprecise"
    assert cell_text(hidden_row, Column("ci", "95% CI", "ci")) == "*"
    assert cell_text(hidden_row, Column("imprecise", "precision", "flag")) == "*"
