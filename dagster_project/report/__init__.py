"""The cohort-year report and exports: pure functions over published tables (no Dagster).

- `ReportInputs`, `render_report(inputs)` — the self-contained HTML report
- `export_tables(tables, folder, threshold)` — CSV files and one workbook, `*` for suppressed
- `headline_markdown(outcomes, threshold)` — the headline table for the Dagster UI
- `output_dir`, `report_path`, `code_version` — where reports go, which code made them
"""

from dagster_project.report.document import SECTIONS, ReportInputs, headline_markdown, render_report
from dagster_project.report.exports import WORKBOOK, export_tables
from dagster_project.report.provenance import (
    OUTPUT_DIR_VARIABLE,
    REPORT_FILE,
    code_version,
    output_dir,
    report_path,
)

__all__ = [
    "OUTPUT_DIR_VARIABLE",
    "REPORT_FILE",
    "SECTIONS",
    "WORKBOOK",
    "ReportInputs",
    "code_version",
    "export_tables",
    "headline_markdown",
    "output_dir",
    "render_report",
    "report_path",
]
