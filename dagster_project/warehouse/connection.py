"""Connections to the warehouse's database: opened one per operation, waiting while another
process holds a DuckDB file, and pointed at the schemas their tables resolve in.

Why: a DuckDB file admits one process at a time, so every operation opens its own connection,
closes it at once (NullPool), and waits with backoff while another process holds the file.

Exports `connect`, `current_schema`, `run_statement`, `set_search_path`, `bound_duckdb`,
`DUCKDB_MEMORY_VARIABLE`.
"""

import logging
import os
import random
import re
import tempfile
import time

import sqlalchemy as sa

from dagster_project.warehouse.private_files import private_umask
from dagster_project.warehouse.sql import quote

log = logging.getLogger(__name__)

# DuckDB would take 80% of the machine's memory before spilling; the steps of a backfill run
# side by side, so each warehouse connection gets a bound (DuckDB's size syntax: "3GB").
DUCKDB_MEMORY_VARIABLE = "RECONVICTION_DUCKDB_MEMORY"
DUCKDB_MEMORY_DEFAULT = "3GB"
_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def connect(engine: sa.Engine, lock_timeout: float, private: bool) -> sa.Connection:
    """Open a connection, waiting with backoff (at most `lock_timeout` seconds) while another
    process holds the DuckDB file. `private`: the file and its write-ahead log are created
    readable by their owner only."""
    deadline = time.monotonic() + lock_timeout
    delay = 0.05
    while True:
        try:
            if not private:
                return engine.connect()
            # DuckDB creates the file and its write-ahead log with the process umask
            with private_umask():
                return engine.connect()
        except sa.exc.DBAPIError as exc:
            if not _is_lock_error(exc) or time.monotonic() + delay > deadline:
                raise
            log.info("warehouse file is locked by another process; retrying in %.2fs", delay)
            # Jitter so that several waiting processes do not retry in lock-step.
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 2.0)


def set_search_path(dbapi_connection, backend: str, path: list[str]) -> None:
    """Unqualified table names resolve in `path`'s schemas, first match wins."""
    if backend == "duckdb":
        run_statement(dbapi_connection, f"SET search_path = '{','.join(path)}'")
    else:
        run_statement(dbapi_connection, f"SET search_path TO {', '.join(map(quote, path))}")


def current_schema(dbapi_connection) -> str:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchall()[0][0]
    finally:
        cursor.close()
    dbapi_connection.commit()
    return schema


def run_statement(dbapi_connection, sql: str) -> None:
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


# a spill folder's name starts with this, then the pid of the process that spills into it:
# a killed process cannot remove its own, and the pid tells the next command it is orphaned
SPILL_PREFIX = "reconviction-duckdb-"


def bound_duckdb(dbapi_connection) -> None:
    """Cap a DuckDB connection's memory and give it a spill folder of this process's own (an
    in-memory database would otherwise spill into the working directory)."""
    limit = os.environ.get(DUCKDB_MEMORY_VARIABLE) or DUCKDB_MEMORY_DEFAULT
    if not _SIZE.fullmatch(limit.strip()):
        raise ValueError(f"{DUCKDB_MEMORY_VARIABLE}={limit!r} is not a size such as 3GB")
    spill = os.path.join(tempfile.gettempdir(), f"{SPILL_PREFIX}{os.getpid()}")
    run_statement(dbapi_connection, f"SET memory_limit = '{limit}'")
    run_statement(dbapi_connection, f"SET temp_directory = '{spill}'")
    # DuckDB draws a bar for queries of some seconds: escape codes in a step's log
    run_statement(dbapi_connection, "SET enable_progress_bar = false")
