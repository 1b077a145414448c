"""Deliveries against their manifests: what makes one incomplete, and which one is used."""

import json

import pytest

from dagster_project.delivery.manifest import (
    DeliveryError,
    is_complete,
    list_deliveries,
    newest_complete_delivery,
    read_manifest,
    verify_delivery,
)
from dagster_project.delivery.scan import scan_records
from tests.delivery_factory import make_delivery, write_manifest


def _manifest(folder):
    return json.loads((folder / "manifest.json").read_text())


def _rewrite_manifest(folder, manifest):
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_complete_delivery_verifies(tmp_path):
    folder = make_delivery(tmp_path)
    delivery = verify_delivery(folder)
    assert delivery.extract_date.isoformat() == "2009-10-31"
    assert delivery.files["pnc_offences.csv"].rows == 1
    assert delivery.path == folder


def test_missing_manifest_is_named(tmp_path):
    folder = make_delivery(tmp_path)
    (folder / "manifest.json").unlink()
    with pytest.raises(DeliveryError, match="manifest.json: manifest missing") as err:
        read_manifest(folder)
    assert str(folder) in str(err.value)


def test_invalid_json_names_the_line(tmp_path):
    folder = make_delivery(tmp_path)
    (folder / "manifest.json").write_text('{\n"extract_date": "2009-10-31",\n files: {}}')
    with pytest.raises(DeliveryError, match="not valid JSON") as err:
        read_manifest(folder)
    assert (err.value.file, err.value.line) == ("manifest.json", 3)


@pytest.mark.parametrize(
    "extract_date, problem",
    [
        ("31/10/2009", "not an ISO date"),
        ("2009-02-30", "not a calendar date"),
        ("2009-10-30", "differs from the folder name"),
    ],
)
def test_bad_extract_date(tmp_path, extract_date, problem):
    folder = make_delivery(tmp_path)
    _rewrite_manifest(folder, _manifest(folder) | {"extract_date": extract_date})
    with pytest.raises(DeliveryError, match=problem):
        read_manifest(folder)


def test_file_missing_from_the_manifest(tmp_path):
    folder = make_delivery(tmp_path)
    manifest = _manifest(folder)
    del manifest["files"]["pnc_aliases.csv"]
    _rewrite_manifest(folder, manifest)
    with pytest.raises(DeliveryError, match="pnc_aliases.csv not listed"):
        read_manifest(folder)


def test_missing_file(tmp_path):
    folder = make_delivery(tmp_path)
    (folder / "pnc_aliases.csv").unlink()
    with pytest.raises(DeliveryError, match="pnc_aliases.csv: file missing") as err:
        verify_delivery(folder)
    assert err.value.file == "pnc_aliases.csv"
    assert is_complete(folder)[0] is False
    assert "pnc_aliases.csv" in is_complete(folder)[1]


def test_hash_mismatch(tmp_path):
    folder = make_delivery(tmp_path)
    with (folder / "pnc_offences.csv").open("a") as f:
        f.write("x")
    with pytest.raises(DeliveryError, match="pnc_offences.csv: SHA-256 .* differs"):
        verify_delivery(folder)
    assert is_complete(folder) == (True, "complete")  # the cheap test does not hash


def test_row_count_mismatch_with_the_right_hash(tmp_path):
    folder = make_delivery(tmp_path)
    manifest = _manifest(folder)
    manifest["files"]["pnc_nominals.csv"]["rows"] = 2
    _rewrite_manifest(folder, manifest)
    with pytest.raises(DeliveryError, match="pnc_nominals.csv: 1 data rows, the manifest says 2"):
        verify_delivery(folder)
    verify_delivery(folder, count_rows=False)


def test_rows_are_records_not_lines(tmp_path):
    text = 'A,B\n1,"two\nlines"\r\n\n2,"say ""hi"", ok"\n3,x'
    (tmp_path / "f.csv").write_text(text, newline="")
    scan = scan_records(tmp_path / "f.csv")
    assert scan.rows == 3
    assert list(scan.start_lines) == [2, 5, 6]
    assert scan.quoted_newlines == 1


