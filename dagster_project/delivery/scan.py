"""One pass over a delivered file: its SHA-256 and its CSV records (how many, and the
physical line each starts on), without parsing a field.

A newline ends a record unless it lies inside quotes: with RFC 4180 quoting ("" escapes a
quote) that is exactly when an odd number of quote characters precede it in the record.
Vectorised over 16 MiB chunks, so a 1 GB file takes a second or two.

Exports `RecordScan`, `hash_and_scan`, `scan_records`.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK_BYTES = 16 * 2**20
_NEWLINE, _QUOTE, _CR = 10, 34, 13


@dataclass(frozen=True)
class RecordScan:
    """Data records of a CSV file (blank lines skipped, header excluded).

    `start_lines` holds the physical line on which each data record starts (header = 1),
    when asked for. `quoted_newlines` counts newlines inside quoted fields. (A file that
    ends inside a quoted field is reported by the raw parser, `raw.py`.)"""

    rows: int
    start_lines: np.ndarray | None
    quoted_newlines: int


def hash_and_scan(file_path: Path | str, records: bool = True) -> tuple[str, RecordScan | None]:
    """The file's SHA-256 and (unless `records` is false) its records with their start
    lines, in one read."""
    sha = hashlib.sha256()
    scanner = _RecordScanner(want_lines=True) if records else None
    for chunk in _chunks(file_path):
        sha.update(chunk)
        if scanner:
            scanner.feed(chunk)
    return sha.hexdigest(), scanner.finish() if scanner else None


def scan_records(file_path: Path | str, want_lines: bool = True) -> RecordScan:
    """Count the CSV records of a file, and where each starts (unless `want_lines` is false)."""
    scanner = _RecordScanner(want_lines)
    for chunk in _chunks(file_path):
        scanner.feed(chunk)
    return scanner.finish()


def _chunks(file_path: Path | str) -> Iterator[bytes]:
    with Path(file_path).open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield chunk


class _RecordScanner:
    """Incremental state of `scan_records`: fed chunk by chunk, carries quote parity and the
    position of the last record end across chunk boundaries."""

    def __init__(self, want_lines: bool):
        self.want_lines = want_lines
        self.offset = 0  # bytes seen before the current chunk
        self.newlines = 0  # newline characters seen before the current chunk
        self.odd_quotes = False  # inside a quoted field at the chunk boundary
        self.last_end = -1  # offset of the newline that ended the previous record
        self.last_end_line = 0  # how many newlines up to and including it
        self.prev_byte = -1  # last byte of the previous chunk (for "\r\n" blank lines)
        self.records = 0  # non-blank records, header included
        self.quoted_newlines = 0
        self.lines: list[np.ndarray] = []

    def feed(self, chunk: bytes) -> None:
        buf = np.frombuffer(chunk, dtype=np.uint8)
        newlines = np.flatnonzero(buf == _NEWLINE)
        if self.odd_quotes or chunk.find(b'"') >= 0:
            quotes = np.flatnonzero(buf == _QUOTE)
            parity = (np.searchsorted(quotes, newlines) + self.odd_quotes) % 2
            ends_at = np.flatnonzero(parity == 0)  # which newlines end a record
            self.odd_quotes = bool((len(quotes) + self.odd_quotes) % 2)
        else:
            ends_at = np.arange(len(newlines))
        ends = newlines[ends_at] + self.offset
        if len(ends):
            self._count(buf, ends, ends_at)
        self.quoted_newlines += len(newlines) - len(ends)
        self.offset += len(chunk)
        self.newlines += len(newlines)
        if len(chunk):
            self.prev_byte = chunk[-1]

    def _count(self, buf: np.ndarray, ends: np.ndarray, ends_at: np.ndarray) -> None:
        """Records ending at `ends` (file offsets of their newlines, the `ends_at`-th newlines
        of the chunk `buf`): count the non-blank ones and note the lines they start on."""
        # a record is blank when nothing (or a lone "\r") lies between two record ends
        starts = np.concatenate(([self.last_end + 1], ends[:-1] + 1))
        length = ends - starts
        one = np.flatnonzero(length == 1)
        before = ends[one] - 1 - self.offset
        byte_before = np.where(before >= 0, buf[np.maximum(before, 0)], self.prev_byte)
        blank = length == 0
        blank[one] = byte_before == _CR
        self.records += int(len(ends) - blank.sum())
        if self.want_lines:
            first_lines = np.concatenate(([self.last_end_line], self.newlines + ends_at[:-1] + 1))
            self.lines.append(first_lines[~blank] + 1)
        self.last_end, self.last_end_line = int(ends[-1]), self.newlines + int(ends_at[-1]) + 1

    def finish(self) -> RecordScan:
        tail = self.offset - self.last_end - 1  # bytes after the last record end
        if tail > 0 and not (tail == 1 and self.prev_byte == _CR):
            self.records += 1  # a last record without a final newline
            if self.want_lines:
                self.lines.append(np.array([self.last_end_line + 1]))
        lines = None
        if self.want_lines:
            lines = np.concatenate(self.lines or [np.empty(0, np.int64)]).astype(np.int64)[1:]
        rows = max(self.records - 1, 0)
        return RecordScan(rows, lines, self.quoted_newlines)
