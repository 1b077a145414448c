"""The linkage model's inputs (features.py): offending in the client's treatment force
around the time of treatment must be seen in any cohort year a delivery can hold, not
only up to a fixed year."""

import duckdb
import pandas as pd

from dagster_project.linkage.comparisons import area_levels
from dagster_project.linkage.features import CLIENT_FEATURES, VARIANT_FEATURES, build_features


def _features(triaged: str) -> pd.DataFrame:
    """One client treated on `triaged` in postcode P1 (force 01), and two PNC persons of
    force 01: X offended there a month before that start, Y four years before it."""
    start = pd.Timestamp(triaged)
    clients = pd.DataFrame({
        "finitial": ["A"], "sinitial": ["B"], "dob": [pd.Timestamp("1980-01-01")],
        "sex": ["1"], "linkable": [True], "pc": ["P1"], "ethnic": ["A"],
        "first_triaged": [start], "last_triaged": [start],
    })
    variants = pd.DataFrame({
        "pncid": ["X", "Y"], "finitial": ["C", "D"], "sinitial": ["E", "F"],
        "second_initial": [pd.NA, pd.NA], "dob": pd.to_datetime(["1970-01-01"] * 2),
        "sex": ["1", "1"], "source": ["nominal", "nominal"], "postcode": ["P1", "P1"],
        "force": ["01", "01"], "ethnicity": ["W1", "W1"],
    })
    offences = pd.DataFrame({
        "pncid": ["X", "Y"],
        "offence_start": [start - pd.Timedelta(days=30), start - pd.Timedelta(days=4 * 365)],
        "force": ["01", "01"],
    })
    con = duckdb.connect()
    build_features(con, clients, variants, offences)
    [(client,)] = con.sql(f"SELECT quarters_a FROM {CLIENT_FEATURES}").fetchall()
    persons = con.sql(f"SELECT quarters_a FROM {VARIANT_FEATURES} ORDER BY unique_id").fetchall()
    return client, [mask for (mask,) in persons]


def test_offending_around_a_recent_treatment_start_is_told_from_older_offending():
    for triaged in ("2006-06-01", "2020-06-01", "2031-02-01"):
        client, (recent, old) = _features(triaged)
        assert client & recent, triaged  # offended in the force within two years
        assert not client & old, triaged  # four years before: outside the window


def test_a_client_without_postcode_is_placed_by_its_drug_action_team():
    """The DAT's force is the force most of its clients with a postcode live in; a client
    whose postcode is missing takes it, and a DAT no client places leaves the force empty."""
    clients = pd.DataFrame({
        "finitial": ["A", "B", "C", "D", "E"], "sinitial": ["B"] * 5,
        "dob": [pd.Timestamp("1980-01-01")] * 5, "sex": ["1"] * 5, "linkable": [True] * 5,
        # DAT D1: two clients in P1 (force 01), one in P2 (force 02); one without postcode
        "pc": ["P1", "P1", "P2", None, None], "dat": ["D1", "D1", "D1", "D1", "D9"],
        "ethnic": ["A"] * 5,
        "first_triaged": [pd.Timestamp("2006-06-01")] * 5,
        "last_triaged": [pd.Timestamp("2006-06-01")] * 5,
    })
    variants = pd.DataFrame({
        "pncid": ["X", "Y"], "finitial": ["C", "D"], "sinitial": ["E", "F"],
        "second_initial": [pd.NA, pd.NA], "dob": pd.to_datetime(["1970-01-01"] * 2),
        "sex": ["1", "1"], "source": ["nominal", "nominal"], "postcode": ["P1", "P2"],
        "force": ["01", "02"], "ethnicity": ["W1", "W1"],
    })
    offences = pd.DataFrame({"pncid": ["X"], "offence_start": [pd.Timestamp("2006-05-01")],
                             "force": ["01"]})
    con = duckdb.connect()
    build_features(con, clients, variants, offences)
    rows = con.sql(f"SELECT postcode, force, force_a, quarters_a IS NOT NULL "
                   f"FROM {CLIENT_FEATURES} ORDER BY unique_id").fetchall()
    assert [row[1] for row in rows] == ["01", "01", "02", "01", None]
    assert rows[3] == (None, "01", "01", True)  # no postcode: its DAT's force, offending too
    assert rows[4] == (None, None, None, False)


def test_clients_without_a_dat_column_keep_their_postcode_force():
    client, _ = _features("2006-06-01")
    assert client  # no `dat` column in `_features`: the postcode alone places the client


def test_a_client_without_postcode_is_compared_on_its_drug_action_team():
    """A PNC person is placed in the DAT most clients of its postcode record; a client whose
    postcode is missing then agrees with it on that DAT, an area narrower than the force,
    and with a person of another DAT in the same force only on the force."""
    clients = pd.DataFrame({
        "finitial": ["A", "B", "C", "D", "E"], "sinitial": ["B"] * 5,
        "dob": [pd.Timestamp("1980-01-01")] * 5, "sex": ["1"] * 5, "linkable": [True] * 5,
        # P1 lies in D1 (two clients against one), P2 in D2; client D has no postcode
        "pc": ["P1", "P1", "P2", None, "P1"], "dat": ["D1", "D1", "D2", "D1", "D2"],
        "ethnic": ["A"] * 5,
        "first_triaged": [pd.Timestamp("2006-06-01")] * 5,
        "last_triaged": [pd.Timestamp("2006-06-01")] * 5,
    })
    variants = pd.DataFrame({
        "pncid": ["X", "Y", "Z"], "finitial": ["C", "D", "F"], "sinitial": ["E", "F", "G"],
        "second_initial": [pd.NA] * 3, "dob": pd.to_datetime(["1970-01-01"] * 3),
        "sex": ["1"] * 3, "source": ["nominal"] * 3, "postcode": ["P1", "P2", None],
        "force": ["01", "01", "01"], "ethnicity": ["W1"] * 3,
    })
    offences = pd.DataFrame({"pncid": ["X"], "offence_start": [pd.Timestamp("2000-01-01")],
                             "force": ["01"]})
    con = duckdb.connect()
    build_features(con, clients, variants, offences)
    dats = con.sql(f"SELECT dat FROM {VARIANT_FEATURES} ORDER BY unique_id").fetchall()
    assert [dat for (dat,) in dats] == ["D1", "D2", None]
    levels = area_levels()
    case = " ".join(f"WHEN {sql} THEN '{label}'" for sql, label in levels)
    sides = ", ".join(f"{side}.{c} AS {c}_{suffix}"
                      for side, suffix in (("c", "l"), ("v", "r"))
                      for c in ("postcode", "force", "dat", "force_a", "quarters_a",
                                "force_b", "quarters_b", "active_quarters"))
    compared = con.sql(f"""
        SELECT CASE {case} ELSE 'All other comparisons' END
        FROM (SELECT {sides} FROM {CLIENT_FEATURES} c, {VARIANT_FEATURES} v
              WHERE c.first_initial = 'D' ORDER BY v.unique_id)
    """).fetchall()
    assert [label for (label,) in compared] == [
        "same drug action team, postcode unknown", "same police force, postcode unknown",
        "same police force, postcode unknown"]
