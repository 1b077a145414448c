"""Reading delivered files as delivered: text kept, lines numbered, malformed input named."""

import pandas as pd
import pytest

from dagster_project.delivery.manifest import DeliveryError, verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.schemas import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from tests.delivery_factory import columns, csv_text, make_delivery, nominal, offence

NOMINALS = "pnc_nominals.csv"


def _read(tmp_path, file_name, text):
    folder = make_delivery(tmp_path, texts={file_name: text})
    return read_extract(verify_delivery(folder), file_name)


def _read_unverified(tmp_path, file_name, text):
    """Malformed files may not even count right: read without verifying first."""
    folder = make_delivery(tmp_path, texts={file_name: text})
    from dagster_project.delivery.manifest import read_manifest

    return read_extract(read_manifest(folder), file_name)


def test_columns_provenance_and_text_kept(tmp_path):
    rows = [
        nominal(),
        nominal(
            PNCID="2001/0000001Z",
            SURNAME="NA",
            FORENAMES="null",
            DOB="",
            ETHNICITY="N/A",
            FORCE="07",
        ),
    ]
    frame, warnings = _read(tmp_path, NOMINALS, csv_text(NOMINALS, rows))
    wanted = [c.lower() for c in REQUIRED_COLUMNS[NOMINALS] + OPTIONAL_COLUMNS[NOMINALS]]
    assert list(frame.columns) == wanted + ["extract_date", "source_file", "line_number"]
    assert warnings == []
    assert all(frame[c].dtype == "str" for c in wanted)
    second = frame.iloc[1]
    assert (second.surname, second.forenames, second.ethnicity) == ("NA", "null", "N/A")
    assert second.force == "07"  # codes keep their spelling
    assert pd.isna(second.dob) and pd.isna(second.postcode)  # empty -> missing
    assert list(frame.line_number) == [2, 3] and frame.line_number.dtype == "int64"
    assert set(frame.extract_date) == {"2009-10-31"} and set(frame.source_file) == {NOMINALS}


def test_quoted_commas_quotes_and_newlines_keep_line_numbers(tmp_path):
    rows = [
        nominal(PNCID="1", SURNAME='Lee, "Junior"'),
        nominal(PNCID="2", SURNAME="Two\nLines", FORENAMES="Three\r\nmore\nlines"),
        nominal(PNCID="3", SURNAME="Zoë O'Brien"),
    ]
    frame, _ = _read(tmp_path, NOMINALS, csv_text(NOMINALS, rows))
    assert list(frame.surname) == ['Lee, "Junior"', "Two\nLines", "Zoë O'Brien"]
    assert frame.forenames[1] == "Three\r\nmore\nlines"
    assert list(frame.line_number) == [2, 3, 7]


def test_crlf_bom_and_shuffled_columns(tmp_path):
    header = list(reversed(columns(NOMINALS)))
    text = "\ufeff" + csv_text(NOMINALS, [nominal(), nominal(PNCID="X")], header, "\r\n")
    frame, _ = _read(tmp_path, NOMINALS, text)
    assert list(frame.pncid) == ["1998/0410925R", "X"]
    assert frame.columns[0] == "pncid"  # the contract's order, whatever the file's
    assert frame.force[0] == "01" and frame.sex[1] == "M"  # no stray "\r"
    assert list(frame.line_number) == [2, 3]


def test_absent_optional_column_is_all_missing(tmp_path):
    header = REQUIRED_COLUMNS[NOMINALS]
    frame, warnings = _read(tmp_path, NOMINALS, csv_text(NOMINALS, [nominal()], header))
    assert frame.postcode.isna().all() and frame.postcode.dtype == "str"
    assert warnings == []


def test_extra_column_warned_and_dropped(tmp_path):
    header = columns(NOMINALS) + ["NICKNAME", "dob"]
    frame, warnings = _read(tmp_path, NOMINALS, csv_text(NOMINALS, [nominal()], header))
    assert "nickname" not in frame.columns
    assert warnings == ["extra column(s) ignored: NICKNAME, dob"]
    assert frame.dob[0] == "1975-03-02"  # the contract's DOB, not the extra 'dob'


def test_missing_required_column(tmp_path):
    header = [c for c in columns(NOMINALS) if c != "SEX"]
    with pytest.raises(DeliveryError, match="pnc_nominals.csv, line 1, column SEX") as err:
        _read(tmp_path, NOMINALS, csv_text(NOMINALS, [nominal()], header))
    assert (err.value.line, err.value.column) == (1, "SEX")


