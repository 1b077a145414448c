"""The warehouse: pandas DataFrames in and out of a SQL database named by a SQLAlchemy URL.

Exports `Warehouse`. Two backends: an embedded DuckDB file (`duckdb:///path/file.duckdb`, the
default) and PostgreSQL (`postgresql+psycopg://…`). Plain module: no Dagster imports.

Why it looks like this (DESIGN.md, "Warehouse: SQLAlchemy URL"):
- `DataFrame.to_sql` is 10–100× too slow, so rows move in bulk through Arrow (`bulk.py`).
- A partition is rewritten delete-then-insert in one transaction, so a rerun never duplicates
  and a failure leaves the previous version.
- A DuckDB file admits one process at a time, so every operation opens its own connection, closes
  it at once (NullPool), and waits while another process holds the file (`connection.py`).
- A delivery is loaded whole or not at all (issue 12): a refresh writes its tables into a schema
  of its own (`namespace`), and readers see the schema the pointer table names
  (`delivery_pointer.py`) through the connection's search path, so their SQL names tables
  without a schema. Tables that outlive a delivery (cohort years, trends) live in the base
  schema (`main` on DuckDB, `public` on PostgreSQL).
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.pool import NullPool, StaticPool

from dagster_project.warehouse import types
from dagster_project.warehouse.bulk import (
    attached_frames,
    insert_arrow,
    select_arrow,
    select_arrow_batches,
)
from dagster_project.warehouse.connection import (
    bound_duckdb,
    connect,
    current_schema,
    run_statement,
    set_search_path,
)
from dagster_project.warehouse.delivery_pointer import namespace_as_of, register_namespace
from dagster_project.warehouse.private_files import private_umask
from dagster_project.warehouse.sql import quote, table_clause
from dagster_project.warehouse.writes import (
    clear_for_write,
    lock_table,
    stored_types,
    with_partition_column,
)

Partition = tuple[str, str | Sequence[str]]


def _prepared(frames: Mapping[str, pd.DataFrame] | None) -> dict[str, pa.Table]:
    """Frames a statement may name as tables, in the warehouse's column types."""
    return {name: types.prepare(frame) for name, frame in (frames or {}).items()}


def _shadow(name: str) -> str:
    """Where a table written in slices is loaded before it replaces `name`."""
    return f"{name}__loading"


