"""Read one delivered CSV file as delivered: every value as text, nothing converted.

The fast path is pyarrow's streaming CSV reader with every column typed as a string, one
block of the file at a time (a national offences file never whole in memory); only when it
fails (or disagrees with the record scan) is the file re-read line by line in Python to
name the first offending line and column. That path is slow but only runs on bad input.

Exports `extract_slices`, `read_extract`.
"""

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from dagster_project.delivery.manifest import Delivery, DeliveryError
from dagster_project.delivery.scan import scan_records
from dagster_project.delivery.schemas import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

# one CSV field under RFC 4180: unquoted (no quote, comma or line end) or quoted ("" escapes)
_FIELD = re.compile(r'"(?:[^"]|"")*"|[^",\r\n]*')
_BOM = b"\xef\xbb\xbf"
# files a delivery cannot do without: with no rows, a refresh would load an empty world (and
# replace a good one). A delivery may well have no aliases.
# one block of the file parsed at a time: the raw load's memory is a few blocks, not a file
BLOCK_BYTES = 1 << 24
MUST_HAVE_ROWS = ("ndtms_episodes.csv", "pnc_nominals.csv", "pnc_offences.csv")


def read_extract(delivery: Delivery, file_name: str) -> tuple[pd.DataFrame, list[str]]:
    """One file of a delivery as one DataFrame of text (`extract_slices`' slices joined),
    and any warnings: for tests and small deliveries; the raw load writes the slices."""
    slices, warnings = extract_slices(delivery, file_name)
    return _to_text_frame(pa.concat_tables(list(slices))), warnings


def extract_slices(delivery: Delivery, file_name: str) -> tuple[Iterator[pa.Table], list[str]]:
    """One file of a delivery as Arrow slices of text, with provenance, and any warnings.

    Columns: the required and optional columns of the contract, lower-cased (an absent
    optional column is all missing), then `extract_date`, `source_file` and `line_number`
    (the physical line where the record starts; header = line 1). Empty fields are
    missing; every other value is kept exactly as delivered ('NA' stays 'NA').

    The header is checked at once; the records as the slices are read (one block of the
    file in memory at a time), and a malformed record, a count that disagrees with the
    manifest or an empty file raises `DeliveryError` from the iterator, after the slices
    before it: write them in a transaction that the error rolls back."""
    path = delivery.path / file_name
    fail = _raiser(file_name, delivery.path)
    header = _read_header(path, fail)
    wanted = REQUIRED_COLUMNS[file_name] + OPTIONAL_COLUMNS[file_name]
    for name in REQUIRED_COLUMNS[file_name]:
        if name not in header:
            fail("required column missing", line=1, column=name)
    extra = [name for name in header if name not in wanted]
    warnings = [f"extra column(s) ignored: {', '.join(extra)}"] if extra else []
    # verification scanned the file already; a delivery not verified with counts is scanned here
    scan = delivery.scans.get(file_name) or scan_records(path)
    provenance = {"extract_date": delivery.extract_date.isoformat(), "source_file": file_name}

    def slices() -> Iterator[pa.Table]:
        done = 0
        for batch in _parse(path, header, multiline=scan.quoted_newlines > 0, fail=fail):
            if done + batch.num_rows > scan.rows:
                break  # pyarrow delimits more records than RFC 4180: located below
            lines = scan.start_lines[done : done + batch.num_rows]
            _refuse_nul(batch, lines, fail)
            yield _contract_columns(batch, wanted, provenance, lines)
            done += batch.num_rows
        if done != scan.rows:
            # pyarrow read quoting more leniently than RFC 4180 (a stray quote): find where
            _raise_located(path, header, fail, fallback="records could not be delimited")
        expected = delivery.files[file_name].rows
        if done != expected:
            fail(f"{done} data rows, the manifest says {expected}")
        if done == 0:
            if file_name in MUST_HAVE_ROWS:
                fail("no data rows: a delivery needs every episode, nominal and offence known "
                     "on its extract date", line=1)
            yield _contract_columns(pa.table({name: pa.array([], pa.large_string())
                                              for name in header}),
                                    wanted, provenance, scan.start_lines[:0])

    return slices(), warnings


def _refuse_nul(table: pa.Table | pa.RecordBatch, start_lines: np.ndarray, fail) -> None:
    """A NUL character is no text any supplier means, and PostgreSQL cannot store it: refuse
    the file at the first one, before anything is written on either backend."""
    for name in table.column_names:
        column = table.column(name)
        has_nul = pc.fill_null(pc.match_substring(column, "\x00"), False)
        if pc.any(has_nul).as_py():
            row = int(np.flatnonzero(has_nul.to_numpy(zero_copy_only=False))[0])
            fail("a NUL character (byte 0x00) in a value", line=int(start_lines[row]), column=name)


def _raiser(file_name: str, folder: Path):
    def fail(problem: str, line: int | None = None, column: str | None = None):
        raise DeliveryError(problem, file=file_name, line=line, column=column, folder=folder)

    return fail


