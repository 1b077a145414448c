"""Defective deliveries, one defect each, made from a clean synthetic delivery.

Each entry of `DEFECTS` maps a name to (how to damage a copied delivery folder, where the
run must stop). Files are rewritten with Python's csv module and the manifest recomputed
(unless the defect is the manifest), so only the intended defect differs.

Exports `DEFECTS`, `Stop`, `make_defective`.
"""

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.delivery_factory import write_manifest

EPISODES, NOMINALS, OFFENCES = "ndtms_episodes.csv", "pnc_nominals.csv", "pnc_offences.csv"


@dataclass(frozen=True)
class Stop:
    """Where a defect must stop the run: `step` fails with a message containing `words`;
    `check` (asset:check) is the blocking check that fails, if any; `None` for both: the
    run succeeds (the defect is a row-level reject by design, METHOD.md §9)."""

    step: str | None
    words: tuple[str, ...] = ()
    check: str | None = None


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")


def _edit(folder: Path, file_name: str, column: str, change) -> None:
    """Apply `change(value)` to `column` on every row of the file."""
    header, rows = _rows(folder / file_name)
    at = header.index(column)
    for row in rows:
        row[at] = change(row[at])
    _write(folder / file_name, header, rows)


def _drop_column(folder: Path) -> None:
    header, rows = _rows(folder / EPISODES)
    at = header.index("DRUG1")
    _write(folder / EPISODES, header[:at] + header[at + 1:], [r[:at] + r[at + 1:] for r in rows])


def _iso(value: str) -> str:
    """dd/mm/yyyy written yyyy-mm-dd (values planted invalid by the generator kept)."""
    parts = value.split("/")
    return "-".join(reversed(parts)) if len(parts) == 3 else value


def _duplicate_key(folder: Path) -> None:
    header, rows = _rows(folder / NOMINALS)
    _write(folder / NOMINALS, header, [*rows, rows[0]])  # the PNCID repeats: one reject


def _orphan_pncid(folder: Path) -> None:
    header, rows = _rows(folder / OFFENCES)
    orphan = list(rows[0])
    orphan[header.index("PNCID")], orphan[header.index("ASN")] = "1900/0000000Z", "99/0000/00/0"
    _write(folder / OFFENCES, header, [*rows, orphan])


def _manifest_disagrees(folder: Path) -> None:
    header, rows = _rows(folder / OFFENCES)
    _write(folder / OFFENCES, header, rows[:-1])  # a row lost in transit: manifest not redone


DEFECTS = {
    "required_column_missing": (
        _drop_column, Stop("raw_delivery", ("DeliveryError", "required column missing", "DRUG1"))),
    "dob_all_iso": (
        lambda f: _edit(f, EPISODES, "DOB", _iso),
        Stop("staging_checks", ("reject_share",), "staged_ndtms_episodes:reject_share")),
    "triaged_impossible": (
        lambda f: _edit(f, EPISODES, "TRIAGED", lambda v: "31/02/" + v[-4:]),
        Stop("staging_checks", ("reject_share",), "staged_ndtms_episodes:reject_share")),
    "duplicate_key": (_duplicate_key, Stop(None)),
    "orphan_pncid": (_orphan_pncid, Stop(None)),
    "manifest_disagrees": (
        _manifest_disagrees, Stop("raw_delivery", ("DeliveryError", OFFENCES))),
}


def make_defective(clean: Path, landing: Path, defect: str) -> Path:
    """A copy of the `clean` delivery under `landing` with one defect."""
    folder = landing / clean.name
    shutil.copytree(clean, folder)
    damage, _ = DEFECTS[defect]
    damage(folder)
    if defect != "manifest_disagrees":
        write_manifest(folder, clean.name)
    return folder
