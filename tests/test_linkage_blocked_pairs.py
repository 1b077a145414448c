"""The pairs the probabilistic rule scores (blocked_pairs.py): every (client, variant) pair
that meets some prediction blocking rule, each once, with 1 January placeholders on either
side; and Splink scores exactly those pairs, the client on the left."""

import duckdb
import pandas as pd
import pytest
from splink import DuckDBAPI

from dagster_project.linkage import probabilistic
from dagster_project.linkage.blocked_pairs import PAIRS, pair_chunks, scoring_inputs
from dagster_project.linkage.comparisons import PREDICTION_BLOCKING_RULES, rule_sql
from dagster_project.linkage.features import VARIANT_PERSONS, build_features
from dagster_project.linkage.probabilistic import _scored_variant_pairs, _trained_model
from tests.linkage_support import linkage_inputs

PLACEHOLDER, MID_YEAR = (1, 1), (6, 15)  # (month, day)


def _plant(con, table: str, new_id: int, like: dict, month_day: tuple, postcode: str) -> None:
    """A copy of the table's first row under a new id, with the initials, sex and birth
    year of `like`, born on `month_day` of that year, at `postcode`."""
    month, day = month_day
    values = {"unique_id": new_id, "first_initial": f"'{like['first_initial']}'",
              "surname_initial": f"'{like['surname_initial']}'", "sex": f"'{like['sex']}'",
              "dob_year": like["dob_year"], "dob_month": month, "dob_day": day,
              "dob": f"'{like['dob_year']:04d}-{month:02d}-{day:02d}'",
              "postcode": f"'{postcode}'"}
    columns = [name for name, *_ in con.execute(f"DESCRIBE {table}").fetchall()]
    select = ", ".join(f"{values.get(c, c)} AS {c}" for c in columns)
    con.execute(f"INSERT INTO {table} SELECT {select} FROM "
                f"(SELECT * FROM {table} ORDER BY unique_id LIMIT 1)")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The tiny world's feature tables, plus two planted pairs that only the placeholder
    rule joins: a client born "1 January" against a mid-year variant, and the reverse."""
    clients, variants, offences = linkage_inputs(tmp_path_factory.mktemp("blocked"), seed=6)
    con = duckdb.connect()
    client_table, variant_table = build_features(con, clients, variants, offences)
    like = con.execute(f"SELECT first_initial, surname_initial, sex, dob_year FROM "
                       f"{client_table} WHERE sex IS NOT NULL AND first_initial IS NOT NULL "
                       "ORDER BY unique_id LIMIT 1").df().iloc[0].to_dict()
    top = {t: con.execute(f"SELECT max(unique_id) FROM {t}").fetchall()[0][0]
           for t in (client_table, variant_table)}
    planted = []
    for n, (client_day, variant_day) in enumerate([(PLACEHOLDER, MID_YEAR),
                                                   (MID_YEAR, PLACEHOLDER)], start=1):
        client, variant = top[client_table] + n, top[variant_table] + n
        _plant(con, client_table, client, like, client_day, f"ZZ{n} 1AA")
        _plant(con, variant_table, variant, like, variant_day, f"ZZ{n} 9ZZ")
        con.execute(f"INSERT INTO {VARIANT_PERSONS} SELECT {variant}, pncid, source, aliases "
                    f"FROM {VARIANT_PERSONS} ORDER BY unique_id LIMIT 1")
        planted.append((client, variant))
    return con, client_table, variant_table, planted


def test_every_pair_meeting_a_rule_is_blocked_once(world):
    con, client_table, variant_table, planted = world
    offset = scoring_inputs(con, client_table, variant_table)
    blocked = con.execute(f"SELECT join_key_l, join_key_r - {offset} FROM {PAIRS}").fetchall()
    any_rule = " OR ".join(f"coalesce(({rule_sql(r)}), false)" for r in PREDICTION_BLOCKING_RULES)
    expected = con.execute(f"SELECT l.unique_id, r.unique_id FROM {client_table} l, "
                           f"{variant_table} r WHERE {any_rule}").fetchall()

    assert len(blocked) == len(set(blocked))
    assert set(blocked) == set(expected)
    assert offset > con.execute(f"SELECT max(unique_id) FROM {client_table}").fetchall()[0][0]
    assert set(planted) <= set(blocked)
    # the planted pairs meet no other rule: the placeholder rule alone finds them
    others = " OR ".join(f"coalesce(({rule_sql(r)}), false)" for r in PREDICTION_BLOCKING_RULES
                         if "dob_day = 1" not in rule_sql(r))
    for client, variant in planted:
        assert not con.execute(f"SELECT {others} FROM {client_table} l, {variant_table} r "
                               f"WHERE l.unique_id = {client} AND r.unique_id = {variant}"
                               ).fetchall()[0][0]


def test_splink_scores_exactly_the_blocked_pairs_client_on_the_left(world):
    con, client_table, variant_table, planted = world
    db_api = DuckDBAPI(con)
    model = _trained_model(con, db_api, client_table, variant_table, seed=3)
    model.pop("em_sessions"), model.pop("same_age_area_u")
    # a floor of 0 keeps every scored pair
    scored = _scored_variant_pairs(con, db_api, client_table, variant_table, model, 0.0)
    offset = scoring_inputs(con, client_table, variant_table)
    blocked = con.execute(f"SELECT join_key_l, join_key_r - {offset} FROM {PAIRS}").fetchall()

    pairs = list(zip(scored["client"], scored["variant"], strict=True))
    assert sorted(pairs) == sorted(blocked)
    persons = con.execute(f"SELECT unique_id, pncid FROM {VARIANT_PERSONS}").df()
    assert scored["pncid"].tolist() == persons.set_index("unique_id").loc[
        scored["variant"], "pncid"].tolist()
    # the placeholder level is the planted pairs' date-of-birth level
    planted_rows = scored.set_index(["client", "variant"]).loc[planted]
    assert planted_rows["gamma_dob"].eq(5).all()


def _scored_in_passes(inputs, per_pass: int | None = None) -> pd.DataFrame:
    """Every blocked pair of a fresh model of the tiny world, scored in passes of
    `per_pass` variants (one pass without)."""
    con = duckdb.connect()
    client_table, variant_table = build_features(con, *inputs)
    db_api = DuckDBAPI(con)
    model = _trained_model(con, db_api, client_table, variant_table, seed=3)
    model.pop("em_sessions"), model.pop("same_age_area_u")
    with pytest.MonkeyPatch.context() as patch:
        if per_pass:
            patch.setattr(probabilistic, "VARIANTS_PER_SCORING_PASS", per_pass)
        return _scored_variant_pairs(con, db_api, client_table, variant_table, model, 0.0)


def test_scoring_in_passes_over_ranges_of_variants_scores_the_same_pairs_alike(tmp_path):
    inputs = linkage_inputs(tmp_path, seed=6)
    variants = len(inputs[1])
    whole = _scored_in_passes(inputs)
    in_passes = _scored_in_passes(inputs, per_pass=variants // 7 + 1)

    con = duckdb.connect()
    offset = scoring_inputs(con, *build_features(con, *inputs))
    chunks = pair_chunks(con, offset, variants, variants // 7 + 1)
    assert len(chunks) == 7
    sizes = [con.execute(f"SELECT count(*) FROM {c}").fetchall()[0][0] for c in chunks]
    assert min(sizes) > 0 and sum(sizes) == len(whole)
    pd.testing.assert_frame_equal(in_passes, whole)
