"""Defective rows (METHOD.md §9) and unknown codes, planted into the finished tables.

Every planted row is recorded (file, line, kind, whether staging must reject it) so that
staging can be tested against the truth. Defects never cascade: a nominal with a bad
date of birth or an alias of an unknown PNCID is an extra row, not a corrupted real one,
so no offence or alias loses its nominal because of a planted defect.

Exports `plant_ndtms`, `plant_offences`, `plant_nominals`, `plant_aliases`.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .columns import NO_DAY, date_column, date_parts
from .config import SynthConfig
from .pnc import pncid_text


class Planter:
    """Plants defects into one table, tagging each planted row with its kind."""

    def __init__(self, rng, table: pa.Table, file: str, config: SynthConfig, n_kinds: int):
        self.rng, self.table, self.file = rng, table, file
        n = table.num_rows
        self.source = np.arange(n)  # original row of each row; -1 for added rows
        self.tag = np.full(n, -1)  # index into self.kinds; -1 untouched
        self.kinds: list[tuple[str, bool]] = []
        self.used = np.zeros(n, bool)  # sources of repeats are not corrupted too
        self.k_invalid = (
            max(1, round(config.invalid_row_share * n / n_kinds))
            if config.invalid_row_share > 0 and n
            else 0
        )
        self.k_unknown = (
            max(1, round(config.unknown_code_share * n))
            if config.unknown_code_share > 0 and n
            else 0
        )

    def _kind(self, kind: str, rejected: bool) -> int:
        self.kinds.append((kind, rejected))
        return len(self.kinds) - 1

    def _insert(self, extra: pa.Table, after: np.ndarray | None, kind: str) -> None:
        """Add rows at random places, after row `after[i]` when given."""
        n, k = self.table.num_rows, extra.num_rows
        lo = np.zeros(k, np.int64) if after is None else np.asarray(after) + 1
        pos = lo + (self.rng.random(k) * (n + 1 - lo)).astype(np.int64)
        order = np.argsort(pos, kind="stable")
        take = np.insert(np.arange(n), pos[order], n + order)
        self.table = pa.concat_tables([self.table, extra.cast(self.table.schema)]).take(take)
        tag = self._kind(kind, True)
        self.source = np.r_[self.source, np.full(k, -1)][take]
        self.tag = np.r_[self.tag, np.full(k, tag)][take]
        self.used = np.r_[self.used, np.ones(k, bool)][take]

    def repeat(self, k: int, kind: str, change: dict | None = None) -> None:
        """Repeat k rows later in the file (the first occurrence is kept)."""
        rows = self.pick(k)
        extra = self.table.take(pa.array(rows))
        for column, values in (change or {}).items():
            extra = extra.set_column(
                extra.schema.get_field_index(column),
                column,
                pa.array(values(len(rows)), pa.string()),
            )
        self._insert(extra, rows, kind)

    def add(self, extra: pa.Table, kind: str) -> None:
        """Add rows (already defective) at random places."""
        self._insert(extra, None, kind)

    def pick(self, k: int, where: np.ndarray | None = None) -> np.ndarray:
        """k rows not yet touched, among delivered rows (and where `where`)."""
        ok = ~self.used & (self.source >= 0)
        if where is not None:
            ok &= where
        rows = self.rng.choice(np.flatnonzero(ok), size=min(k, int(ok.sum())), replace=False)
        self.used[rows] = True
        return np.sort(rows)

    def at_source(self, values: np.ndarray) -> np.ndarray:
        """A per-original-row array aligned with the current rows."""
        return np.asarray(values)[np.maximum(self.source, 0)]

    def set(self, column: str, rows: np.ndarray, values, kind: str, rejected: bool) -> None:
        """Replace a column's values on (sorted) rows; None is an empty field."""
        col = self.table.column(column)
        mask = np.zeros(self.table.num_rows, bool)
        mask[rows] = True
        new = pc.replace_with_mask(
            col.combine_chunks(), pa.array(mask), pa.array(list(values), type=col.type)
        )
        self.table = self.table.set_column(self.table.schema.get_field_index(column), column, new)
        self.tag[rows] = self._kind(kind, rejected)

    def records(self) -> list[dict]:
        """The planted rows: file, line (the header is line 1), kind, rejected."""
        rows = np.flatnonzero(self.tag >= 0)
        return [
            {
                "file": self.file,
                "line": int(r) + 2,
                "kind": self.kinds[t][0],
                "rejected": self.kinds[t][1],
            }
            for r, t in zip(rows, self.tag[rows], strict=True)
        ]