def test_verification_keeps_each_files_scan_for_the_raw_load(tmp_path, monkeypatch):
    folder = make_delivery(tmp_path)
    delivery = verify_delivery(folder)
    assert set(delivery.scans) == set(delivery.files)
    for name, scan in delivery.scans.items():
        again = scan_records(folder / name)
        assert scan.rows == again.rows == delivery.files[name].rows
        assert list(scan.start_lines) == list(again.start_lines)
    # the raw load reads the verified scan: a second scan of the file would fail here
    from dagster_project.delivery import raw

    def no_rescan(*_, **__):
        raise AssertionError("scanned the file again")

    monkeypatch.setattr(raw, "scan_records", no_rescan)
    frame, _ = raw.read_extract(delivery, "pnc_offences.csv")
    assert list(frame["line_number"]) == list(delivery.scans["pnc_offences.csv"].start_lines)
    assert verify_delivery(folder, count_rows=False).scans == {}


def test_deliveries_listed_oldest_first_ignoring_other_folders(tmp_path):
    for name in ("2010-01-31", "2009-10-31", "notes", "2009-1-1"):
        (tmp_path / name).mkdir()
    (tmp_path / "2011-01-01").write_text("a file, not a folder")
    assert [p.name for p in list_deliveries(tmp_path)] == ["2009-10-31", "2010-01-31"]
    assert list_deliveries(tmp_path / "nowhere") == []


def test_newest_complete_chosen_over_a_newer_incomplete(tmp_path):
    make_delivery(tmp_path, "2009-10-31")
    make_delivery(tmp_path, "2010-01-31")
    newest = make_delivery(tmp_path, "2010-04-30")
    (newest / "pnc_offences.csv").write_text("PNCID\n")  # rewritten after the manifest
    delivery, skipped = newest_complete_delivery(tmp_path)
    assert delivery.path.name == "2010-01-31"
    assert [(p.name, "pnc_offences.csv" in why) for p, why in skipped] == [("2010-04-30", True)]


def test_no_complete_delivery_says_where_and_why(tmp_path):
    folder = make_delivery(tmp_path)
    (folder / "pnc_aliases.csv").unlink()
    with pytest.raises(DeliveryError) as err:
        newest_complete_delivery(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "2009-10-31" in message and "pnc_aliases.csv" in message
    with pytest.raises(DeliveryError, match="no sub-folder"):
        newest_complete_delivery(tmp_path / "empty")


def test_error_message_names_file_line_column_and_folder(tmp_path):
    err = DeliveryError(
        "not a date",
        file="pnc_offences.csv",
        line=17,
        column="OUTCOME_DATE",
        folder=tmp_path / "2009-10-31",
    )
    assert str(err).startswith("pnc_offences.csv, line 17, column OUTCOME_DATE: not a date")
    assert "2009-10-31" in str(err)
    assert (err.file, err.line, err.column) == ("pnc_offences.csv", 17, "OUTCOME_DATE")


def test_manifest_rows_must_be_counts(tmp_path):
    folder = make_delivery(tmp_path)
    write_manifest(folder)
    manifest = _manifest(folder)
    manifest["files"]["pnc_offences.csv"]["rows"] = "1"
    _rewrite_manifest(folder, manifest)
    with pytest.raises(DeliveryError, match="not a possible count"):
        read_manifest(folder)


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 7, 64])
def test_record_scan_across_chunk_boundaries(tmp_path, monkeypatch, chunk_bytes):
    import dagster_project.delivery.scan as delivery_module

    (tmp_path / "f.csv").write_bytes(b'A,B\r\n1,"x\r\ny"\r\n\r\n2,""""\r\n3,z')
    monkeypatch.setattr(delivery_module, "CHUNK_BYTES", chunk_bytes)
    scan = scan_records(tmp_path / "f.csv")
    assert (scan.rows, list(scan.start_lines)) == (3, [2, 5, 6])
