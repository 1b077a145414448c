"""SQL identifiers of the warehouse: validated and quoted, the one way names reach SQL.

Exports `quote`, `table_clause`.
"""

import re

import sqlalchemy as sa

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote(identifier: str) -> str:
    """Validate an identifier (lower-case letters, digits, underscores) and double-quote it."""
    if not isinstance(identifier, str) or not _IDENTIFIER.match(identifier):
        raise ValueError(f"not a valid table or column name: {identifier!r}")
    return f'"{identifier}"'


def table_clause(name: str, *columns: str, schema: str | None = None) -> sa.TableClause:
    """A table for SQLAlchemy Core statements, its names validated like `quote`'s (SQLAlchemy
    then quotes what needs quoting: a reserved word such as `group`)."""
    for identifier in (name, *columns, *([schema] if schema else [])):
        quote(identifier)
    return sa.table(name, *(sa.column(c) for c in columns), schema=schema)
