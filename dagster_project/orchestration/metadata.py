"""Dagster metadata for a written table: row count, column schema and a small preview.

The preview is only ever built from pseudonymised or code-level tables; identifying tables
(raw, staged, linkage) get counts and schema alone (METHOD.md §6).

Exports `table_metadata`, `written_table_metadata`, `settings_metadata`.
"""

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from dagster_project.orchestration.step_memory import step_memory_metadata
from dagster_project.warehouse.sql import table_clause

_SQL_TYPES = {"b": "boolean", "i": "integer", "u": "integer", "f": "float", "M": "timestamp"}


def column_schema(frame: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, _SQL_TYPES.get(dtype.kind, "text"))
            for name, dtype in frame.dtypes.items()
        ]
    )


def written_table_metadata(wh, table: str, rows: int, **extra) -> dict:
    """`table_metadata` of a table an asset wrote to the warehouse itself, a slice at a
    time: its columns as stored, its row count as written."""
    columns = wh.query(sa.select(sa.text("*")).select_from(table_clause(table)).limit(0))
    return table_metadata(columns, **{"dagster/row_count": dg.MetadataValue.int(rows)}, **extra)


def settings_metadata(settings) -> dict:
    """The settings a table was produced with (less the secret), recorded beside it."""
    return {"settings": dg.MetadataValue.json(settings.as_metadata())}


def table_metadata(frame: pd.DataFrame, preview: bool = False, **extra) -> dict:
    """Row count and column schema; a markdown preview of the first rows only when asked."""
    meta = {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": column_schema(frame),
        # where national-scale memory goes: the step's own, not the process's so far
        **step_memory_metadata(),
    }
    if preview:
        meta["preview"] = dg.MetadataValue.md(frame.head(10).to_markdown(index=False))
    meta.update(extra)
    return meta
