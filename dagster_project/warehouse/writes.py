"""How a write replaces what was there: a whole table, or one partition of it, in the
transaction that inserts the new rows, so a rerun never duplicates and a failure leaves the
previous version.

Exports `clear_for_write`, `lock_table`, `stored_types`, `with_partition_column`.
"""

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from dagster_project.warehouse import types
from dagster_project.warehouse.sql import quote, table_clause


def clear_for_write(conn: sa.Connection, backend: str, schema: str, name: str,
                    frame: pa.Table, partition: tuple[str, str] | None) -> None:
    """Make table `schema.name` ready to receive `frame`: emptied (or recreated when its
    columns differ), or, for a partition, created or widened and cleared of that partition's
    rows. The caller inserts the rows in the same transaction."""
    table = f"{quote(schema)}.{quote(name)}"
    existing = stored_types(conn, name, schema)
    wanted = types.frame_types(frame)
    if partition is None:
        if existing == wanted:
            # Same shape: keep the table (and anything that depends on it), clear the rows
            # (PostgreSQL's TRUNCATE is DDL, for which Core has no statement).
            if backend == "postgresql":
                conn.execute(sa.text(f"TRUNCATE {table}"))
            else:
                conn.execute(sa.delete(table_clause(name, schema=schema)))
        else:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
            conn.execute(sa.text(types.create_table_sql(table, wanted)))
        return
    if not existing:
        conn.execute(sa.text(types.create_table_sql(table, wanted)))
    else:
        if partition[0] not in existing:
            # Its old rows belong to no partition, so no rewrite would ever replace them.
            raise ValueError(
                f"table {name} exists without partition column {partition[0]}; "
                "drop it or rewrite it whole"
            )
        for column, kind in types.missing_columns(name, existing, wanted, frame).items():
            conn.execute(
                sa.text(f"ALTER TABLE {table} ADD COLUMN {quote(column)} {types.ddl(kind)}")
            )
    column, value = partition
    target = table_clause(name, column, schema=schema)
    conn.execute(sa.delete(target).where(target.c[column] == value))


def lock_table(conn: sa.Connection, backend: str, qualified_name: str) -> None:
    """Concurrent PostgreSQL writers of one table (say two cohort years) would race to create
    or alter it; an advisory lock held to commit serialises them. DuckDB has one writer."""
    if backend == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(qualified_name))))


def stored_types(conn: sa.Connection, name: str, schema: str) -> dict[str, str]:
    """Column name → type family of a stored table ({} when it does not exist in `schema`)."""
    catalogue = sa.table("columns", sa.column("column_name"), sa.column("data_type"),
                         sa.column("table_schema"), sa.column("table_name"),
                         sa.column("ordinal_position"), schema="information_schema")
    c = catalogue.c
    rows = conn.execute(
        sa.select(c.column_name, c.data_type)
        .where(c.table_schema == schema, c.table_name == name)
        .order_by(c.ordinal_position)
    ).all()
    return {column: types.sql_family(data_type) for column, data_type in rows}


def with_partition_column(df: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    """`df` with `column` set to `value`; a row claiming another partition is an error, since
    a rerun would not delete it."""
    quote(column)
    if column not in df.columns:
        return df.assign(**{column: pd.Series(value, index=df.index, dtype="str")})
    stray = df[column].isna() | (df[column].astype("str") != value)
    if stray.any():
        raise ValueError(
            f"{int(stray.sum())} rows have {column} other than the partition being written "
            f"({value!r})"
        )
    return df