def test_repeated_header_column(tmp_path):
    header = columns(NOMINALS) + ["FORCE"]
    with pytest.raises(DeliveryError, match="line 1, column FORCE: column name repeated"):
        _read(tmp_path, NOMINALS, csv_text(NOMINALS, [nominal()], header))


def test_wrong_field_count_names_the_line(tmp_path):
    good = csv_text(NOMINALS, [nominal(SURNAME="Two\nLines"), nominal()])
    text = good + "a,b,c\n"
    with pytest.raises(DeliveryError, match=r"line 5: 3 fields, expected 8") as err:
        _read_unverified(tmp_path, NOMINALS, text)
    assert err.value.file == NOMINALS and err.value.column is None
    assert "a,b,c" not in str(err.value)  # no delivered values in messages


def test_unterminated_quote(tmp_path):
    text = csv_text(NOMINALS, [nominal()]) + 'X,"Smith,John,1975-03-02,M,,,\n'
    with pytest.raises(DeliveryError, match="line 3, column SURNAME: quoted field not closed"):
        _read_unverified(tmp_path, NOMINALS, text)


def test_stray_quote_in_unquoted_field(tmp_path):
    text = (
        csv_text(NOMINALS, [nominal()])
        + 'X,O"Brien,John,1975-03-02,M,,,\n'
        + (csv_text(NOMINALS, [nominal()]).split("\n", 1)[1])
    )
    with pytest.raises(DeliveryError, match="line 3, column SURNAME: malformed quoting"):
        _read_unverified(tmp_path, NOMINALS, text)


def test_invalid_utf8_names_line_and_column(tmp_path):
    text = csv_text(NOMINALS, [nominal(), nominal(FORENAMES="Zo#")]).encode()
    text = text.replace(b"Zo#", b"Zo\xeb")  # latin-1, not UTF-8
    with pytest.raises(DeliveryError, match="line 3, column FORENAMES: invalid UTF-8"):
        _read_unverified(tmp_path, NOMINALS, text)


def test_row_count_checked_against_the_manifest(tmp_path):
    folder = make_delivery(tmp_path)
    from dagster_project.delivery.manifest import read_manifest

    delivery = read_manifest(folder)
    (folder / "pnc_offences.csv").write_text(
        csv_text("pnc_offences.csv", [offence(), offence(OFFENCE_SEQ="2")])
    )
    with pytest.raises(DeliveryError, match="2 data rows, the manifest says 1"):
        read_extract(delivery, "pnc_offences.csv")


def test_blank_lines_hold_no_record(tmp_path):
    text = csv_text(NOMINALS, [nominal(), nominal(PNCID="X")]).replace("\nX", "\n\nX") + "\n"
    frame, _ = _read(tmp_path, NOMINALS, text)
    assert list(frame.pncid) == ["1998/0410925R", "X"]
    assert list(frame.line_number) == [2, 4]


def test_a_file_read_block_by_block_is_the_file_and_a_late_bad_record_writes_nothing(
        tmp_path, monkeypatch, warehouse_url):
    from dagster_project.delivery import raw
    from dagster_project.delivery.manifest import read_manifest
    from dagster_project.warehouse.engine import Warehouse

    rows = [nominal(PNCID=f"2001/{i:07d}A", SURNAME="Two\nLines" if i % 7 == 0 else "Lee")
            for i in range(300)]
    text = csv_text(NOMINALS, rows)
    whole, _ = _read(tmp_path / "whole", NOMINALS, text)
    monkeypatch.setattr(raw, "BLOCK_BYTES", 1024)
    delivery = verify_delivery(make_delivery(tmp_path / "blocks", texts={NOMINALS: text}))
    assert len(list(raw.extract_slices(delivery, NOMINALS)[0])) > 5
    pd.testing.assert_frame_equal(read_extract(delivery, NOMINALS)[0], whole)

    wh = Warehouse(warehouse_url)
    wh.write_tables({"raw_pnc_nominals": whole})
    late = make_delivery(tmp_path / "late", texts={NOMINALS: text + "a,b,c\n"})
    slices, _ = raw.extract_slices(read_manifest(late), NOMINALS)
    with pytest.raises(DeliveryError, match=rf"line {text.count(chr(10)) + 1}: 3 fields"):
        wh.write_tables({"raw_pnc_nominals": slices})
    assert wh.row_count("raw_pnc_nominals") == 300
