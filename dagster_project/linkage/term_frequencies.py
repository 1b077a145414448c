"""The initials' term frequencies, allowing that rare initials live close together.

Exports `INITIAL_COLUMNS`, `initial_term_frequencies`, `register_initial_term_frequencies`.

Splink's term-frequency adjustment sets the u of agreeing on an initial v to v's share of
all records, `tf(v)`: the chance that a random stranger carries v. That holds for a
stranger anywhere in the country; but the strangers that come close to a client are
mostly its neighbours (the blocks and the area comparison see to that), and in real
deliveries initials need not be spread evenly: a family's, a community's initials gather
where they live, and then `tf(v)` makes a neighbour sharing a rare initial look like the
client.

So the u of agreeing on v is taken as the larger of `tf(v)` and v's frequency among
neighbours: among pairs of PNC nominals living in the same postcode, of which one carries
v, the share where the other carries v too (`local`). Where initials do not gather, the
two are alike and the national count stands. Pairs of nominals born on the same day are
left out of the local count: unconsolidated records of one person (the same person twice)
would pass for neighbours sharing initials. Everything is counted on the delivery itself.

A fixed floor on u (0.03) had been tuned on the synthetic default world on the belief that
rare initials gather there; it was removed on 2026-12-07 (comparisons.py). Measured on that
world (national, seed 7, 3.28M nominals), they do not gather: local/national is 0.98-1.02
for every first and every surname initial, and 1.00 for pairs of initials rarer than 0.05%
(1.02 with same-day pairs counted), so there the estimate leaves Splink's frequencies as
they are.
"""

import duckdb
import pandas as pd

INITIAL_COLUMNS = ("first_initial", "surname_initial")


def initial_term_frequencies(
    con: duckdb.DuckDBPyConnection, client_table: str, variant_table: str, column: str
) -> pd.DataFrame:
    """Per value of `column`: `national` (its share of the clients' and PNC variants'
    non-null values together, as Splink counts a term frequency), `local` (its frequency
    among same-postcode neighbours of PNC nominals carrying it, NaN where no such
    neighbours exist) and `tf_<column>` = max(national, local), the u used by the model."""
    return con.sql(f"""
        WITH stacked AS (
            SELECT {column} AS value FROM {client_table} WHERE {column} IS NOT NULL
            UNION ALL
            SELECT {column} FROM {variant_table} WHERE {column} IS NOT NULL
        ), national AS (
            SELECT value, count(*) / sum(count(*)) OVER () AS national
            FROM stacked GROUP BY value
        ), nominals AS (
            SELECT postcode, {column} AS value, dob
            FROM {variant_table}
            WHERE source = 'nominal' AND postcode IS NOT NULL AND {column} IS NOT NULL
        ), by_postcode AS (
            SELECT postcode, count(*) AS n FROM nominals GROUP BY postcode
        ), by_value AS (
            SELECT postcode, value, count(*) AS n FROM nominals GROUP BY ALL
        ), by_day AS (  -- pairs born on the same day: perhaps one person twice
            SELECT value, sum(n * (n - 1)) AS pairs
            FROM (SELECT postcode, value, dob, count(*) AS n FROM nominals GROUP BY ALL)
            GROUP BY value
        ), local AS (
            SELECT v.value,
                   (sum(v.n * (v.n - 1)) - any_value(coalesce(d.pairs, 0)))
                   / nullif(sum(v.n * (p.n - 1)) - any_value(coalesce(d.pairs, 0)), 0)
                   AS local
            FROM by_value v JOIN by_postcode p USING (postcode)
            LEFT JOIN by_day d USING (value)
            GROUP BY v.value
        )
        SELECT value AS {column}, national, local,
               greatest(national, coalesce(local, 0)) AS tf_{column}
        FROM national LEFT JOIN local USING (value)
        ORDER BY value
    """).df()


def register_initial_term_frequencies(con, db_api, linker, client_table: str,
                                      variant_table: str) -> dict[str, pd.DataFrame]:
    """Give `linker` the initials' term frequencies above in place of Splink's own;
    returns them per column (for the model's metadata)."""
    tables = {}
    for column in INITIAL_COLUMNS:
        table = initial_term_frequencies(con, client_table, variant_table, column)
        name = f"_tf_{column}_with_neighbours"
        con.register(name, table[[column, f"tf_{column}"]])
        linker.table_management.register_term_frequency_lookup(
            db_api.register(name, table_name=name), column)
        tables[column] = table
    return tables
