"""`pnc_identity_variants` made inside the warehouse engine is exactly the table the pandas
function makes of the same staged nominals and aliases, on both backends: awkward names
(accents, a leading apostrophe or space, no letter at all, a missing name), an alias
repeating its nominal, an alias without a date of birth, a person with no alias; and a
synthetic delivery's whole PNC, in the same order."""

import pandas as pd
import pytest

from dagster_project.linkage.identities import pnc_identity_variants
from dagster_project.linkage.variant_table import write_identity_variants
from dagster_project.warehouse.engine import Warehouse
from tests.linkage_support import staged_tables

DOB = pd.Timestamp("1980-05-20")


def _hand_made():
    nominals = pd.DataFrame({
        "pncid": ["01/1A", "02/2B", "03/3C", "04/4D", "05/5E"],
        "surname": ["Ødegaard", "'Brien", "  smith", None, "123"],
        "forenames": ["Élodie Marie", " John  Paul", "anne", "Zoë", "X\u00a0Y"],
        "dob": [DOB, DOB, None, DOB, DOB],
        "sex": ["F", "M", "U", "F", "M"],
        "postcode": ["AB1", None, "CD2", "EF3", "GH4"],
        "force": ["01", "02", None, "04", "05"],
        "ethnicity": ["W1", None, "A1", "B1", "W1"],
        "line_number": [2, 3, 4, 5, 6],
    })
    aliases = pd.DataFrame({
        "pncid": ["01/1A", "01/1A", "02/2B", "03/3C", "03/3C"],
        "surname": ["Odegaard", "Jones", "O'Brien", "Smith", "Smyth"],
        "forenames": ["Elodie", "Marie Élodie", "John", "Anne", None],
        "dob": [None, pd.Timestamp("1980-05-21"), DOB, None, None],
        "line_number": [2, 3, 4, 5, 6],
    })
    return nominals, aliases


def _engine_variants(warehouse_url, nominals, aliases) -> pd.DataFrame:
    wh = Warehouse(warehouse_url, lock_timeout=30)
    wh.write_tables({"staged_pnc_nominals": nominals, "staged_pnc_aliases": aliases})
    written = write_identity_variants(wh)
    table = wh.read_table("pnc_identity_variants")
    assert written == len(table)
    return table


def _same(engine: pd.DataFrame, frame: pd.DataFrame, ordered: bool) -> None:
    """Equal as tables; in the same row order too where the engine keeps one (DuckDB)."""
    if not ordered:
        key = list(frame.columns)
        engine = engine.sort_values(key, na_position="first", ignore_index=True)
        frame = frame.sort_values(key, na_position="first", ignore_index=True)
    pd.testing.assert_frame_equal(engine, frame, check_dtype=False)


def test_the_engine_makes_the_variants_pandas_makes_of_awkward_names(warehouse_url):
    nominals, aliases = _hand_made()
    engine = _engine_variants(warehouse_url, nominals, aliases)
    expected = pnc_identity_variants(nominals, aliases)
    # the cases are all there: a repeated identity dropped, a nameless initial missing
    assert len(expected) == len(nominals) + len(aliases) - 2
    assert expected["finitial"].isna().any() and expected["sinitial"].isna().any()
    _same(engine, expected, ordered=warehouse_url.startswith("duckdb"))


def test_the_engine_makes_a_whole_synthetic_pnc_as_pandas_does(tmp_path, warehouse_url):
    staged = staged_tables(tmp_path, seed=4)
    nominals, aliases = staged["pnc_nominals.csv"], staged["pnc_aliases.csv"]
    engine = _engine_variants(warehouse_url, nominals, aliases)
    expected = pnc_identity_variants(nominals, aliases)
    assert len(expected) > len(nominals)  # aliases add identities
    _same(engine, expected, ordered=warehouse_url.startswith("duckdb"))


def test_an_alias_of_no_nominal_is_refused(warehouse_url):
    nominals, aliases = _hand_made()
    aliases.loc[0, "pncid"] = "99/9Z"
    wh = Warehouse(warehouse_url, lock_timeout=30)
    wh.write_tables({"staged_pnc_nominals": nominals, "staged_pnc_aliases": aliases})
    with pytest.raises(ValueError, match="1 pnc aliases"):
        write_identity_variants(wh)
    assert not wh.table_exists("pnc_identity_variants")
