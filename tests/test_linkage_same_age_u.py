"""The area levels' u among strangers of the client's birth year and sex (same_age_u.py):
counted on pairs that agree on both, because those are the pairs the model scores."""

import duckdb
import pandas as pd
import pytest

from dagster_project.linkage.same_age_u import MIN_PAIRS, area_u_same_age, with_same_age_area_u

AROUND = "elsewhere, offended around the treatment"
ELSE = "All other comparisons"


def _side(n: int, dob_year: int, sex: str, postcode: str, force: str,
          active: int | None, dat: str | None = None) -> pd.DataFrame:
    return pd.DataFrame({
        "sex": [sex] * n, "dob_year": [dob_year] * n, "postcode": [postcode] * n,
        "force": [force] * n, "dat": [dat] * n, "force_a": [force] * n, "quarters_a": [active] * n,
        "force_b": [None] * n, "quarters_b": [None] * n, "active_quarters": [active] * n,
    })


def _table(clients: pd.DataFrame, nominals: pd.DataFrame) -> pd.DataFrame:
    con = duckdb.connect()
    for name, frame in (("clients", clients), ("nominals", nominals)):
        con.register(f"_{name}", frame)
        con.execute(f"""CREATE TABLE {name} AS SELECT * REPLACE (
            quarters_a::UHUGEINT AS quarters_a, quarters_b::UHUGEINT AS quarters_b,
            active_quarters::UHUGEINT AS active_quarters) FROM _{name}""")
    return area_u_same_age(con, "clients", "nominals", seed=1).set_index("label")


def test_strangers_of_the_clients_age_and_sex_only():
    # clients: young men in force F1 who offended in quarter bit 1; nominals elsewhere:
    # young men offending then too, old men and young women who did not
    clients = _side(10, 1985, "1", "AA1", "F1", 0b10)
    nominals = pd.concat([
        _side(20, 1985, "1", "BB1", "F2", 0b10),
        _side(60, 1950, "1", "BB1", "F2", 0b1000),
        _side(60, 1985, "2", "BB1", "F2", 0b1000),
    ])
    table = _table(clients, nominals)
    # the 200 pairs of the same birth year and sex all offended around the treatment;
    # over all 1,400 pairs that would be 1/7
    assert table.loc[AROUND, "pairs"] == 200
    assert table.loc[AROUND, "u"] == pytest.approx(1.0)
    assert table["pairs"].sum() == 200


def test_levels_split_by_area_and_offending():
    clients = _side(4, 1985, "1", "AA1", "F1", 0b10)
    nominals = pd.concat([
        _side(3, 1985, "1", "AA1", "F1", 0b10),  # same postcode, offended in force
        _side(1, 1985, "1", "CC1", "F3", 0b100),  # elsewhere, never around
    ])
    table = _table(clients, nominals)
    assert table.loc["same postcode, offended in the treatment force", "u"] == pytest.approx(0.75)
    assert table.loc[ELSE, "u"] == pytest.approx(0.25)


def test_levels_met_too_rarely_keep_splinks_u():
    table = pd.DataFrame({"label": [AROUND, ELSE], "pairs": [MIN_PAIRS - 1, 1000],
                          "u": [0.001, 0.999]})
    model = {"comparisons": [{"output_column_name": "area", "comparison_levels": [
        {"label_for_charts": "nothing known", "is_null_level": True},
        {"label_for_charts": AROUND, "u_probability": 0.4},
        {"label_for_charts": ELSE, "u_probability": 0.6}]}]}
    levels = with_same_age_area_u(model, table)["comparisons"][0]["comparison_levels"]
    assert levels[1]["u_probability"] == 0.4
    assert levels[2]["u_probability"] == pytest.approx(0.999)
    assert "u_probability" not in levels[0]
