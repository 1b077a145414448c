"""The truth about persons and PNC records, as tables for the truth folder.

Exports `persons_truth`, `records_truth`, `TruthWriter`.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .columns import date_column
from .config import DRUG_GROUPS
from .people import People
from .pnc import PncRecords, forename_text, surname_text

_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def persons_truth(
    people: People,
    persons: np.ndarray,
    records: PncRecords,
    rate: np.ndarray,
    n_clients: int,
    drug_group: np.ndarray,
    id_offset: int = 0,
) -> pa.Table:
    """persons.parquet rows of `persons` (indices into `people`; their person_id is
    index + `id_offset`), with the PNCIDs of their records."""
    first = ~records.second
    pncid = pd.Series(records.pncid.to_numpy(zero_copy_only=False))
    names = {k: v[persons] for k, v in people.names.items()}
    if n_clients:
        group = np.where(
            persons < n_clients,
            np.asarray(DRUG_GROUPS)[drug_group[np.minimum(persons, n_clients - 1)]],
            None,
        )
    else:
        group = pa.nulls(len(persons), pa.string())
    return pa.table(
        {
            "person_id": persons + id_offset,
            "is_client": persons < n_clients,
            "sex": np.where(people.male[persons], "1", "2"),
            "dob": date_column(people.dob[persons], "iso"),
            "finitial": _LETTERS[names["finitial"]],
            "sinitial": _LETTERS[names["sinitial"]],
            "forenames": forename_text(names, people.male[persons]),
            "surname": surname_text(names),
            "drug_group": group,
            "latent_rate": rate[persons],
            "pncid": pd.Series(pncid[first].to_numpy(), index=records.person[first])
            .reindex(persons)
            .to_numpy(dtype=object, na_value=None),
            "pncid_duplicate": pd.Series(pncid[~first].to_numpy(), index=records.person[~first])
            .reindex(persons)
            .to_numpy(dtype=object, na_value=None),
        }
    )


def records_truth(records: PncRecords, id_offset: int = 0) -> pa.Table:
    """pnc_records.parquet rows: each record's PNCID, person and date of birth as filed."""
    return pa.table(
        {
            "PNCID": records.pncid,
            "person_id": records.person + id_offset,
            "duplicate_record": records.second,
            "dob_as_filed": date_column(records.dob, "iso"),
        }
    )


class TruthWriter:
    """A truth parquet file written in parts: the first table fixes the schema (columns
    all missing in it are typed as text, so that later parts can fill them)."""

    def __init__(self, path, first: pa.Table, widen: bool):
        schema = first.schema
        if widen:
            for i, f in enumerate(schema):
                if pa.types.is_null(f.type):
                    schema = schema.set(i, pa.field(f.name, pa.string()))
        self._writer = pq.ParquetWriter(path, schema)
        self.append(first)

    def append(self, table: pa.Table) -> None:
        self._writer.write_table(table.cast(self._writer.schema))

    def close(self) -> None:
        self._writer.close()
