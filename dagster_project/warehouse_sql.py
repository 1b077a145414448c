"""SQL identifiers of the warehouse: validated and quoted, the one way names reach SQL.

Exports `quote`.
"""

import re

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote(identifier: str) -> str:
    """Validate an identifier (lower-case letters, digits, underscores) and double-quote it."""
    if not isinstance(identifier, str) or not _IDENTIFIER.match(identifier):
        raise ValueError(f"not a valid table or column name: {identifier!r}")
    return f'"{identifier}"'