def _text(array: pa.Array) -> list:
    return array.to_pylist()


def _bad_dates(rng, days: np.ndarray, style: str) -> list:
    """Dates not in the file's format: a `dmy` file gets ISO dates or 31 February, an
    `iso` file DD/MM/YYYY dates or 30 February."""
    year = date_parts(days)[0].astype(str)
    other = np.asarray(_text(date_column(days, "iso" if style == "dmy" else "dmy")), dtype=object)
    impossible = np.char.add("31/02/", year) if style == "dmy" else np.char.add(year, "-02-30")
    return np.where(rng.random(len(days)) < 0.5, other, impossible.astype(object)).tolist()


def _fresh_pncids(rng, k: int, block: int) -> pa.Array:
    """PNCIDs of nobody: serials this high are never issued to real records, and each
    file draws from its own block so that no two planted PNCIDs meet."""
    return pncid_text(rng.integers(1975, 2009, k), 9_900_000 + 30_000 * block + np.arange(k))


def plant_ndtms(rng, table: pa.Table, days: dict, config: SynthConfig):
    """ndtms_episodes.csv defects; `days` holds each row's triaged, disd and dob."""
    p = Planter(rng, table, "ndtms_episodes.csv", config, n_kinds=8)
    k, u = p.k_invalid, p.k_unknown
    p.repeat(k, "repeated AGNCY+EPISODID")
    triaged, disd, dob = (p.at_source(days[c]) for c in ("triaged", "disd", "dob"))
    closed = (disd != NO_DAY) & (p.source >= 0)
    r = p.pick(k)
    p.set("TRIAGED", r, _bad_dates(rng, triaged[r], "dmy"), "unparseable TRIAGED", True)
    r = p.pick(k)
    p.set("DOB", r, _bad_dates(rng, dob[r], "dmy"), "unparseable DOB", True)
    r = p.pick(k, closed)
    p.set("DISD", r, _bad_dates(rng, disd[r], "dmy"), "unparseable DISD", True)
    r = p.pick(k)
    p.set("TRIAGED", r, [None] * len(r), "missing TRIAGED", True)
    r = p.pick(k)
    p.set("SEX", r, rng.choice(["M", "0", "3"], len(r)).tolist(), "invalid SEX", True)
    r = p.pick(k, closed)
    p.set(
        "DISD",
        r,
        _text(date_column(triaged[r] - rng.integers(1, 91, len(r)), "dmy")),
        "DISD before TRIAGED",
        True,
    )
    r = p.pick(k)
    p.set(
        "DOB",
        r,
        _text(date_column(triaged[r] + rng.integers(1, 3651, len(r)), "dmy")),
        "DOB after TRIAGED",
        True,
    )
    r = p.pick(u)
    p.set("RFLS", r, ["99"] * len(r), "unknown RFLS", False)
    r = p.pick(u)
    p.set("DRUG1", r, ["9999"] * len(r), "unknown DRUG1", False)
    r = p.pick(u, closed)
    p.set("DISRSN", r, ["99"] * len(r), "unknown DISRSN", False)
    return p.table, p.records()


