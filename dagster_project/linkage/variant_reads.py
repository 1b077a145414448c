"""What the linkage steps read of `pnc_identity_variants`, the largest table of the stage
(one row per name and date of birth the PNC holds: 12 million at the real PNC's size), from
the warehouse and never whole into memory.

Exports `VARIANTS`, `variants_sharing_an_attributor`, `streamed`.
"""

from collections.abc import Iterator, Sequence

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from dagster_project.linkage.identities import ATTRIBUTOR
from dagster_project.warehouse.engine import Warehouse
from dagster_project.warehouse.sql import table_clause

VARIANTS = "pnc_identity_variants"
_CLIENTS = "linkable_attributors"  # the clients' attributors, seen by one statement only


def variants_sharing_an_attributor(wh: Warehouse, clients: pd.DataFrame) -> pd.DataFrame:
    """`pncid` and the attributor of every variant whose attributor is exactly a linkable
    client's: all that the NTA rule reads of the variants (a PNC person is a candidate only
    through such a variant) and all the comparison pool needs to tell ambiguous clients'
    candidates. Joined in the warehouse: nationally a few thousand rows of millions."""
    wanted = clients.loc[clients["linkable"].astype(bool), ATTRIBUTOR].drop_duplicates()
    variants = table_clause(VARIANTS, "pncid", *ATTRIBUTOR)
    attributors = table_clause(_CLIENTS, *ATTRIBUTOR)
    same = sa.and_(*(variants.c[c] == attributors.c[c] for c in ATTRIBUTOR))
    statement = (sa.select(variants.c.pncid, *(variants.c[c] for c in ATTRIBUTOR))
                 .select_from(variants.join(attributors, same)))
    return wh.query(statement, frames={_CLIENTS: wanted.reset_index(drop=True)})


def streamed(wh: Warehouse, table: str, columns: Sequence[str]) -> Iterator[pa.Table]:
    """The `columns` of `table` that it has, as Arrow slices in the table's own order (the
    order a whole read gives): for the linkage model, which copies them into a database of
    its own (features.py)."""
    present = [c for c in columns if c in wh.columns(table)]
    source = table_clause(table, *present)
    return wh.stream(sa.select(*(source.c[c] for c in present)))
