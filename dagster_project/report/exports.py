"""The published tables as CSV files and one workbook, disclosure-controlled.

Each CSV starts with `#` lines, one per column saying what it holds (read it back with
`pandas.read_csv(path, comment="#")`), then the header row. The workbook has a sheet per
table and a `README` sheet with the same column notes. Suppressed cells are `*` in both.

Exports `export_tables`, `published_frame`, `neutralised`.
"""

from pathlib import Path

import pandas as pd

from dagster_project.report.cells import gate, hidden, label
from dagster_project.report.text import SUPPRESSED_NOTE, column_note
from dagster_project.vocabulary.disclosure import SUPPRESSED

_INTERNAL = ["suppressed", "suppressed_cells"]
# coded columns that the HTML report writes in words; the export keeps the code and adds the
# words beside it (`group` 12-24m, `group_label` 12–24 months)
LABELLED = ("stage", "group")
WORKBOOK = "published_tables.xlsx"


# a text cell starting with one of these is a formula to a spreadsheet (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if value is None or pd.isna(value):
        return None
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, str):
        return neutralised(value)
    return value.item() if hasattr(value, "item") else value  # numpy scalars: plain Python


def neutralised(text: str) -> str:
    """Text a spreadsheet shows as text: one starting like a formula gets a leading
    apostrophe (OWASP's advice for CSV and workbooks); numbers stay numeric cells."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def published_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table as exported: numbers rounded to 4 places, suppressed cells `*`, the
    bookkeeping columns dropped. Values stay numbers so the workbook gets numeric cells."""
    columns = [c for c in table.columns if c not in _INTERNAL]
    rows = []
    for _, row in table.iterrows():  # published tables: tens of rows
        rows.append([SUPPRESSED if hidden(row, c) else _cell(row[c]) for c in columns])
    return _with_labels(pd.DataFrame(rows, columns=columns, dtype=object))


def _with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Each coded column followed by `<column>_label`, the report's words for the code."""
    for column in [c for c in LABELLED if c in frame.columns]:
        words = frame[column].map(
            lambda code: code if code == SUPPRESSED else neutralised(str(label(code)))
        )
        frame.insert(frame.columns.get_loc(column) + 1, f"{column}_label", words)
    return frame


def _write_csv(name: str, frame: pd.DataFrame, path: Path, threshold: int) -> None:
    notes = [f"# {name}: {SUPPRESSED_NOTE.format(t=threshold)}. Its columns:"]
    notes += [f"# {column}: {column_note(column)}" for column in frame.columns]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\n".join(notes) + "\n")
        frame.to_csv(handle, index=False, lineterminator="\n")


def _write_workbook(frames: dict[str, pd.DataFrame], path: Path, threshold: int) -> None:
    readme = pd.DataFrame(
        [("(every table)", SUPPRESSED, SUPPRESSED_NOTE.format(t=threshold))]
        + [(name, column, column_note(column))
           for name, frame in frames.items() for column in frame.columns],
        columns=["table", "column", "meaning"],
    ).map(lambda v: neutralised(v) if isinstance(v, str) else v)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        readme.to_excel(writer, sheet_name="README", index=False)
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
        for sheet in writer.book.worksheets:
            sheet.freeze_panes = "A2"
            for cells in sheet.columns:
                width = max(len(str(c.value or "")) for c in cells)
                sheet.column_dimensions[cells[0].column_letter].width = min(width + 2, 80)


def export_tables(tables: dict[str, pd.DataFrame], folder: Path, threshold: int) -> list[Path]:
    """Write each published table as `<name>.csv` and all of them as one workbook in
    `folder`; returns the paths written. Every table passes the report's own disclosure gate
    (`cells.gate`) on the way out."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = {name: published_frame(gate(table, threshold))
              for name, table in tables.items()}
    written = []
    for name, frame in frames.items():
        path = folder / f"{name}.csv"
        _write_csv(name, frame, path, threshold)
        written.append(path)
    _write_workbook(frames, folder / WORKBOOK, threshold)
    return [*written, folder / WORKBOOK]
