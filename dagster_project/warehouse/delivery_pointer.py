"""Which loaded delivery readers use: one small pointer table, switched in one transaction.

A refresh writes every table into a schema of its own (`delivery_<run>`), beside the tables
readers use. Its last step, after every blocking check passed, adds a row to the pointer table
`current_delivery` in the base schema; readers resolve unqualified table names through the
schema of the newest row. A refresh that is killed, fails or is stopped by a check never adds
its row, so readers stay on the previous complete delivery. The last `keep` deliveries stay in
the warehouse, so a cohort year can be recomputed from the extract it was published from.

Exports `POINTER_TABLE`, `REGISTRY_TABLE`, `namespace_for`, `namespace_as_of`,
`register_namespace`, `switch_delivery`, `loaded_deliveries`, `kept_delivery`,
`keep_deliveries`. The base
schema is the connection's own (`main`, `public`, or the URL's search path), so several
warehouses can share one PostgreSQL database, each pruning only the schemas it registered.
Plain module: no Dagster imports; it works on driver connections and on `Warehouse` objects.
"""

import os
import time

import pandas as pd
import sqlalchemy as sa

from dagster_project.warehouse.sql import quote, table_clause

POINTER_TABLE = "current_delivery"
REGISTRY_TABLE = "delivery_schemas"  # every schema a refresh of this warehouse created
NAMESPACE_PREFIX = "delivery_"
KEEP_VARIABLE = "RECONVICTION_KEEP_DELIVERIES"
_DEFAULT_KEEP = 3


def namespace_for(run_id: str) -> str:
    """The schema a refresh run writes (its root run's, so a re-execution of a failed refresh
    carries on in the same schema)."""
    return NAMESPACE_PREFIX + run_id.replace("-", "")[:16].lower()


def keep_deliveries() -> int:
    """How many loaded deliveries to keep (RECONVICTION_KEEP_DELIVERIES, default 3; at least
    2, so that a cohort year still reading the previous one is never pulled from under it)."""
    text = os.environ.get(KEEP_VARIABLE, "").strip()
    return max(int(text), 2) if text else _DEFAULT_KEEP


def _pointer(base: str) -> str:
    return f"{quote(base)}.{quote(POINTER_TABLE)}"


def _pointer_table(base: str) -> sa.TableClause:
    return table_clause(POINTER_TABLE, "namespace", "extract_date", "delivery_version",
                        "switched_at", schema=base)


def _registry_table(base: str) -> sa.TableClause:
    return table_clause(REGISTRY_TABLE, "namespace", schema=base)


def _tables_of(schema: str) -> sa.Select:
    tables = table_clause("tables", "table_name", "table_schema", schema="information_schema")
    return sa.select(tables.c.table_name).where(tables.c.table_schema == schema)


def _registry(base: str) -> str:
    return f"{quote(base)}.{quote(REGISTRY_TABLE)}"


def _fetch(dbapi_connection, sql: str, params: tuple = ()) -> list[tuple]:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, params) if params else cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


# The two functions below run on a driver connection while SQLAlchemy is still setting it up
# (warehouse/connection.py), so their statements are text; every name in them is checked by
# `quote`. Everything else here is SQLAlchemy Core.


def namespace_as_of(dbapi_connection, base: str) -> str | None:
    """The schema of the current delivery (None: no refresh has switched yet), read on a driver
    connection (this runs while a connection is being set up)."""
    quote(base)
    exists = _fetch(
        dbapi_connection,
        "SELECT count(*) FROM information_schema.tables "
        f"WHERE table_schema = '{base}' AND table_name = '{POINTER_TABLE}'",
    )
    rows = exists[0][0] and _fetch(
        dbapi_connection,
        f"SELECT namespace FROM {_pointer(base)} ORDER BY switched_at DESC LIMIT 1",
    )
    dbapi_connection.commit()  # end the read, so the SET that follows starts clean
    return rows[0][0] if rows else None


def register_namespace(dbapi_connection, base: str, namespace: str) -> None:
    """Note that this warehouse created `namespace`, so that only its own are ever pruned."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {_registry(base)} (namespace TEXT NOT NULL)")
        cursor.execute(
            f"INSERT INTO {_registry(base)} SELECT '{quote(namespace)[1:-1]}' WHERE NOT EXISTS "
            f"(SELECT 1 FROM {_registry(base)} WHERE namespace = '{namespace}')"
        )
    finally:
        cursor.close()
    dbapi_connection.commit()


_CREATE = (
    "CREATE TABLE IF NOT EXISTS {pointer} (namespace TEXT NOT NULL, extract_date TEXT NOT NULL, "
    "delivery_version TEXT NOT NULL, switched_at DOUBLE PRECISION NOT NULL)"
)


def switch_delivery(
    warehouse,
    namespace: str,
    extract_date: str,
    delivery_version: str,
    required_tables: list[str],
    in_progress: set[str] = frozenset(),
) -> list[str]:
    """Make `namespace` the delivery readers use, in one transaction, once it holds every
    required table; then drop the deliveries beyond the ones kept, and schemas left by
    refreshes that never finished (except `in_progress` ones). Returns the dropped schemas."""
    with warehouse.transaction() as conn:
        held = set(conn.execute(_tables_of(namespace)).scalars())
        missing = sorted(set(required_tables) - held)
        if missing:
            raise RuntimeError(
                f"refresh schema {namespace} lacks {', '.join(missing)}: not switched"
            )
        conn.execute(sa.text(_CREATE.format(pointer=_pointer(warehouse.base_schema))))
        conn.execute(sa.insert(_pointer_table(warehouse.base_schema)).values(
            namespace=namespace, extract_date=extract_date, delivery_version=delivery_version,
            switched_at=time.time()))
    return _prune(warehouse, in_progress | {namespace})


def loaded_deliveries(warehouse) -> pd.DataFrame:
    """Every switch, newest first: namespace, extract_date, delivery_version, switched_at."""
    if POINTER_TABLE not in _base_tables(warehouse):
        return pd.DataFrame(columns=["namespace", "extract_date", "delivery_version",
                                     "switched_at"])
    pointer = _pointer_table(warehouse.base_schema)
    return warehouse.query(sa.select(pointer).order_by(pointer.c.switched_at.desc()))


def kept_delivery(warehouse, extract_date: str) -> str | None:
    """The schema of the newest kept load of the delivery of `extract_date`, or None; the
    deliveries kept, for a message, are `loaded_deliveries`."""
    loads = loaded_deliveries(warehouse)
    match = loads[loads["extract_date"].astype(str) == extract_date]
    return None if match.empty else str(match["namespace"].iloc[0])


def _base_tables(warehouse) -> set[str]:
    return set(warehouse.query(_tables_of(warehouse.base_schema))["table_name"])


def _prune(warehouse, protected: set[str]) -> list[str]:
    history = loaded_deliveries(warehouse)["namespace"].drop_duplicates().tolist()
    kept = set(history[: keep_deliveries()]) | protected
    pointer, registry = (_pointer_table(warehouse.base_schema),
                         _registry_table(warehouse.base_schema))
    registered = warehouse.query(sa.select(registry.c.namespace).distinct())["namespace"]
    dropped = sorted(set(registered) - kept)
    for schema in dropped:
        # forget the switches to it first, so no reader is pointed at a schema that is gone
        with warehouse.transaction() as conn:
            conn.execute(sa.delete(pointer).where(pointer.c.namespace == schema))
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE"))
            conn.execute(sa.delete(registry).where(registry.c.namespace == schema))
    return dropped
