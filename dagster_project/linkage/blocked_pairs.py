"""The pairs the model scores, keyed by integers: every (client, PNC variant) pair that meets
at least one of the prediction blocking rules, each pair once.

Exports `scoring_inputs`, `pair_chunks`.

Splink blocks two linked tables on text keys (`source_dataset || '-__-' || unique_id`) and
joins the pairs back to the records on those keys: nationally some 30 million pairs, and
building and hashing those strings was about two fifths of the scoring's time. Here the
clients and variants are one table of disjoint integer ids (variants shifted past the
clients), the pairs are made in SQL from the same rules and the same "not an earlier rule"
exclusion as Splink's, and Splink scores exactly that table
(`register_blocked_pairs_for_predict`): the same pairs, each with the client on the left.

Splink joins each pair to both records with a hash table of the variants the pairs reach:
some 10 million wide rows on a PNC of 10 million persons, which spills out of DuckDB's
memory limit to disk. `pair_chunks` cuts the pairs by ranges of variants, so that each
scoring pass hashes a range that fits (big-pnc, the join alone: 85 s whole, 62 s in eight).
"""

import duckdb

from dagster_project.linkage.comparisons import PREDICTION_BLOCKING_RULES, rule_sql

RECORDS = "_scoring_records"
PAIRS = "_blocked_pairs"


def scoring_inputs(con: duckdb.DuckDBPyConnection, client_table: str,
                   variant_table: str) -> int:
    """Create the view `RECORDS` (clients, then variants with `unique_id` + offset) and the
    table `PAIRS` (`match_key`, `join_key_l` a client's id, `join_key_r` a variant's
    shifted id); returns the offset."""
    offset = con.execute(
        f"SELECT coalesce(max(unique_id), -1) + 1 FROM {client_table}").fetchall()[0][0]
    columns = [name for name, *_ in con.execute(f"DESCRIBE {client_table}").fetchall()]
    shifted = ", ".join(f"unique_id + {offset} AS unique_id" if name == "unique_id" else name
                        for name in columns)
    con.execute(f"CREATE OR REPLACE VIEW {RECORDS} AS "
                f"SELECT {', '.join(columns)} FROM {client_table} "
                f"UNION ALL SELECT {shifted} FROM {variant_table}")
    rules = [rule_sql(rule) for rule in PREDICTION_BLOCKING_RULES]
    # NULL agreement is no agreement: coalesce keeps a pair that an earlier rule could
    # not decide, as Splink does
    blocks = [
        f"SELECT '{key}' AS match_key, l.unique_id AS join_key_l, "
        f"r.unique_id + {offset} AS join_key_r "
        f"FROM {client_table} l JOIN {variant_table} r ON ({rule})"
        + "".join(f" AND NOT coalesce(({earlier}), false)" for earlier in rules[:key])
        for key, rule in enumerate(rules)
    ]
    con.execute(f"CREATE OR REPLACE TABLE {PAIRS} AS " + " UNION ALL ".join(blocks))
    return offset


def pair_chunks(con: duckdb.DuckDBPyConnection, offset: int, variants: int,
                per_chunk: int) -> list[str]:
    """Views of `PAIRS` by ranges of `per_chunk` variants (by shifted id), together every
    pair once; their names."""
    views = []
    for k, first in enumerate(range(offset, offset + max(variants, 1), per_chunk)):
        views.append(f"{PAIRS}_{k}")
        con.execute(f"CREATE OR REPLACE VIEW {views[-1]} AS SELECT * FROM {PAIRS} "
                    f"WHERE join_key_r >= {first} AND join_key_r < {first + per_chunk}")
    return views