_WANTED = "wanted_values"  # `read_rows`' values as the engine sees them
# a table's rows: one frame, or slices of it (see `write_tables`)
Rows = pd.DataFrame | pa.Table | Iterable[pd.DataFrame | pa.Table]


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
            self._base = current_schema(dbapi_connection)
            if self.namespace is not None:
                run_statement(dbapi_connection,
                              f"CREATE SCHEMA IF NOT EXISTS {quote(self.namespace)}")
                register_namespace(dbapi_connection, self._base, self.namespace)
                self._path = [self.namespace]
            else:
                current = self.delivery or namespace_as_of(dbapi_connection, self._base)
                self._path = [s for s in (current, self._base) if s]
        set_search_path(dbapi_connection, self.backend, self._path)
        if self.backend == "duckdb":
            bound_duckdb(dbapi_connection)

    def _qualified(self, name: str, schema: str | None = None) -> str:
        return f"{quote(schema or self.write_schema)}.{quote(name)}"

    # ---- connections -------------------------------------------------------------------------

    def _connect(self) -> sa.Connection:
        return connect(self._engine, self.lock_timeout, self._private)

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
            df = with_partition_column(df, column, value)
        quote(name)
        frame = types.prepare(df)
        with self._transaction() as conn:
            self._lock_table(conn, name)
            self._write(conn, name, frame, partition)
        return frame.num_rows

    def write_tables(self, tables: Mapping[str, Rows]) -> dict[str, int]:
        """Replace several whole tables: all of them or none.

        A table's rows come as one DataFrame, or as an iterable of slices (DataFrames or
        Arrow tables of the same columns, at least one) so that a table larger than memory
        is written holding one slice at a time. Sliced tables are loaded first into shadow
        tables, a transaction per slice (a database keeps a transaction's uncommitted rows in
        memory: DuckDB 1.7 GB for the 13.8M raw offences of a national delivery, outside
        its memory limit), then swapped in, with the other tables written, in one short
        transaction. An error while a slice is made drops the shadows and changes nothing
        that readers see."""
        for name in tables:
            quote(name)
        whole = {n: r for n, r in tables.items() if isinstance(r, pd.DataFrame | pa.Table)}
        sliced = {n: r for n, r in tables.items() if n not in whole}
        written = {}
        try:
            for name, rows in sliced.items():
                written[name] = self._load_shadow(name, rows)
            with self._transaction() as conn:
                for name in sorted(tables):  # one order for every writer, so none deadlock
                    self._lock_table(conn, name)
                for name, rows in whole.items():
                    frame = types.prepare(rows)
                    self._write(conn, name, frame, None)
                    written[name] = frame.num_rows
                for name in sliced:
                    self._swap_in(conn, name)
        except BaseException:
            for name in sliced:
                self.drop_table(_shadow(name))
            raise
        return {name: written[name] for name in tables}

    def create_table_as(self, name: str, select: str,
                        frames: Mapping[str, pd.DataFrame] | None = None) -> int:
        """Replace table `name` by the rows of a SELECT (text) run inside the engine: no row
        comes into Python, whatever the table's size. `frames` as `query` takes them. One
        transaction: readers see the old table until the new one is whole. Its row count."""
        quote(name)
        shadow = self._qualified(_shadow(name))
        with self._transaction() as conn:
            self._lock_table(conn, name)
            with attached_frames(conn, self.backend, _prepared(frames)):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {shadow}")
                conn.exec_driver_sql(f"CREATE TABLE {shadow} AS {select.strip().rstrip(';')}")
            self._swap_in(conn, name)
            return int(conn.exec_driver_sql(
                f"SELECT count(*) FROM {self._qualified(name)}").scalar())

    def _swap_in(self, conn: sa.Connection, name: str) -> None:
        """The shadow of `name` becomes `name`, inside the caller's transaction."""
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self._qualified(name)}")
        conn.exec_driver_sql(f"ALTER TABLE {self._qualified(_shadow(name))} "
                             f"RENAME TO {quote(name)}")

    def _load_shadow(self, name: str, rows: Iterable[pd.DataFrame | pa.Table]) -> int:
        """Slices into a new shadow table of `name`, each committed as it comes."""
        slices = iter(rows)
        first = next(slices, None)
        if first is None:
            raise ValueError(f"no rows for table {name}, not even an empty slice naming columns")
        frame, written = types.prepare(first), 0
        with self._transaction() as conn:
            self._write(conn, _shadow(name), frame, None)
        written += frame.num_rows
        for piece in slices:
            frame = types.prepare(piece)
            if frame.num_rows:
                with self._transaction() as conn:
                    self._bulk_insert(conn, _shadow(name), frame)
            written += frame.num_rows
        return written

    def _lock_table(self, conn: sa.Connection, name: str) -> None:
        lock_table(conn, self.backend, f"{self.write_schema}.{name}")

    def _write(self, conn: sa.Connection, name: str, frame: pa.Table, partition) -> None:
        clear_for_write(conn, self.backend, self.write_schema, name, frame, partition)
        if frame.num_rows:
            self._bulk_insert(conn, name, frame)

    def _bulk_insert(self, conn: sa.Connection, name: str, frame: pa.Table) -> None:
        insert_arrow(conn, self.backend, self._qualified(name), frame)

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

    def read_rows(self, name: str, column: str, values: Sequence | pd.Series) -> pd.DataFrame:
        """The rows of table `name` whose `column` is one of `values`, in no particular order:
        the values are attached to the statement and joined in the engine, so that a table
        larger than memory is never read whole for the few rows wanted."""
        table = table_clause(name, column)
        wanted = table_clause(_WANTED, "value")
        statement = (
            sa.select(sa.literal_column(f"{quote(name)}.*"))
            .select_from(table.join(wanted, table.c[column] == wanted.c.value))
        )
        keys = pd.DataFrame({"value": pd.unique(pd.Series(values).dropna())})
        return self.query(statement, frames={_WANTED: keys})

    def query(
        self,
        sql: str | sa.Executable,
        params: Mapping[str, Any] | None = None,
        frames: Mapping[str, pd.DataFrame] | None = None,
    ) -> pd.DataFrame:
        """Run a SELECT (SQLAlchemy Core, or text with `:name` parameters) and return its rows
        as a DataFrame.

        `frames`: small DataFrames the statement may name as tables (a key list to join a
        large table with, say), visible to this statement only: the join runs in the engine,
        so the large table never comes into memory."""
        if isinstance(sql, str):
            # Trailing semicolons would break the wrapping of the query in COPY (…) on PostgreSQL.
            sql = sa.text(sql.strip().rstrip(";"))
        compiled, values = self._compiled(sql, params)
        conn = self._connect()
        try:
            with attached_frames(conn, self.backend, _prepared(frames)):
                table = select_arrow(conn, self.backend, compiled, values)
        finally:
            conn.close()
        return types.to_pandas(table)

    def _compiled(self, sql: sa.Executable, params: Mapping[str, Any] | None):
        # IN lists are expanded into the statement: the driver receives plain parameters
        compiled = sql.compile(dialect=self._engine.dialect,
                               compile_kwargs={"render_postcompile": True})
        return compiled, compiled.construct_params(dict(params or {}))

    def stream(
        self, sql: sa.Executable, batch_rows: int = 1_000_000
    ) -> Iterator[pa.Table]:
        """The rows of a SELECT as Arrow tables of about `batch_rows` rows, as the engine
        produces them: for a table larger than memory that a step must read whole (the PNC's
        offences for the linkage features, say). The connection is held until the last
        batch is read or the iterator is closed."""
        compiled, values = self._compiled(sql, None)
        conn = self._connect()
        try:
            yield from select_arrow_batches(conn, self.backend, compiled, values, batch_rows)
        finally:
            conn.close()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement (DDL, UPDATE, …) in its own transaction."""
        with self._transaction() as conn:
            conn.execute(sa.text(sql), dict(params or {}))

    # ---- catalogue ---------------------------------------------------------------------------

    def columns(self, name: str) -> dict[str, str]:
        """The table's columns and their type families (text, integer, float, …), as an
        unqualified name finds it (the first schema of the search path that has it)."""
        quote(name)
        with self._transaction() as conn:
            for schema in self._path or []:
                found = stored_types(conn, name, schema)
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

