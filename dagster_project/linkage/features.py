"""The two input tables of the probabilistic model: NDTMS clients and PNC identity variants.

Exports `CLIENT_FEATURES`, `VARIANT_FEATURES`, `VARIANT_PERSONS`, `VARIANT_INPUT_COLUMNS`,
`OFFENCE_INPUT_COLUMNS`, `Rows`, `build_features`,
`postcode_forces`, `dat_forces`, `postcode_dats`.

Both tables carry the same columns, so that every comparison reads the same way on either
side of a pair (Splink decides which table is `l`):

- `unique_id`: the row position in `client_identities` / `pnc_identity_variants`;
- `first_initial`, `surname_initial`, `sex` ('1'/'2'; NULL when not stated);
- `dob` as 'YYYY-MM-DD' text (its term frequencies), `dob_year`, `dob_month`, `dob_day`
  (for the placeholder, the swap and the year slip), and two integers that let the dearer
  levels be integer arithmetic over tens of millions of pairs: `dob_days` (days since
  1970-01-01) and `dob_digits` (the text's digits as hexadecimal nibbles, a zero nibble
  for each dash: 1975-03-12 is 0x1975003012; comparisons.py);
- `ethnicity` in PNC codes (NULL when not stated: 'not stated' says nothing about a person);
- `postcode` (outward code) and `force`: for a client the force is derived from the
  postcode (no lookup is delivered), else, where the postcode is not recorded, from the
  client's drug action team (`dat_forces`); for a PNC person it is the nominal's owning
  force, else the force derived from its postcode;
- `dat`: the drug action team (a local authority's area, some six to a police force): a
  client's own; for a PNC person the DAT of its postcode (`postcode_dats`), NULL without
  one;
- `second_initial`: for a PNC person the initial of the second forename (NULL for a
  client: NDTMS records one initial);
- `active_quarters`: a 128-bit mask of the 128 quarters (32 years) up to two years after
  the latest treatment start in the delivery — for a client every quarter
  within two years of any of its treatment starts (first to last triage), for a PNC person
  the quarters in which it offended; `force_a`/`quarters_a` and `force_b`/`quarters_b`:
  the same mask restricted to a force — for a client its own force (b empty), for a PNC
  person the two forces that recorded most of its offences. A shared bit means "offended
  (in the client's force) around the time of treatment"; bitwise AND on integers is what
  makes this cheap for tens of millions of pairs (lists cost ten times as much).

The work is done in DuckDB, on the connection Splink will use, because the offence table
is the largest in the delivery and the per-person masks are cheap there and dear in pandas.
"""

from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from dagster_project.delivery.reference import load_reference

CLIENT_FEATURES = "ndtms_client_features"
VARIANT_FEATURES = "pnc_variant_features"
VARIANT_PERSONS = "pnc_variant_persons"
# "within two years of the treatment start", in quarters
WINDOW_QUARTERS = 8
NOT_STATED_ETHNICITY = "NS"
# a table as a DataFrame, or as Arrow slices streamed from the warehouse
Rows = pd.DataFrame | Iterable[pa.Table]
# what the model reads of `pnc_identity_variants` and of the staged offences
VARIANT_INPUT_COLUMNS = ["pncid", "finitial", "sinitial", "second_initial", "dob", "sex",
                         "postcode", "force", "ethnicity", "source"]
OFFENCE_INPUT_COLUMNS = ["pncid", "offence_start", "force"]


MASK_QUARTERS = 128  # bits of an unsigned 128-bit integer


def _quarter(date_sql: str, first_year: int) -> str:
    """Quarter number of a date (bit position), clamped into the mask."""
    return (f"least(greatest((year({date_sql}) - {first_year}) * 4 "
            f"+ (month({date_sql}) - 1) // 3, 0), {MASK_QUARTERS - 1})")


