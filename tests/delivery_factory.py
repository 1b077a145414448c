"""Tiny handwritten deliveries for the delivery, raw and staging tests.

Rows are dicts of delivered column -> text (a column left out is written empty); files are
written with Python's csv module and the manifest counts rows with it too, independently of
the code under test.
"""

import csv
import hashlib
import io
import json
from pathlib import Path

from dagster_project.delivery.schemas import DELIVERY_FILES, OPTIONAL_COLUMNS, REQUIRED_COLUMNS

EXTRACT_DATE = "2009-10-31"


def columns(file_name: str) -> list[str]:
    return REQUIRED_COLUMNS[file_name] + OPTIONAL_COLUMNS[file_name]


def episode(**values: str) -> dict[str, str]:
    """A valid NDTMS episode row, with `values` overriding its fields."""
    return {
        "AGNCY": "A01",
        "CLIENTID": "C1",
        "EPISODID": "E1",
        "FINITIAL": "j",
        "SINITIAL": "S",
        "DOB": "02/03/1975",
        "SEX": "1",
        "REFLD": "01/05/2006",
        "RFLS": "5",
        "TRIAGED": "10/05/2006",
        "DRUG1": "1011",
        "DRUG2": "3201",
        "DISD": "01/12/2006",
        "DISRSN": "80",
        "MODAL": "3",
    } | values


def nominal(**values: str) -> dict[str, str]:
    return {
        "PNCID": "1998/0410925R",
        "SURNAME": "O'Brien",
        "FORENAMES": "John Paul",
        "DOB": "1975-03-02",
        "SEX": "M",
        "FORCE": "01",
    } | values


def alias(**values: str) -> dict[str, str]:
    return {"PNCID": "1998/0410925R", "SURNAME": "Smith-Jones", "FORENAMES": "Zoë"} | values


def offence(**values: str) -> dict[str, str]:
    return {
        "PNCID": "1998/0410925R",
        "ASN": "06/01AB/01/1",
        "OFFENCE_SEQ": "1",
        "CJS_CODE": "TH68010",
        "OFFENCE_START": "2006-01-01",
        "OUTCOME": "C",
        "OUTCOME_DATE": "2006-02-01",
        "DISPOSAL": "CUS",
        "CUSTODY_DAYS": "60",
    } | values


DEFAULT_ROWS = {
    "ndtms_episodes.csv": [episode()],
    "pnc_nominals.csv": [nominal()],
    "pnc_aliases.csv": [alias()],
    "pnc_offences.csv": [offence()],
}


def csv_text(
    file_name: str, rows: list[dict[str, str]], header: list[str] | None = None, newline: str = "\n"
) -> str:
    """A CSV file's text: `header` (default: the contract's columns) and the rows."""
    header = header or columns(file_name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()


def count_rows(data: bytes) -> int:
    text = data.decode("utf-8-sig", errors="replace")
    return sum(1 for row in csv.reader(io.StringIO(text, newline="")) if row) - 1


def write_manifest(folder: Path, extract_date: str | None = None, **changes) -> None:
    """manifest.json describing the files now in `folder` (`changes` override entries)."""
    files = {}
    for name in DELIVERY_FILES:
        data = (folder / name).read_bytes() if (folder / name).exists() else b""
        files[name] = {
            "rows": count_rows(data) if data else 0,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    manifest = {"extract_date": extract_date or folder.name, "files": files} | changes
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def make_delivery(
    landing: Path,
    extract_date: str = EXTRACT_DATE,
    texts: dict[str, str | bytes] | None = None,
    rows: dict[str, list[dict[str, str]]] | None = None,
) -> Path:
    """A delivery folder with a matching manifest. Each file is given as raw text/bytes
    (`texts`), as rows (`rows`), or defaults to one valid row."""
    folder = Path(landing) / extract_date
    folder.mkdir(parents=True, exist_ok=True)
    texts, rows = texts or {}, rows or {}
    for name in DELIVERY_FILES:
        data = texts.get(name)
        if data is None:
            data = csv_text(name, rows.get(name, DEFAULT_ROWS[name]))
        (folder / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    write_manifest(folder, extract_date)
    return folder
