"""Rows in bulk through Arrow, the warehouse's fast paths (DESIGN.md, "Warehouse: SQLAlchemy
URL"): `DataFrame.to_sql` and row-by-row fetches are 10–100× too slow.

DuckDB scans a registered Arrow table (`INSERT … SELECT`) and returns Arrow; PostgreSQL
receives CSV through `COPY … FROM STDIN` and sends it back through `COPY … TO STDOUT`.

Exports `insert_arrow`, `select_arrow`, `attached_frames`.
"""

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from dagster_project.warehouse import types
from dagster_project.warehouse.sql import quote

# Rows per CSV chunk streamed into COPY: large enough to amortise the calls, small enough that
# only one chunk of text is in memory at a time.
_COPY_BATCH_ROWS = 100_000


def insert_arrow(conn: sa.Connection, backend: str, table: str, frame: pa.Table) -> None:
    """Append the rows of `frame` to `table` (a quoted, schema-qualified name)."""
    columns = ", ".join(quote(c) for c in frame.column_names)
    raw = conn.connection.driver_connection
    if backend == "duckdb":
        view = f"_warehouse_src_{uuid.uuid4().hex}"
        raw.register(view, frame)
        try:
            raw.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view}")
        finally:
            raw.unregister(view)
        return
    # Arrow quotes every string and leaves nulls unquoted-empty, which is exactly how
    # PostgreSQL's CSV COPY tells an empty string from NULL.
    options = pacsv.WriteOptions(include_header=False)
    statement = f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for batch in frame.to_batches(max_chunksize=_COPY_BATCH_ROWS):
            sink = pa.BufferOutputStream()
            pacsv.write_csv(batch, sink, options)
            copy.write(memoryview(sink.getvalue()))


@contextmanager
def attached_frames(conn: sa.Connection, backend: str, frames: Mapping[str, pa.Table]
                    ) -> Iterator[None]:
    """Arrow tables visible under their (unquoted, validated) names to the statements run on
    `conn` meanwhile: a registered view on DuckDB (no copy), a temporary table on PostgreSQL
    (COPY), which ends with the connection: the warehouse closes it after each operation."""
    for name in frames:
        quote(name)
    raw = conn.connection.driver_connection
    if backend == "duckdb":
        for name, frame in frames.items():
            raw.register(name, frame)
        try:
            yield
        finally:
            for name in frames:
                raw.unregister(name)
        return
    for name, frame in frames.items():
        columns = types.create_table_sql(quote(name), types.frame_types(frame))
        conn.exec_driver_sql(columns.replace("CREATE TABLE", "CREATE TEMPORARY TABLE", 1))
        insert_arrow(conn, backend, quote(name), frame)
    yield


def select_arrow(conn: sa.Connection, backend: str, compiled: sa.sql.compiler.Compiled,
                 values: Mapping[str, Any]) -> pa.Table:
    """The rows of a compiled SELECT as an Arrow table."""
    raw = conn.connection.driver_connection
    if backend == "duckdb":
        positional = [values[k] for k in compiled.positiontup or []]
        return raw.sql(compiled.string, params=positional or None).to_arrow_table()
    return _postgres_select(raw, compiled.string, values)


def _postgres_select(raw, sql: str, params: Mapping[str, Any]) -> pa.Table:
    """Run a SELECT on a psycopg connection through `COPY … TO STDOUT` and parse it with Arrow,
    typed by the result's column types (a `LIMIT 0` run of the query describes them)."""
    with raw.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) AS _described LIMIT 0", params)
        names = [d.name for d in cursor.description]
        arrow_types = {
            d.name: types.PG_OID_ARROW.get(d.type_code, pa.string()) for d in cursor.description
        }
        chunks = bytearray()
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for chunk in copy:
                chunks += chunk
    if not chunks:  # Arrow refuses an empty CSV
        return pa.table({n: pa.array([], type=arrow_types[n]) for n in names})
    # PostgreSQL writes NULL as an unquoted empty field and '' as "": keep them apart, and do
    # not let Arrow's default null spellings ("NULL", "NA", …) turn real text into NULL.
    options = pacsv.ConvertOptions(
        column_types=arrow_types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        true_values=["t"],
        false_values=["f"],
    )
    return pacsv.read_csv(
        pa.py_buffer(chunks),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=options,
    )