def mask_first_year(clients: pd.DataFrame) -> int:
    """The year of the mask's bit 0: the mask ends two years after the delivery's latest
    treatment start, so that any cohort year a delivery can hold compares on its own
    quarters (offending older than 32 years before that shares bit 0, and says little)."""
    latest = pd.to_datetime(clients["last_triaged"]).max()
    last_year = (latest.year if pd.notna(latest) else 2000) + WINDOW_QUARTERS // 4
    return last_year - MASK_QUARTERS // 4 + 1


def _bit(quarter_sql: str) -> str:
    return f"(1::UHUGEINT << ({quarter_sql})::UHUGEINT)"


def _register(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame,
              columns: list[str]) -> None:
    """A private copy of the columns needed, as a DuckDB view of the frame."""
    present = [c for c in columns if c in frame]
    con.register(name, frame[present].reset_index(drop=True))


def _load(con: duckdb.DuckDBPyConnection, name: str, rows: Rows, columns: list[str],
          positions: bool = False) -> None:
    """`rows` as `name` in the linkage database: a DataFrame as a view of its columns; Arrow
    slices (a table streamed from the warehouse) copied into a table of the database, a
    slice at a time, so that a PNC larger than memory is never held in Python. With
    `positions`, a `unique_id` column numbers the rows in the order they come (a DataFrame's
    row positions). A column the rows lack is NULL text."""
    if isinstance(rows, pd.DataFrame):
        frame = rows.assign(unique_id=range(len(rows))) if positions else rows
        missing = {c: pd.Series(pd.NA, index=frame.index, dtype="str")
                   for c in columns if c not in frame}
        _register(con, name, frame.assign(**missing), columns)
        return
    offset, created = 0, False
    for batch in rows:
        if positions:
            batch = batch.append_column(
                "unique_id", pa.array(np.arange(offset, offset + batch.num_rows), pa.int64()))
        for column in columns:
            if column not in batch.column_names:
                batch = batch.append_column(column, pa.nulls(batch.num_rows, pa.string()))
        con.register("_slice", batch.select(columns))
        con.execute(f"INSERT INTO {name} SELECT * FROM _slice" if created
                    else f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _slice")
        con.unregister("_slice")
        offset, created = offset + batch.num_rows, True
    if not created:
        raise ValueError(f"no rows, not even an empty slice, to load as {name}")


def _forget(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop what `_load` made of `name`, a view of a DataFrame or a table."""
    con.unregister(name)
    con.execute(f"DROP TABLE IF EXISTS {name}")


def postcode_forces(con: duckdb.DuckDBPyConnection) -> None:
    """Table `_postcode_force`: each outward code's police force, derived from the data.

    The force most often recorded as owning force by nominals living there (ties: the
    lowest code); for postcodes where no nominal records a force, the force that most often
    recorded offences of people living there. Needs views `_nominals` and `_offences`.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _postcode_force AS
        WITH nominal_votes AS (
            SELECT upper(postcode) AS postcode, force, count(*) AS votes, 1 AS source
            FROM _nominals WHERE postcode IS NOT NULL AND force IS NOT NULL
            GROUP BY ALL
        ), offence_votes AS (
            SELECT upper(n.postcode) AS postcode, o.force, count(*) AS votes, 2 AS source
            FROM _offences o JOIN _nominals n USING (pncid)
            WHERE n.postcode IS NOT NULL AND o.force IS NOT NULL
            GROUP BY ALL
        ), votes AS (
            SELECT * FROM nominal_votes UNION ALL SELECT * FROM offence_votes
        )
        SELECT postcode, arg_min(force, {_vote_order()}) AS force
        FROM (SELECT * FROM votes
              QUALIFY source = min(source) OVER (PARTITION BY postcode))
        GROUP BY postcode
    """)


def dat_forces(con: duckdb.DuckDBPyConnection) -> None:
    """Table `_dat_force`: each drug action team's police force, derived from the data.

    A DAT is a local area, so its clients whose postcode is recorded live mostly in one
    force: the force most of them live in (ties: the lowest code). Where a delivery leaves
    postcodes empty, the client's DAT still places it (the DAT is its own column, left
    empty independently), and without a force a client can never show "offended in the
    treatment force around the treatment", the strongest area evidence the model has. Needs
    view `_clients` and table `_postcode_force`.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dat_force AS
        WITH votes AS (
            SELECT c.dat, pf.force, count(*) AS votes
            FROM _clients c JOIN _postcode_force pf ON pf.postcode = upper(c.pc)
            WHERE c.dat IS NOT NULL
            GROUP BY ALL
        )
        SELECT dat, arg_min(force, {_vote_order()}) AS force FROM votes GROUP BY dat
    """)


def postcode_dats(con: duckdb.DuckDBPyConnection) -> None:
    """Table `_postcode_dat`: each outward code's drug action team, derived from the data:
    the DAT most of the clients living there record (ties: the alphabetically first). The
    PNC records no DAT; through its postcode a PNC person is placed in a DAT, so that a
    client whose postcode is unrecorded can still be compared on an area some six times
    narrower than a police force. Needs view `_clients`."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _postcode_dat AS
        WITH votes AS (
            SELECT upper(pc) AS postcode, dat, count(*) AS votes
            FROM _clients WHERE pc IS NOT NULL AND dat IS NOT NULL
            GROUP BY ALL
        )
        SELECT postcode, arg_min(dat, {_vote_order("dat")}) AS dat FROM votes GROUP BY postcode
    """)


def _vote_order(value: str = "force") -> str:
    # most votes first, then the lowest code: a deterministic tie rule
    return f"(-votes, {value})"


def build_features(
    con: duckdb.DuckDBPyConnection,
    clients: pd.DataFrame,
    variants: Rows,
    offences: Rows,
) -> tuple[str, str]:
    """Create the tables `CLIENT_FEATURES` (linkable clients only), `VARIANT_FEATURES` and
    `VARIANT_PERSONS` (each variant's `pncid`, `source` and its person's number of alias
    identities, `aliases`, by `unique_id`).

    `clients` from `client_identities`, `variants` from `pnc_identity_variants` (whose
    nominal rows give each person's postcode and force), `offences` the staged offences
    (`pncid`, `offence_start`, `force`): each a DataFrame, or Arrow slices of the table as the
    warehouse streams it (`Warehouse.stream`; same rows, same order). Returns the two
    feature tables' names.
    """
    if "dat" not in clients:  # an optional column (EXTRACTS.md)
        clients = clients.assign(dat=pd.Series(pd.NA, index=clients.index, dtype="str"))
    _register(con, "_clients", clients.assign(unique_id=range(len(clients))), [
        "unique_id", "finitial", "sinitial", "dob", "sex", "linkable", "pc", "dat", "ethnic",
        "first_triaged", "last_triaged"])
    # second_initial: NULL for variants built without forenames
    _load(con, "_variants", variants, [*VARIANT_INPUT_COLUMNS, "unique_id"], positions=True)
    con.execute("CREATE OR REPLACE TEMP VIEW _nominals AS "
                "SELECT pncid, postcode, force FROM _variants WHERE source = 'nominal'")
    _load(con, "_offences", offences, OFFENCE_INPUT_COLUMNS)
    con.register("_ethnicity_codes", load_reference("ethnicity_codes"))
    postcode_forces(con)
    dat_forces(con)
    postcode_dats(con)
    first_year = mask_first_year(clients)
    _client_features(con, first_year)
    _variant_features(con, first_year)
    con.execute(f"CREATE OR REPLACE TABLE {VARIANT_PERSONS} AS "
                "SELECT unique_id, pncid, source, count(*) FILTER (WHERE source = 'alias') "
                "OVER (PARTITION BY pncid) AS aliases FROM _variants")
    con.execute("DROP VIEW _nominals")
    for view in ("_clients", "_ethnicity_codes"):
        con.unregister(view)
    for loaded in ("_variants", "_offences"):
        _forget(con, loaded)
    return CLIENT_FEATURES, VARIANT_FEATURES


def _identity_columns(alias: str) -> str:
    return f"""
        {alias}.finitial AS first_initial, {alias}.sinitial AS surname_initial,
        CASE WHEN {alias}.sex IN ('1', '2') THEN {alias}.sex END AS sex,
        strftime({alias}.dob, '%Y-%m-%d') AS dob,
        year({alias}.dob) AS dob_year, month({alias}.dob) AS dob_month,
        day({alias}.dob) AS dob_day,
        date_diff('day', DATE '1970-01-01', {alias}.dob::DATE) AS dob_days,
        ('0x' || strftime({alias}.dob, '%Y0%m0%d'))::BIGINT AS dob_digits"""


def _client_features(con: duckdb.DuckDBPyConnection, first_year: int) -> None:
    start = _quarter("c.first_triaged", first_year)
    end = _quarter("c.last_triaged", first_year)
    window = (f"list_reduce(list_transform(range(greatest({start} - {WINDOW_QUARTERS}, 0), "
              f"least({end} + {WINDOW_QUARTERS}, {MASK_QUARTERS - 1}) + 1), "
              f"lambda q: {_bit('q')}), lambda a, b: a | b)")
    con.execute(f"""
        CREATE OR REPLACE TABLE {CLIENT_FEATURES} AS
        SELECT c.unique_id, {_identity_columns("c")}, NULL::VARCHAR AS second_initial,
               'client' AS source,
               nullif(e.pnc_code, '{NOT_STATED_ETHNICITY}') AS ethnicity,
               upper(c.pc) AS postcode, coalesce(pf.force, df.force) AS force,
               c.dat, {window} AS active_quarters,
               coalesce(pf.force, df.force) AS force_a,
               CASE WHEN coalesce(pf.force, df.force) IS NOT NULL THEN {window} END
                   AS quarters_a,
               NULL::VARCHAR AS force_b, NULL::UHUGEINT AS quarters_b
        FROM _clients c
        LEFT JOIN _postcode_force pf ON pf.postcode = upper(c.pc)
        LEFT JOIN _dat_force df ON df.dat = c.dat
        LEFT JOIN _ethnicity_codes e ON e.ndtms_code = c.ethnic
        WHERE c.linkable
        ORDER BY c.unique_id
    """)


def _variant_features(con: duckdb.DuckDBPyConnection, first_year: int) -> None:
    bit = _bit(_quarter("offence_start", first_year))
    con.execute(f"""
        CREATE OR REPLACE TABLE {VARIANT_FEATURES} AS
        WITH by_force AS (
            SELECT pncid, force, bit_or({bit}) AS quarters, count(*) AS offences
            FROM _offences WHERE force IS NOT NULL AND offence_start IS NOT NULL
            GROUP BY ALL
        ), ranked AS (
            SELECT *, row_number() OVER (
                PARTITION BY pncid ORDER BY offences DESC, force) AS rank
            FROM by_force
        ), offending AS (
            SELECT pncid,
                   any_value(force) FILTER (WHERE rank = 1) AS force_a,
                   any_value(quarters) FILTER (WHERE rank = 1) AS quarters_a,
                   any_value(force) FILTER (WHERE rank = 2) AS force_b,
                   any_value(quarters) FILTER (WHERE rank = 2) AS quarters_b
            FROM ranked GROUP BY pncid
        ), active AS (
            SELECT pncid, bit_or({bit}) AS active_quarters
            FROM _offences WHERE offence_start IS NOT NULL GROUP BY pncid
        )
        SELECT v.unique_id, {_identity_columns("v")}, v.second_initial, v.source,
               nullif(v.ethnicity, '{NOT_STATED_ETHNICITY}') AS ethnicity,
               upper(v.postcode) AS postcode, coalesce(v.force, pf.force) AS force,
               pd.dat, a.active_quarters, o.force_a, o.quarters_a, o.force_b, o.quarters_b
        FROM _variants v
        LEFT JOIN _postcode_force pf ON pf.postcode = upper(v.postcode)
        LEFT JOIN _postcode_dat pd ON pd.postcode = upper(v.postcode)
        LEFT JOIN active a USING (pncid)
        LEFT JOIN offending o USING (pncid)
        ORDER BY v.unique_id
    """)
