"""The warehouse: pandas DataFrames in and out of a SQL database named by a SQLAlchemy URL.

Exports `Warehouse`. Two backends: an embedded DuckDB file (`duckdb:///path/file.duckdb`, the
default) and PostgreSQL (`postgresql+psycopg://…`). Plain module: no Dagster imports.

Why it looks like this (DESIGN.md, "Warehouse: SQLAlchemy URL"):
- `DataFrame.to_sql` is 10–100× too slow, so rows move in bulk through Arrow: DuckDB scans a
  registered Arrow table (`INSERT … SELECT`), PostgreSQL receives CSV through `COPY`, and reads
  come back the same ways.
- A partition is rewritten delete-then-insert in one transaction, so a rerun never duplicates
  and a failure leaves the previous version.
- A DuckDB file admits one process at a time, so every operation opens its own connection, closes
  it at once (NullPool), and waits with backoff while another process holds the file.
- A delivery is loaded whole or not at all (issue 12): a refresh writes its tables into a schema
  of its own (`namespace`), and readers see the schema the pointer table names
  (`delivery_pointer.py`) through the connection's search path, so their SQL names tables
  without a schema. Tables that outlive a delivery (cohort years, trends) live in the base
  schema (`main` on DuckDB, `public` on PostgreSQL).
"""

import logging
import random
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.pool import NullPool, StaticPool

from dagster_project.warehouse import types
from dagster_project.warehouse.delivery_pointer import namespace_as_of, register_namespace
from dagster_project.warehouse.private_files import private_umask
from dagster_project.warehouse.sql import quote, table_clause

log = logging.getLogger(__name__)

# Rows per CSV chunk streamed into COPY: large enough to amortise the calls, small enough that
# only one chunk of text is in memory at a time.
_COPY_BATCH_ROWS = 100_000

Partition = tuple[str, str | Sequence[str]]