def plant_offences(rng, table: pa.Table, config: SynthConfig):
    """pnc_offences.csv defects."""
    p = Planter(rng, table, "pnc_offences.csv", config, n_kinds=6)
    del table  # the planter's copy replaces it (millions of rows: not held twice)
    k, u = p.k_invalid, p.k_unknown
    p.repeat(k, "repeated ASN+OFFENCE_SEQ")
    start = (
        np.asarray(
            pc.strptime(p.table.column("OFFENCE_START"), "%Y-%m-%d", "s")
            .cast(pa.int64())
            .to_numpy(zero_copy_only=False)
        )
        // 86400
    )
    # rejected defects spare each person's first row, so that no nominal is left without a
    # valid offence (people are on the PNC because they were caught)
    # (PNCIDs as dictionary codes: millions of rows as Python strings would cost gigabytes)
    delivered = np.flatnonzero(p.source >= 0)
    pncid = pc.dictionary_encode(p.table.column("PNCID")).combine_chunks().indices
    pncid = np.asarray(pncid.to_numpy(zero_copy_only=False))[delivered]
    later = np.zeros(p.table.num_rows, bool)
    later[delivered] = True
    later[delivered[np.unique(pncid, return_index=True)[1]]] = False
    r = p.pick(k, later)
    p.set("OFFENCE_START", r, _bad_dates(rng, start[r], "iso"), "unparseable OFFENCE_START", True)
    r = p.pick(k, later)
    p.set("OFFENCE_START", r, [None] * len(r), "missing OFFENCE_START", True)
    r = p.pick(k, later)
    p.set("OUTCOME", r, rng.choice(["X", "G", "c"], len(r)).tolist(), "unknown OUTCOME", True)
    convicted = pc.equal(p.table.column("OUTCOME"), "C").to_numpy(zero_copy_only=False)
    r = p.pick(k, convicted & later)
    p.set("OUTCOME_DATE", r, [None] * len(r), "C without OUTCOME_DATE", True)
    r = p.pick(k, later)
    p.set("PNCID", r, _text(_fresh_pncids(rng, len(r), 0)), "PNCID with no nominal", True)
    r = p.pick(u)
    p.set(
        "CJS_CODE",
        r,
        rng.choice(["XX99001", "ZZ01234", "CD71999"], len(r)).tolist(),
        "unknown CJS_CODE",
        False,
    )
    return p.table, p.records()


def plant_nominals(rng, table: pa.Table, config: SynthConfig):
    """pnc_nominals.csv defects: repeated PNCIDs, and extra nominals (of nobody's
    offences) with an unparseable date of birth."""
    p = Planter(rng, table, "pnc_nominals.csv", config, n_kinds=2)
    k = p.k_invalid
    p.repeat(k, "repeated PNCID")
    extra = p.table.take(pa.array(rng.integers(0, p.table.num_rows, k)))
    dob = (
        np.asarray(
            pc.strptime(extra.column("DOB"), "%Y-%m-%d", "s")
            .cast(pa.int64())
            .to_numpy(zero_copy_only=False)
        )
        // 86400
    )
    extra = extra.set_column(0, "PNCID", _fresh_pncids(rng, k, 1))
    extra = extra.set_column(
        extra.schema.get_field_index("DOB"),
        "DOB",
        pa.array(_bad_dates(rng, dob, "iso"), pa.string()),
    )
    p.add(extra, "unparseable DOB")
    return p.table, p.records()


def plant_aliases(rng, table: pa.Table, config: SynthConfig):
    """pnc_aliases.csv defects: aliases of unknown PNCIDs (extra rows), and aliases whose
    date of birth is unparseable."""
    p = Planter(rng, table, "pnc_aliases.csv", config, n_kinds=2)
    k = p.k_invalid
    if table.num_rows:
        extra = p.table.take(pa.array(rng.integers(0, p.table.num_rows, k)))
        p.add(extra.set_column(0, "PNCID", _fresh_pncids(rng, k, 2)), "unknown PNCID")
    has_dob = pc.is_valid(p.table.column("DOB")).to_numpy(zero_copy_only=False)
    dob = (
        np.asarray(
            pc.strptime(p.table.column("DOB"), "%Y-%m-%d", "s")
            .cast(pa.int64())
            .fill_null(0)
            .to_numpy(zero_copy_only=False)
        )
        // 86400
    )
    r = p.pick(k, has_dob)
    p.set("DOB", r, _bad_dates(rng, dob[r], "iso"), "unparseable DOB", True)
    return p.table, p.records()