def _read_header(path: Path, fail) -> list[str]:
    """Column names from the first non-blank record; repeated names are an error. Only the
    header's bytes are decoded, so bad bytes further down are reported at their own line."""
    record = b""
    with path.open("rb") as f:
        for physical in f:
            record += physical
            if record.count(b'"') % 2 == 0 and record.strip():
                break
    try:
        text = record.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError:
        fail("invalid UTF-8 in the header", line=1)
    header = next(csv.reader([text.rstrip("\r\n")]), None) if text.strip() else None
    if header is None:
        fail("empty file: no header", line=1)
    seen = set()
    for name in header:
        if name in seen:
            fail("column name repeated in the header", line=1, column=name)
        seen.add(name)
    return header


def _parse(path: Path, header: list[str], multiline: bool, fail) -> Iterator[pa.RecordBatch]:
    """The file through pyarrow's streaming reader, block by block, every column as a
    string, empty as null."""
    convert = pv.ConvertOptions(
        # large_string is pandas' own storage for `str`: to_pandas then copies nothing
        column_types={name: pa.large_string() for name in header},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    # quoted newlines force pyarrow's slower serial chunking: ask only when there are some
    parse = pv.ParseOptions(newlines_in_values=multiline, ignore_empty_lines=True)
    try:
        reader = pv.open_csv(
            path,
            read_options=pv.ReadOptions(block_size=BLOCK_BYTES),
            parse_options=parse,
            convert_options=convert,
        )
        yield from reader
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        # pyarrow's message quotes the offending row: keep delivered values out of it
        summary = str(exc).split(":", 2)[:2]
        _raise_located(path, header, fail, fallback=":".join(summary).strip())


def _contract_columns(batch: pa.RecordBatch | pa.Table, wanted: list[str],
                      constants: dict[str, str], lines: np.ndarray) -> pa.Table:
    """The contract's columns, lower-cased (absent ones all null), constant text columns and
    the line numbers (built in pyarrow: a Python scalar broadcast is slow)."""
    rows = batch.num_rows
    columns = {
        name.lower(): batch.column(name) if name in batch.schema.names
        else pa.nulls(rows, pa.large_string())
        for name in wanted
    }
    for name, value in constants.items():
        columns[name] = pa.repeat(pa.scalar(value, pa.large_string()), rows)
    columns["line_number"] = pa.array(lines, pa.int64())
    return pa.table(columns)


def _to_text_frame(table: pa.Table) -> pd.DataFrame:
    """Slices as pandas `str` columns backed by pyarrow."""
    frame = table.to_pandas()
    for name in frame.columns:  # an all-null column may come back as object
        if name != "line_number" and frame[name].dtype != "str":
            frame[name] = frame[name].astype("str")
    return frame


def _raise_located(path: Path, header: list[str], fail, fallback: str):
    """Re-read the file record by record and raise on the first malformed one."""
    record: list[bytes] = []
    start, line, odd_quotes = 0, 0, False
    with path.open("rb") as f:
        for physical in f:
            line += 1
            if not record:
                start = line
            record.append(physical)
            odd_quotes ^= physical.count(b'"') % 2 == 1
            if not odd_quotes:
                if start > 1:  # the header has been checked already
                    _check_record(b"".join(record), start, header, fail)
                record = []
            elif len(record) == 1:
                _check_open_quote(physical, start, header, fail)
    if record:
        fields, bad, _ = _split(b"".join(record).decode("latin-1"))
        fail(
            "quoted field not closed before the end of the file",
            line=start,
            column=_column(header, bad if bad is not None else len(fields) - 1),
        )
    fail(f"malformed CSV: {fallback}")


def _check_open_quote(physical: bytes, line: int, header: list[str], fail) -> None:
    """A line with an odd number of quotes must open a quoted field that goes on to the next
    line; a stray quote inside an unquoted field is malformed."""
    text = physical.decode("latin-1").rstrip("\r\n")
    fields, bad, at = _split(text)
    # odd quotes always leave a malformed field: fine only if it is an empty match right
    # before a quote, i.e. a quoted field that opens here and does not close on this line
    if bad is not None and not (fields[bad] == "" and text.startswith('"', at)):
        fail(
            "malformed quoting: a quote inside an unquoted field, or text after a closing quote",
            line=line,
            column=_column(header, bad),
        )


def _check_record(data: bytes, line: int, header: list[str], fail) -> None:
    """Quoting, encoding and field count of one record (given as bytes, line end included)."""
    text = data.removeprefix(_BOM).decode("latin-1").rstrip("\n").removesuffix("\r")
    if not text:
        return  # a blank line holds no record
    fields, bad, _ = _split(text)
    if bad is not None:
        fail(
            "malformed quoting: a quote inside an unquoted field, or text after a closing quote",
            line=line,
            column=_column(header, bad),
        )
    for i, field in enumerate(fields):
        try:
            field.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            fail("invalid UTF-8", line=line, column=_column(header, i))
    if len(fields) != len(header):
        fail(f"{len(fields)} fields, expected {len(header)}", line=line)


def _split(text: str) -> tuple[list[str], int | None, int]:
    """Fields of one record, the index of the first malformed field (or None) and the
    offset where it goes wrong."""
    fields, pos = [], 0
    while True:
        match = _FIELD.match(text, pos)
        fields.append(match.group())
        end = match.end()
        if end == len(text):
            return fields, None, end
        if text[end] != ",":
            return fields, len(fields) - 1, end
        pos = end + 1


def _column(header: list[str], index: int) -> str:
    return header[index] if index < len(header) else f"#{index + 1} (beyond the header)"
