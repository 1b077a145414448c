"""Deliveries in the landing folder: the manifest, its verification, and the choice of the
newest complete one (EXTRACTS.md, "Delivery layout").

A delivery is used only when every file matches its manifest (present, same SHA-256, same
number of data rows). Anything else is incomplete or corrupt and is skipped with a reason.

Verification is the one full pass over each file before the parse: its SHA-256, its records
and the line each starts on (`scan.py`), kept on the `Delivery` for the raw load.

Exports `DeliveryError`, `ManifestEntry`, `Delivery`, `read_manifest`, `verify_delivery`,
`list_deliveries`, `ignored_folders`, `newest_complete_delivery`, `is_complete`.
"""

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dagster_project.delivery.scan import RecordScan, hash_and_scan
from dagster_project.delivery.schemas import DELIVERY_FILES

MANIFEST = "manifest.json"
_FOLDER_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")
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
    # file name -> its records as verification found them (`verify_delivery` with counts)
    scans: Mapping[str, RecordScan] = field(default_factory=dict, compare=False, repr=False)


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
    (unless `count_rows` is false) its number of data rows; else DeliveryError. Each file is
    read once; with `count_rows` its records (and the line each starts on) come back in
    `Delivery.scans`, so the raw load does not scan it again."""
    delivery = read_manifest(path)
    scans = {}
    for name, entry in delivery.files.items():
        file_path = delivery.path / name
        if not file_path.is_file():
            raise DeliveryError("file missing", file=name, folder=delivery.path)
        digest, scan = hash_and_scan(file_path, records=count_rows)
        if digest != entry.sha256:
            raise DeliveryError(
                f"SHA-256 {digest} differs from the manifest's {entry.sha256}",
                file=name,
                folder=delivery.path,
            )
        if scan is not None:
            if scan.rows != entry.rows:
                raise DeliveryError(f"{scan.rows} data rows, the manifest says {entry.rows}",
                                    file=name, folder=delivery.path)
            scans[name] = scan
    return replace(delivery, scans=scans)


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
