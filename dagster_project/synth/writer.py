"""Writing a delivery: CSV files hashed as they are written, the manifest last.

Exports `write_csv`, `write_manifest`.
"""

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

_BATCH_ROWS = 1 << 16


class _HashingFile:
    """A binary file that hashes what is written to it (so no second read is needed)."""

    def __init__(self, path: Path):
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.sha256 = hashlib.sha256()
        self.closed = False

    def write(self, data) -> int:
        data = bytes(data)
        self.sha256.update(data)
        return self._file.write(data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()
        self.closed = True


def write_csv(table: pa.Table, path: Path) -> dict:
    """Write `table` as UTF-8 CSV (header, '\\n' line ends, empty for missing); returns its
    manifest entry {rows, sha256}.

    pyarrow quotes every header name and every text value unless told never to quote, so
    the header is written here and values unquoted: no generated value needs quoting, and
    pyarrow refuses (rather than corrupts) one that would."""
    out = _HashingFile(path)
    try:
        out.write((",".join(table.column_names) + "\n").encode("utf-8"))
        options = pacsv.WriteOptions(
            include_header=False, quoting_style="none", batch_size=_BATCH_ROWS
        )
        pacsv.write_csv(table, out, options)
    finally:
        out.close()
    return {"rows": table.num_rows, "sha256": out.sha256.hexdigest()}


def write_manifest(delivery: Path, extract_date: str, files: dict) -> Path:
    """manifest.json, written last and atomically: a delivery without it is incomplete."""
    path = delivery / "manifest.json"
    tmp = delivery / ".manifest.json.tmp"
    tmp.write_text(
        json.dumps({"extract_date": extract_date, "files": files}, indent=2) + "\n",
        encoding="utf-8",
    )
    os.replace(tmp, path)
    return path
