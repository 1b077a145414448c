"""`pnc_identity_variants` made inside the warehouse engine, the same statement on DuckDB
and PostgreSQL: at the real PNC's size the nominals and aliases are some 12 million rows,
which never come into Python here. Only the initials are Python's (NFKD normalisation and
Unicode letters, names.py), computed once per distinct forenames and surname — nationally
15 thousand and 92 values of 4.1 million names — and joined to the rows in the engine.

The table is exactly what `identities.pnc_identity_variants` makes of the same staged
tables (tests/test_linkage_variant_table.py), in the same order: nominals in line order,
then aliases in line order, an identity repeating an earlier one of the same person dropped.

Exports `write_identity_variants`.
"""

import pandas as pd

from dagster_project.delivery.schemas import STAGED_TABLES
from dagster_project.linkage.identities import NOMINAL_ATTRIBUTES, PNC_SEX_TO_NDTMS
from dagster_project.linkage.names import (
    first_forename_initial,
    initial_of,
    second_forename_initial,
)
from dagster_project.linkage.variant_reads import VARIANTS
from dagster_project.warehouse.engine import Warehouse

NOMINALS, ALIASES = STAGED_TABLES["pnc_nominals.csv"], STAGED_TABLES["pnc_aliases.csv"]
_FORENAMES, _SURNAMES = "forename_initials", "surname_initials"  # seen by one statement


def _carried(table: str = "") -> str:
    """The nominal's postcode, force and ethnicity, which every identity of its person carries."""
    return ", ".join(f"{table}{column}" for column in NOMINAL_ATTRIBUTES[1:])


_SEX = "CASE sex " + " ".join(f"WHEN '{pnc}' THEN '{ndtms}'"
                              for pnc, ndtms in PNC_SEX_TO_NDTMS.items()) + " END"

# A person's identities ranked nominal first, then aliases in line order; the first of
# each (person, attributor) stays. NULLs fall in one partition, as pandas' duplicates do.
_STATEMENT = f"""
WITH nominal AS (
    SELECT pncid, forenames, surname, dob, {_SEX} AS sex, line_number, {_carried()}
    FROM {NOMINALS}
), stacked AS (
    SELECT pncid, forenames, surname, dob, sex, 'nominal' AS source, 0 AS source_order,
           line_number, {_carried()}
    FROM nominal
    UNION ALL
    SELECT a.pncid, a.forenames, a.surname, COALESCE(a.dob, n.dob), n.sex, 'alias', 1,
           a.line_number, {_carried("n.")}
    FROM {ALIASES} a JOIN nominal n ON n.pncid = a.pncid
), named AS (
    SELECT s.pncid, f.finitial, m.sinitial, s.dob, s.sex, f.second_initial, s.source,
           s.source_order, s.line_number, {_carried("s.")}
    FROM stacked s
    LEFT JOIN {_FORENAMES} f ON f.forenames = s.forenames
    LEFT JOIN {_SURNAMES} m ON m.surname = s.surname
), ranked AS (
    SELECT named.*, row_number() OVER (
        PARTITION BY pncid, finitial, sinitial, dob, sex
        ORDER BY source_order, line_number) AS nth
    FROM named
)
SELECT pncid, finitial, sinitial, dob, sex, second_initial, source, {_carried()}
FROM ranked
WHERE nth = 1
ORDER BY source_order, line_number
"""


def _distinct(wh: Warehouse, column: str) -> pd.Series:
    rows = wh.query(f"SELECT {column} FROM {NOMINALS} WHERE {column} IS NOT NULL "
                    f"UNION SELECT {column} FROM {ALIASES} WHERE {column} IS NOT NULL")
    return rows[column].astype("str")


def _initials(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """The initials of every distinct forenames and surname of the staged PNC."""
    forenames, surnames = _distinct(wh, "forenames"), _distinct(wh, "surname")
    return {
        _FORENAMES: pd.DataFrame({"forenames": forenames,
                                  "finitial": first_forename_initial(forenames),
                                  "second_initial": second_forename_initial(forenames)}),
        _SURNAMES: pd.DataFrame({"surname": surnames, "sinitial": initial_of(surnames)}),
    }


def write_identity_variants(wh: Warehouse) -> int:
    """Replace `pnc_identity_variants` from the staged nominals and aliases; its row count."""
    orphans = wh.query(f"SELECT count(*) AS n FROM {ALIASES} a WHERE NOT EXISTS "
                       f"(SELECT 1 FROM {NOMINALS} n WHERE n.pncid = a.pncid)")["n"].iloc[0]
    if orphans:
        raise ValueError(f"{orphans} pnc aliases refer to PNCIDs that are not among the "
                         "nominals")
    return wh.create_table_as(VARIANTS, _STATEMENT, frames=_initials(wh))