class Warehouse:
    """DataFrames in and out of the database at `url`.

    `lock_timeout` is how many seconds to keep retrying while another process holds a DuckDB
    file's lock before giving up.

    `namespace`: the schema a refresh writes and reads (nothing else is visible to it). Without
    one, the warehouse reads the schema of delivery `delivery` (default: the one the pointer
    table names when this object first connects) and then the base schema, and writes to the
    base schema.
    """

    def __init__(
        self,
        url: str,
        lock_timeout: float = 600.0,
        namespace: str | None = None,
        delivery: str | None = None,
    ) -> None:
        self.url = sa.make_url(url)
        self.lock_timeout = lock_timeout
        self.backend = self.url.get_backend_name()
        if self.backend not in ("duckdb", "postgresql"):
            raise ValueError(f"unsupported warehouse backend {self.backend!r}")
        self._base: str | None = None  # the connection's own schema, read on first connect
        self.namespace = namespace
        self.delivery = delivery
        for schema in (namespace, delivery):
            if schema is not None:
                quote(schema)
        self._path: list[str] | None = None
        self._private = False
        self._engine = self._create_engine()
        sa.event.listen(self._engine, "connect", self._on_connect)

    def __repr__(self) -> str:
        return f"Warehouse({self.url.render_as_string(hide_password=True)!r})"

    def _create_engine(self) -> sa.Engine:
        if self.backend == "postgresql":
            # COPY sends raw bytes, so the session's encoding must be the one Arrow writes.
            return sa.create_engine(
                self.url, poolclass=NullPool, connect_args={"client_encoding": "utf8"}
            )
        database = self.url.database
        if not database or database == ":memory:":
            # One shared connection, or every operation would see a new empty database.
            return sa.create_engine(self.url, poolclass=StaticPool)
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._private = True  # names and dates of birth: owner-only files (see _connect)
        # NullPool closes the DuckDB connection on release, which frees the file for others.
        return sa.create_engine(self.url, poolclass=NullPool)

    def dispose(self) -> None:
        """Close any pooled connection (only the in-memory DuckDB keeps one)."""
        self._engine.dispose()

    # ---- namespaces --------------------------------------------------------------------------

    @property
    def base_schema(self) -> str:
        """The schema a connection starts in (`main`, `public`, or what the URL's options
        say): tables that outlive a delivery, and the pointer, live here."""
        if self._base is None:
            self.search_path()
        return self._base

    @property
    def write_schema(self) -> str:
        """Where this warehouse creates and replaces tables."""
        return self.namespace or self.base_schema

    def search_path(self) -> list[str]:
        """The schemas unqualified table names resolve in, first match wins."""
        if self._path is None:
            conn = self._connect()  # resolves the path as it connects
            conn.close()
        return list(self._path or [])

    def _on_connect(self, dbapi_connection, _record) -> None:
        """Point a new connection at its schemas (the pointer is read once per Warehouse, so
        every operation of one step reads the same delivery)."""
        if self._path is None:
            self._base = _current_schema(dbapi_connection)
            if self.namespace is not None:
                _run(dbapi_connection, f"CREATE SCHEMA IF NOT EXISTS {quote(self.namespace)}")
                register_namespace(dbapi_connection, self._base, self.namespace)
                self._path = [self.namespace]
            else:
                current = self.delivery or namespace_as_of(dbapi_connection, self._base)
                self._path = [s for s in (current, self._base) if s]
        if self.backend == "duckdb":
            _run(dbapi_connection, f"SET search_path = '{','.join(self._path)}'")
        else:
            _run(dbapi_connection, f"SET search_path TO {', '.join(map(quote, self._path))}")

    def _qualified(self, name: str, schema: str | None = None) -> str:
        return f"{quote(schema or self.write_schema)}.{quote(name)}"

    # ---- connections -------------------------------------------------------------------------

    def _connect(self) -> sa.Connection:
        """Open a connection, waiting with backoff while another process holds the DuckDB file."""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.05
        while True:
            try:
                if not self._private:
                    return self._engine.connect()
                # DuckDB creates the file and its write-ahead log with the process umask
                with private_umask():
                    return self._engine.connect()
            except sa.exc.DBAPIError as exc:
                if not _is_lock_error(exc) or time.monotonic() + delay > deadline:
                    raise
                log.info("warehouse file is locked by another process; retrying in %.2fs", delay)
                # Jitter so that several waiting processes do not retry in lock-step.
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 2.0)

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A connection in one transaction: committed at the end, rolled back on an error."""
        with self._transaction() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        conn = self._connect()
        try:
            if self._private:
                with private_umask(), conn.begin():  # the WAL is created by the first write
                    yield conn
            else:
                with conn.begin():
                    yield conn
        finally:
            conn.close()

    # ---- writing -----------------------------------------------------------------------------

    def write_table(self, name: str, df: pd.DataFrame, partition: Partition | None = None) -> int:
        """Write `df` as table `name`; returns the number of rows written.

        `partition=None` replaces the whole table. `partition=(column, value)` replaces only the
        rows whose `column` equals `value`; the column is added to `df` if absent. Either way the
        change is one transaction: all of it or none of it. The index is not stored.
        """
        if partition is not None:
            column, value = partition
            if not isinstance(value, str):
                raise TypeError("a partition write takes a single partition value (a string)")
            df = _with_partition_column(df, column, value)
        quote(name)
        frame = types.prepare(df)
        with self._transaction() as conn:
            self._lock_table(conn, name)
            self._write(conn, name, frame, partition)
        return frame.num_rows

    def write_tables(self, tables: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Replace several whole tables in one transaction: all of them or none."""
        for name in tables:
            quote(name)
        frames = {name: types.prepare(df) for name, df in tables.items()}
        with self._transaction() as conn:
            for name in sorted(frames):  # one order for every writer, so none deadlock
                self._lock_table(conn, name)
            for name, frame in frames.items():
                self._write(conn, name, frame, None)
        return {name: frame.num_rows for name, frame in frames.items()}

    def _lock_table(self, conn: sa.Connection, name: str) -> None:
        # Concurrent PostgreSQL writers of one table (say two cohort years) would race to create
        # or alter it; an advisory lock held to commit serialises them. DuckDB has one writer.
        if self.backend == "postgresql":
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:n))"),
                {"n": f"{self.write_schema}.{name}"},
            )

    def _write(self, conn: sa.Connection, name: str, frame: pa.Table, partition) -> None:
        table = self._qualified(name)
        existing = self._column_types(conn, name, self.write_schema)
        wanted = types.frame_types(frame)
        if partition is None:
            if existing == wanted:
                # Same shape: keep the table (and anything that depends on it), clear the rows.
                clear = "TRUNCATE" if self.backend == "postgresql" else "DELETE FROM"
                conn.execute(sa.text(f"{clear} {table}"))
            else:
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
                conn.execute(sa.text(types.create_table_sql(table, wanted)))
        else:
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
            target = table_clause(name, column, schema=self.write_schema)
            conn.execute(sa.delete(target).where(target.c[column] == value))
        if frame.num_rows:
            self._bulk_insert(conn, name, frame)

    def _bulk_insert(self, conn: sa.Connection, name: str, frame: pa.Table) -> None:
        columns = ", ".join(quote(c) for c in frame.column_names)
        raw = conn.connection.driver_connection
        table = self._qualified(name)
        if self.backend == "duckdb":
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

    # ---- reading -----------------------------------------------------------------------------

    def read_table(
        self,
        name: str,
        partition: Partition | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Read table `name`, or only the rows of one partition (or of a list of partitions)."""
        column = partition[0] if partition is not None else None
        table = table_clause(name, *(columns or ()), *([column] if column else []))
        statement = sa.select(*(table.c[c] for c in columns) if columns else [sa.text("*")])
        statement = statement.select_from(table)
        if partition is not None:
            values = partition[1]
            values = [values] if isinstance(values, str) else list(values)
            statement = statement.where(table.c[column].in_(values) if values else sa.false())
        return self.query(statement)

    def query(
        self, sql: str | sa.Executable, params: Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Run a SELECT (SQLAlchemy Core, or text with `:name` parameters) and return its rows
        as a DataFrame."""
        if isinstance(sql, str):
            # Trailing semicolons would break the wrapping of the query in COPY (…) on PostgreSQL.
            sql = sa.text(sql.strip().rstrip(";"))
        # IN lists are expanded into the statement: the driver receives plain parameters
        compiled = sql.compile(dialect=self._engine.dialect,
                               compile_kwargs={"render_postcompile": True})
        values = compiled.construct_params(dict(params or {}))
        conn = self._connect()
        try:
            raw = conn.connection.driver_connection
            if self.backend == "duckdb":
                positional = [values[k] for k in compiled.positiontup or []]
                table = raw.sql(compiled.string, params=positional or None).to_arrow_table()
            else:
                table = _postgres_select(raw, compiled.string, values)
        finally:
            conn.close()
        return types.to_pandas(table)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement (DDL, UPDATE, …) in its own transaction."""
        with self._transaction() as conn:
            conn.execute(sa.text(sql), dict(params or {}))

    # ---- catalogue ---------------------------------------------------------------------------

    def _column_types(self, conn: sa.Connection, name: str, schema: str) -> dict[str, str]:
        """Column name → type family ({} when the table does not exist in `schema`)."""
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

    def columns(self, name: str) -> dict[str, str]:
        """The table's columns and their type families (text, integer, float, …), as an
        unqualified name finds it (the first schema of the search path that has it)."""
        quote(name)
        with self._transaction() as conn:
            for schema in self._path or []:
                found = self._column_types(conn, name, schema)
                if found:
                    return found
        return {}

    def table_exists(self, name: str) -> bool:
        """Whether table `name` exists in the current schema."""
        return bool(self.columns(name))

    def row_count(self, name: str, partition: tuple[str, str] | None = None) -> int:
        """Rows in the table, or in one of its partitions."""
        table = table_clause(name, *([partition[0]] if partition is not None else []))
        statement = sa.select(sa.func.count()).select_from(table)
        if partition is not None:
            statement = statement.where(table.c[partition[0]] == partition[1])
        with self._transaction() as conn:
            return int(conn.execute(statement).scalar_one())

    def partitions(self, name: str, column: str) -> list[str]:
        """The distinct values of `column` in the table, sorted ([] when there is no table)."""
        if not self.table_exists(name):
            return []
        values = table_clause(name, column).c[column]
        statement = sa.select(values).distinct().where(values.is_not(None)).order_by(values)
        with self._transaction() as conn:
            return [str(v) for v in conn.execute(statement).scalars()]

    def drop_table(self, name: str) -> None:
        """Drop the table if it exists (in the schema this warehouse writes)."""
        self.execute(f"DROP TABLE IF EXISTS {self._qualified(name)}")


def _current_schema(dbapi_connection) -> str:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchall()[0][0]
    finally:
        cursor.close()
    dbapi_connection.commit()
    return schema


def _run(dbapi_connection, sql: str) -> None:
    """One statement on a driver connection, committed (PostgreSQL's SET is transactional)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()
    dbapi_connection.commit()


def _is_lock_error(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", None) or exc)
    return "Could not set lock on file" in text or "Conflicting lock" in text


def _with_partition_column(df: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
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
