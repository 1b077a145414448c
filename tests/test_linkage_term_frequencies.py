"""The initials' u (term_frequencies.py): an initial's frequency among same-postcode
neighbours when that is larger than its national frequency, counted on the delivery."""

import duckdb
import pandas as pd
import pytest

from dagster_project.linkage.term_frequencies import initial_term_frequencies


def _nominals(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Nominals from (postcode, surname initial, date of birth)."""
    return pd.DataFrame({
        "postcode": [r[0] for r in rows], "surname_initial": [r[1] for r in rows],
        "dob": [r[2] for r in rows], "source": "nominal",
    })


def _frequencies(variants: pd.DataFrame, clients: pd.DataFrame) -> pd.DataFrame:
    con = duckdb.connect()
    con.register("clients", clients)
    con.register("variants", variants)
    return initial_term_frequencies(con, "clients", "variants", "surname_initial").set_index(
        "surname_initial")


def test_a_clustered_initial_takes_its_neighbourhood_frequency():
    # P1: 10 Qs among 20 nominals; P2..P9: 20 nominals each, all A or B; days all distinct
    rows = [("P1", "Q" if i < 10 else "A", f"1980-01-{i + 1:02d}") for i in range(20)]
    rows += [(f"P{p}", "A" if i % 2 else "B", f"1981-{p:02d}-{i + 1:02d}")
             for p in range(2, 10) for i in range(20)]
    variants = _nominals(rows)
    clients = pd.DataFrame({"surname_initial": ["Q", "A"]})
    table = _frequencies(variants, clients)
    q = table.loc["Q"]
    assert q["national"] == pytest.approx(11 / 182)
    assert q["local"] == pytest.approx(10 * 9 / (10 * 19))  # the other Qs among neighbours
    assert q["tf_surname_initial"] == pytest.approx(q["local"])
    # B lives in P2..P9 only, half of its neighbours: local above national too, but A is
    # spread over every postcode and is about as frequent locally as nationally
    a = table.loc["A"]
    assert a["local"] == pytest.approx(a["national"], rel=0.3)


def test_a_rare_initial_spread_evenly_keeps_its_national_frequency():
    # one Q in each of ten postcodes of 20: no two Qs are neighbours
    rows = [(f"P{p}", "Q" if i == 0 else "A", f"1980-{p + 1:02d}-{i + 1:02d}")
            for p in range(10) for i in range(20)]
    table = _frequencies(_nominals(rows), pd.DataFrame({"surname_initial": ["A"]}))
    assert table.loc["Q", "local"] == 0
    assert table.loc["Q", "tf_surname_initial"] == pytest.approx(10 / 201)


def test_one_person_recorded_twice_is_no_pair_of_neighbours():
    # two Zs in P1, born the same day (one person twice): no evidence of clustering
    rows = [("P1", "Z", "1980-01-01"), ("P1", "Z", "1980-01-01")]
    rows += [("P1", "A", f"1981-01-{i + 1:02d}") for i in range(18)]
    table = _frequencies(_nominals(rows), pd.DataFrame({"surname_initial": ["A"]}))
    assert table.loc["Z", "local"] == 0
    assert table.loc["Z", "tf_surname_initial"] == pytest.approx(table.loc["Z", "national"])
