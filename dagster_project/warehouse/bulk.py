"""Rows in bulk through Arrow, the warehouse's fast paths (DESIGN.md, "Warehouse: SQLAlchemy
URL"): `DataFrame.to_sql` and row-by-row fetches are 10–100× too slow.

DuckDB scans a registered Arrow table (`INSERT … SELECT`) and returns Arrow; PostgreSQL
receives CSV through `COPY … FROM STDIN` and sends it back through `COPY … TO STDOUT`.

Exports `insert_arrow`, `select_arrow`, `select_arrow_batches`, `attached_frames`.
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
        return _duckdb_relation(raw, compiled, values).to_arrow_table()
    # without a batch size the rows come as one table
    return next(_postgres_batches(raw, compiled.string, values, batch_bytes=None))


def _duckdb_relation(raw, compiled: sa.sql.compiler.Compiled, values: Mapping[str, Any]):
    positional = [values[k] for k in compiled.positiontup or []]
    return raw.sql(compiled.string, params=positional or None)


def select_arrow_batches(conn: sa.Connection, backend: str,
                         compiled: sa.sql.compiler.Compiled, values: Mapping[str, Any],
                         batch_rows: int) -> Iterator[pa.Table]:
    """The rows of a compiled SELECT as Arrow tables of about `batch_rows` rows each, read
    as the engine produces them: a result larger than memory is never held whole."""
    raw = conn.connection.driver_connection
    if backend == "duckdb":
        reader = _duckdb_relation(raw, compiled, values).to_arrow_reader(batch_rows)
        sent = False
        for batch in reader:
            yield pa.Table.from_batches([batch])
            sent = True
        if not sent:  # an empty result is one empty table, as from PostgreSQL
            yield reader.schema.empty_table()
        return
    # PostgreSQL sends text: a batch is cut at a row's end once it holds about the bytes of
    # `batch_rows` rows of _BYTES_PER_ROW each
    yield from _postgres_batches(raw, compiled.string, values,
                                 batch_bytes=batch_rows * _BYTES_PER_ROW)


_BYTES_PER_ROW = 64  # a guess for cutting a CSV stream; only the batches' size depends on it


def _postgres_batches(raw, sql: str, params: Mapping[str, Any],
                      batch_bytes: int | None) -> Iterator[pa.Table]:
    """Run a SELECT on a psycopg connection through `COPY … TO STDOUT` and parse it with Arrow,
    typed by the result's column types (a `LIMIT 0` run of the query describes them): one
    table, or (`batch_bytes`) a table per that many bytes of CSV, cut at the end of a row."""
    with raw.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) AS _described LIMIT 0", params)
        names = [d.name for d in cursor.description]
        arrow_types = {
            d.name: types.PG_OID_ARROW.get(d.type_code, pa.string()) for d in cursor.description
        }
        pending = bytearray()
        sent = False
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for chunk in copy:
                pending += chunk
                if batch_bytes is None or len(pending) < batch_bytes:
                    continue
                end = _end_of_last_row(pending)
                if end:
                    yield _parse_csv(bytes(pending[:end]), names, arrow_types)
                    del pending[:end]
                    sent = True
    if pending or not sent:
        yield _parse_csv(bytes(pending), names, arrow_types)


def _end_of_last_row(text: bytearray) -> int:
    """The offset just past the last complete CSV row of `text` (0: none yet). A newline ends
    a row where an even number of quotes precedes it: a quoted value may hold newlines, and
    a quote inside one is doubled."""
    end = text.rfind(b"\n")
    while end >= 0 and text.count(b'"', 0, end) % 2:
        end = text.rfind(b"\n", 0, end)
    return end + 1


def _parse_csv(text: bytes, names: list[str], arrow_types: Mapping[str, pa.DataType]
               ) -> pa.Table:
    if not text:  # Arrow refuses an empty CSV
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
        pa.py_buffer(text),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=options,
    )
