"""Deliveries in the landing folder: the manifest, its verification, and the choice of the
newest complete one (EXTRACTS.md, "Delivery layout").

A delivery is used only when every file matches its manifest (present, same SHA-256, same
number of data rows). Anything else is incomplete or corrupt and is skipped with a reason.

Exports `DeliveryError`, `ManifestEntry`, `Delivery`, `read_manifest`, `verify_delivery`,
`list_deliveries`, `ignored_folders`, `newest_complete_delivery`, `is_complete`,
`scan_records`.
"""

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dagster_project.delivery.schemas import DELIVERY_FILES

MANIFEST = "manifest.json"
CHUNK_BYTES = 16 * 2**20
_FOLDER_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")
_NEWLINE, _QUOTE, _CR = 10, 34, 13
# more rows than any delivery could hold (a row is at least a few bytes; 10^12 is a petabyte)
_MAX_ROWS = 10**12


class DeliveryError(Exception):
    """Bad input: a delivery or one of its files breaks the contract of EXTRACTS.md.

    The message names the file, the line and the column where known, and the delivery folder.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        folder: Path | str | None = None,
    ):
        self.problem, self.file, self.line, self.column = problem, file, line, column
        self.folder = None if folder is None else Path(folder)
        where = [
            part
            for part in (
                file,
                None if line is None else f"line {line}",
                None if column is None else f"column {column}",
            )
            if part
        ]
        message = f"{', '.join(where)}: {problem}" if where else problem
        if self.folder is not None:
            message += f" (delivery {self.folder})"
        super().__init__(message)


@dataclass(frozen=True)
class ManifestEntry:
    rows: int
    sha256: str


@dataclass(frozen=True)
class Delivery:
    path: Path
    extract_date: dt.date
    files: dict[str, ManifestEntry]


def read_manifest(path: Path | str, today: dt.date | None = None) -> Delivery:
    """The delivery at `path` as its manifest describes it (the files are not opened). A
    delivery dated after `today` (default: the calendar's), or with a file that is a link
    leading out of the landing folder, is refused."""
    path = Path(path)
    _refuse_escaping_links(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise DeliveryError("manifest missing", file=MANIFEST, folder=path)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise DeliveryError(
            f"not valid JSON ({exc})", file=MANIFEST, line=line, folder=path
        ) from exc
    if not isinstance(manifest, dict):
        raise DeliveryError("not a JSON object", file=MANIFEST, folder=path)
    extract_date = _manifest_date(manifest, path)
    if extract_date > (today or dt.date.today()):
        raise DeliveryError(
            f"extract_date {extract_date} is in the future: a delivery cannot be extracted "
            "after today", file=MANIFEST, folder=path,
        )
    return Delivery(path, extract_date, _manifest_files(manifest, path))


def _refuse_escaping_links(path: Path) -> None:
    """The delivery folder and its files must lie inside the landing folder: a symbolic link
    leading elsewhere could feed the pipeline files nobody delivered."""
    folder = path.resolve()
    if not folder.is_relative_to(path.parent.resolve()):
        raise DeliveryError("a symbolic link leading out of the landing folder", folder=path)
    for name in (MANIFEST, *DELIVERY_FILES):
        if not (path / name).resolve().is_relative_to(folder):
            raise DeliveryError(
                "a symbolic link leading out of the landing folder", file=name, folder=path
            )


def _manifest_date(manifest: dict, path: Path) -> dt.date:
    text = manifest.get("extract_date")
    if not isinstance(text, str) or not _FOLDER_NAME.fullmatch(text):
        raise DeliveryError(
            f"extract_date {text!r} is not an ISO date (YYYY-MM-DD)", file=MANIFEST, folder=path
        )
    try:
        extract_date = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise DeliveryError(
            f"extract_date {text!r} is not a calendar date", file=MANIFEST, folder=path
        ) from exc
    if text != path.name:
        raise DeliveryError(
            f"extract_date {text} differs from the folder name {path.name!r}",
            file=MANIFEST,
            folder=path,
        )
    return extract_date


def _manifest_files(manifest: dict, path: Path) -> dict[str, ManifestEntry]:
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise DeliveryError("'files' missing or not an object", file=MANIFEST, folder=path)
    entries = {}
    for name in DELIVERY_FILES:
        entry = files.get(name)
        if entry is None:
            raise DeliveryError(f"{name} not listed in the manifest", file=MANIFEST, folder=path)
        rows, sha = (
            (entry.get("rows"), entry.get("sha256")) if isinstance(entry, dict) else (None, None)
        )
        # bool is an int in Python; a row count of `true` is still a broken manifest, and so
        # are 797.0 and 1e30 (JSON numbers that are not integers) and counts past any file
        if (not isinstance(rows, int) or isinstance(rows, bool) or rows < 0
                or rows > _MAX_ROWS):
            raise DeliveryError(
                f"{name}: rows {rows!r} is not a possible count of data rows",
                file=MANIFEST, folder=path,
            )
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha):
            raise DeliveryError(f"{name}: sha256 is not 64 hex digits", file=MANIFEST, folder=path)
        entries[name] = ManifestEntry(rows, sha.lower())
    return entries


def verify_delivery(path: Path | str, count_rows: bool = True) -> Delivery:
    """The delivery at `path`, once every file is present with the manifest's SHA-256 and
    (unless `count_rows` is false) its number of data rows; else DeliveryError."""
    delivery = read_manifest(path)
    for name, entry in delivery.files.items():
        file_path = delivery.path / name
        if not file_path.is_file():
            raise DeliveryError("file missing", file=name, folder=delivery.path)
        digest, rows = _digest_and_count(file_path, count_rows)
        if digest != entry.sha256:
            raise DeliveryError(
                f"SHA-256 {digest} differs from the manifest's {entry.sha256}",
                file=name,
                folder=delivery.path,
            )
        if count_rows and rows != entry.rows:
            raise DeliveryError(
                f"{rows} data rows, the manifest says {entry.rows}", file=name, folder=delivery.path
            )
    return delivery


def _digest_and_count(file_path: Path, count_rows: bool) -> tuple[str, int | None]:
    """One pass over the file: its SHA-256 and (optionally) its number of data rows."""
    sha = hashlib.sha256()
    scanner = _RecordScanner(want_lines=False) if count_rows else None
    with file_path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            sha.update(chunk)
            if scanner:
                scanner.feed(chunk)
    return sha.hexdigest(), scanner.finish().rows if scanner else None


def ignored_folders(landing_dir: Path | str) -> list[str]:
    """Entries of the landing folder that are not deliveries (not named YYYY-MM-DD), each
    with why: said out loud, since a folder like `2010-10-31_v2` may be meant as one."""
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        return []
    return [
        f"{p.name}: ignored, not named by an extract date (YYYY-MM-DD)"
        for p in sorted(landing_dir.iterdir())
        if p.is_dir() and not _FOLDER_NAME.fullmatch(p.name) and not p.name.startswith(".")
    ]


def list_deliveries(landing_dir: Path | str) -> list[Path]:
    """Delivery folders (named YYYY-MM-DD) in the landing folder, oldest first."""
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        return []
    return sorted(p for p in landing_dir.iterdir() if p.is_dir() and _FOLDER_NAME.fullmatch(p.name))


def newest_complete_delivery(landing_dir: Path | str) -> tuple[Delivery, list[tuple[Path, str]]]:
    """The newest delivery that verifies, and the newer ones skipped with their reasons."""
    skipped: list[tuple[Path, str]] = []
    folders = list_deliveries(landing_dir)
    for path in reversed(folders):
        try:
            return verify_delivery(path), skipped
        except DeliveryError as exc:
            skipped.append((path, str(exc)))
    why = "; ".join(f"{p.name}: {reason}" for p, reason in skipped) or (
        "no sub-folder named YYYY-MM-DD"
    )
    raise DeliveryError(f"no complete delivery in {landing_dir} ({why})")


def is_complete(path: Path | str) -> tuple[bool, str]:
    """A cheap test for a sensor: a valid manifest and every file present (not hashed)."""
    try:
        delivery = read_manifest(path)
    except DeliveryError as exc:
        return False, str(exc)
    missing = [name for name in delivery.files if not (delivery.path / name).is_file()]
    if missing:
        return False, f"{', '.join(missing)} missing (delivery {delivery.path})"
    return True, "complete"


@dataclass(frozen=True)
class RecordScan:
    """Data records of a CSV file (blank lines skipped, header excluded).

    `start_lines` holds the physical line on which each data record starts (header = 1),
    when asked for. `quoted_newlines` counts newlines inside quoted fields. (A file that
    ends inside a quoted field is reported by the raw parser, `dagster_project.delivery.raw`.)"""

    rows: int
    start_lines: np.ndarray | None
    quoted_newlines: int


def scan_records(file_path: Path | str, want_lines: bool = True) -> RecordScan:
    """Count the CSV records of a file, and where each starts, without parsing fields.

    A newline ends a record unless it lies inside quotes: with RFC 4180 quoting ("" escapes a
    quote) that is exactly when an odd number of quote characters precede it in the record.
    Vectorised over 16 MiB chunks, so a 1 GB file takes a second or two."""
    scanner = _RecordScanner(want_lines)
    with Path(file_path).open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            scanner.feed(chunk)
    return scanner.finish()


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
