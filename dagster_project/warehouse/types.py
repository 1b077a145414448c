"""Column types of the warehouse: one family per type, so that DuckDB's and PostgreSQL's
spellings compare equal, and the Arrow conversions both backends take.

Exports `prepare`, `to_pandas`, `frame_types`, `sql_family`, `create_table_sql`,
`missing_columns`, `ddl`, `PG_OID_ARROW`. Plain module: no Dagster imports.
"""

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

from dagster_project.warehouse.sql import quote

_DDL = {
    "text": "TEXT",
    "integer": "BIGINT",
    "float": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}
_SQL_FAMILIES = {
    "text": ("varchar", "text", "character varying", "character", "bpchar", "char", "string"),
    "integer": (
        "bigint",
        "integer",
        "smallint",
        "tinyint",
        "hugeint",
        "int",
        "ubigint",
        "uinteger",
        "usmallint",
        "utinyint",
    ),
    "float": ("double", "double precision", "real", "float", "decimal", "numeric"),
    "boolean": ("boolean",),
    "timestamp": (
        "timestamp",
        "timestamp without time zone",
        "timestamp_ns",
        "timestamp_ms",
        "timestamp_s",
    ),
    "date": ("date",),
}
# PostgreSQL type OIDs of query results → the Arrow type their CSV text is parsed as.
PG_OID_ARROW = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    700: pa.float64(),
    701: pa.float64(),
    1700: pa.float64(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}


def ddl(family: str) -> str:
    return _DDL[family]


def sql_family(data_type: str) -> str:
    """The family of a type as information_schema spells it (DuckDB or PostgreSQL)."""
    base = data_type.lower().split("(")[0].strip()
    for family, names in _SQL_FAMILIES.items():
        if base in names:
            return family
    return base


def _arrow_family(arrow_type: pa.DataType) -> str:
    if pa.types.is_large_string(arrow_type) or pa.types.is_string(arrow_type):
        return "text"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type):
        return "float"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_date32(arrow_type):
        return "date"
    raise TypeError(f"no warehouse type for Arrow type {arrow_type}")


def prepare(df: pd.DataFrame | pa.Table) -> pa.Table:
    """`df` as an Arrow table of the types both backends take; raises on what they cannot."""
    names = pd.Index(df.column_names if isinstance(df, pa.Table) else df.columns)
    for column in names:
        quote(column)
    if names.duplicated().any():
        raise ValueError(f"duplicate column names: {list(names[names.duplicated()])}")
    try:
        table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        raise TypeError(f"cannot store DataFrame: {exc}") from exc
    for i, field in enumerate(table.schema):
        table = table.set_column(i, field.name, _normalise(field.name, table.column(i)))
    return table


def _normalise(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    t = column.type
    if pa.types.is_dictionary(t):  # pandas categoricals
        return _normalise(name, column.cast(t.value_type))
    if pa.types.is_null(t) or pa.types.is_string_view(t):  # all-null object column
        return column.cast(pa.large_string())
    if pa.types.is_integer(t):
        return column.cast(pa.int64())
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return column.cast(pa.float64())
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            raise TypeError(f"column {name!r} is time-zone aware; convert it to naive UTC first")
        # Both databases keep microseconds; pandas' nanoseconds are truncated, not refused.
        return column.cast(pa.timestamp("us"), safe=False)
    if pa.types.is_date64(t):
        return column.cast(pa.date32())
    try:
        _arrow_family(t)
    except TypeError:
        raise TypeError(f"column {name!r} has type {t}, which the warehouse cannot store") from None
    return column


def frame_types(frame: pa.Table) -> dict[str, str]:
    return {field.name: _arrow_family(field.type) for field in frame.schema}


def create_table_sql(table: str, types: Mapping[str, str]) -> str:
    columns = ", ".join(f"{quote(c)} {ddl(f)}" for c, f in types.items())
    return f"CREATE TABLE {table} ({columns})"


def missing_columns(
    name: str, existing: Mapping[str, str], wanted: Mapping[str, str], frame: pa.Table
) -> dict[str, str]:
    """Columns of `frame` the table lacks; raises if a shared column's type conflicts."""
    for column, family in wanted.items():
        have = existing.get(column)
        if have is None or have == family:
            continue
        widening = family == "integer" and have == "float"
        all_null = frame.column(column).null_count == frame.num_rows
        if not (widening or all_null):
            raise ValueError(
                f"column {name}.{column} is {have} in the warehouse but {family} in the "
                "DataFrame; rewrite the whole table to change its type"
            )
    return {c: f for c, f in wanted.items() if c not in existing}




def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with the dtypes the pipeline expects: text as `str`, integers as int64
    (Int64 when there are nulls), booleans as bool (boolean with nulls), dates as datetime64."""
    for i, field in enumerate(table.schema):
        t = field.type
        if pa.types.is_integer(t) or (pa.types.is_decimal(t) and t.scale == 0):
            try:  # DuckDB's SUM gives HUGEINT (decimal(38,0)) even for small sums
                table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
            except pa.ArrowInvalid:
                table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
        elif pa.types.is_decimal(t):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    no_nulls = [table.column(i).null_count == 0 for i in range(table.num_columns)]
    mapper = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get
    df = table.to_pandas(types_mapper=mapper, date_as_object=False)
    for i, dtype in enumerate(df.dtypes):
        if no_nulls[i] and isinstance(dtype, pd.Int64Dtype | pd.BooleanDtype):
            df.isetitem(i, df.iloc[:, i].astype("int64" if dtype == "Int64" else "bool"))
    return df
