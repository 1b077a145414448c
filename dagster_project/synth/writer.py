"""Writing a delivery: CSV files hashed as they are written, the manifest last.

Exports `CsvFile`, `write_csv`, `write_manifest`.
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


class CsvFile:
    """A delivery CSV written in parts: the header, then tables appended in turn (UTF-8,
    '\\n' line ends, empty for missing); `close` returns its manifest entry {rows, sha256}.

    pyarrow quotes every header name and every text value unless told never to quote, so
    the header is written here and values unquoted: no generated value needs quoting, and
    pyarrow refuses (rather than corrupts) one that would."""

    def __init__(self, path: Path, columns: list[str]):
        self.columns, self.rows = list(columns), 0
        self._out = _HashingFile(path)
        try:
            self._out.write((",".join(self.columns) + "\n").encode("utf-8"))
        except BaseException:
            self._out.close()
            raise

    def append(self, table: pa.Table) -> None:
        if table.column_names != self.columns:
            raise ValueError(f"columns {table.column_names} do not follow {self.columns}")
        options = pacsv.WriteOptions(
            include_header=False, quoting_style="none", batch_size=_BATCH_ROWS
        )
        try:
            pacsv.write_csv(table, self._out, options)
        except BaseException:
            self._out.close()
            raise
        self.rows += table.num_rows

    def close(self) -> dict:
        self._out.close()
        return {"rows": self.rows, "sha256": self._out.sha256.hexdigest()}


def write_csv(table: pa.Table, path: Path) -> dict:
    """Write `table` as one delivery CSV (see `CsvFile`); returns its manifest entry."""
    out = CsvFile(path, table.column_names)
    out.append(table)
    return out.close()


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
