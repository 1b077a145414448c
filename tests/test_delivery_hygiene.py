"""Issue 12: everything is validated before the first table is touched (a NUL byte, an empty
required file), the warehouse file and the pseudonym key are owner-only from their first byte,
and exported cells cannot be read as formulas."""

import os
import stat

import openpyxl
import pandas as pd
import pytest

from dagster_project.delivery.manifest import DeliveryError, verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.report.exports import export_tables
from dagster_project.settings import Settings
from dagster_project.warehouse.engine import Warehouse
from tests.delivery_factory import columns, csv_text, episode, make_delivery


def _read(folder, file_name):
    return read_extract(verify_delivery(folder), file_name)


def test_a_nul_byte_is_refused_naming_file_line_and_column(tmp_path):
    text = csv_text("ndtms_episodes.csv", [episode(), episode(EPISODID="E\x002")])
    folder = make_delivery(tmp_path, texts={"ndtms_episodes.csv": text})
    with pytest.raises(DeliveryError) as refused:
        _read(folder, "ndtms_episodes.csv")
    assert str(refused.value).startswith("ndtms_episodes.csv, line 3, column EPISODID: a NUL")


@pytest.mark.parametrize("file_name", ["ndtms_episodes.csv", "pnc_nominals.csv",
                                       "pnc_offences.csv"])
def test_a_required_file_with_no_rows_is_refused_by_name(tmp_path, file_name):
    header_only = ",".join(columns(file_name)) + "\n"
    folder = make_delivery(tmp_path, texts={file_name: header_only})
    with pytest.raises(DeliveryError) as refused:
        _read(folder, file_name)
    assert str(refused.value).startswith(f"{file_name}, line 1: no data rows")


def test_a_delivery_without_aliases_is_still_a_delivery(tmp_path):
    folder = make_delivery(tmp_path, texts={"pnc_aliases.csv": ",".join(
        columns("pnc_aliases.csv")) + "\n"})
    frame, _ = _read(folder, "pnc_aliases.csv")
    assert len(frame) == 0


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_warehouse_file_and_pseudonym_key_are_owner_only(tmp_path):
    previous = os.umask(0o022)  # a usual umask: files would be 0644
    try:
        url = f"duckdb:///{tmp_path / 'w' / 'warehouse.duckdb'}"
        wh = Warehouse(url)
        wh.write_table("people", pd.DataFrame({"surname": ["O'Brien"]}))
        key = Settings(warehouse_url=url).resolved_pseudonym_key()
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "w" / "warehouse.duckdb") == 0o600
    assert _mode(tmp_path / "w" / "pseudonym.key") == 0o600
    assert len(key) == 64 and Settings(warehouse_url=url).resolved_pseudonym_key() == key
    assert os.umask(0o022) == 0o022  # and the process's umask is as it was


def test_exported_cells_cannot_be_formulas(tmp_path):
    table = pd.DataFrame({
        "group": ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "plain"],
        "persons": [10, 11, 12, 13, 14],
    })
    export_tables({"outcome_table": table}, tmp_path, threshold=1)
    book = openpyxl.load_workbook(tmp_path / "published_tables.xlsx")
    cells = [row[0] for row in book["outcome_table"].iter_rows(min_row=2, values_only=True)]
    assert cells == ["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert all(c.data_type != "f" for row in book["outcome_table"].iter_rows() for c in row)
    csv = pd.read_csv(tmp_path / "outcome_table.csv", comment="#")
    assert csv["group"].str[0].isin(["'", "p"]).all()
    assert csv["persons"].tolist() == [10, 11, 12, 13, 14]  # numbers stay numbers
