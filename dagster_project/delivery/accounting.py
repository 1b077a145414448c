"""Row accounting: every delivered row is staged or rejected (METHOD.md §9).

Exports `row_accounting`, `rejected_rows`, `rejected_by_file`, `delivery_accounting`.
"""

import pandas as pd
import sqlalchemy as sa

from dagster_project.delivery.schemas import (
    DELIVERY_FILES,
    RAW_TABLES,
    REJECTS_TABLE,
    STAGED_TABLES,
)
from dagster_project.warehouse.sql import table_clause


def row_accounting(raw: dict[str, int], staged: dict[str, int], rejected: dict[str, int]):
    """Per file: raw, staged and rejected rows and whether raw = staged + rejected."""
    table = pd.DataFrame(
        {
            "file": list(raw),
            "raw": [raw[f] for f in raw],
            "staged": [staged.get(f, 0) for f in raw],
            "rejected": [rejected.get(f, 0) for f in raw],
        }
    )
    table["unaccounted"] = table["raw"] - table["staged"] - table["rejected"]
    table["balanced"] = table["unaccounted"] == 0
    return table


def rejected_rows(warehouse) -> pd.DataFrame:
    """Rejected rows per file and reason (`source_file`, `reason`, `n`), counted in the
    warehouse so that no row is read into memory; most frequent reason first per file."""
    rejects = table_clause(REJECTS_TABLE, "source_file", "reason")
    n = sa.func.count().label("n")
    return warehouse.query(
        sa.select(rejects.c.source_file, rejects.c.reason, n)
        .group_by(rejects.c.source_file, rejects.c.reason)
        .order_by(rejects.c.source_file, n.desc(), rejects.c.reason)
    )


def rejected_by_file(warehouse) -> dict[str, int]:
    """Rejected rows per delivered file (files without a reject are absent)."""
    return rejected_rows(warehouse).groupby("source_file")["n"].sum().astype(int).to_dict()


def delivery_accounting(warehouse) -> pd.DataFrame:
    """`row_accounting` of the warehouse's raw, staged and rejects tables."""
    return row_accounting(
        raw={f: warehouse.row_count(RAW_TABLES[f]) for f in DELIVERY_FILES},
        staged={f: warehouse.row_count(STAGED_TABLES[f]) for f in DELIVERY_FILES},
        rejected=rejected_by_file(warehouse),
    )
