"""Offences staged and written in slices of rows give exactly what staging the whole file
gives, including repeated (ASN, OFFENCE_SEQ) keys whose first occurrence is in another slice,
on both backends."""

import pandas as pd

import assets.staging as staging_assets
from dagster_project.delivery.manifest import verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.reference import load_reference
from dagster_project.staging import stage_pnc_nominals, stage_pnc_offences, unknown_code_counts
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.warehouse.engine import Warehouse


def test_sliced_offence_staging_equals_whole_file(tmp_path, monkeypatch, warehouse_url):
    delivery = verify_delivery(
        generate_delivery(SynthConfig.for_scale("tiny"), out=tmp_path / "landing", seed=2)
    )
    raw_offences = read_extract(delivery, "pnc_offences.csv")[0]
    # a repeat whose first occurrence lies in an earlier slice must still be rejected
    repeat = raw_offences.iloc[[0]].assign(line_number=raw_offences["line_number"].max() + 1)
    raw_offences = pd.concat([raw_offences, repeat], ignore_index=True)
    nominals = stage_pnc_nominals(read_extract(delivery, "pnc_nominals.csv")[0])[0]
    codes = load_reference("offence_codes")
    wh = Warehouse(warehouse_url)
    wh.write_table("raw_pnc_offences", raw_offences)

    monkeypatch.setattr(staging_assets, "OFFENCE_SLICE_ROWS", 997)
    rows, written, sliced_rejects = staging_assets._stage_offences_in_slices(
        wh, nominals[["pncid"]], codes
    )
    whole, whole_rejects = stage_pnc_offences(raw_offences, nominals, codes)

    assert rows == len(raw_offences) > 3 * 997
    assert written.rows == len(whole)
    assert written.unknown_codes == unknown_code_counts(whole)
    # the warehouse's rows are the whole file's (a table has no order: PostgreSQL may put a
    # later slice's rows in an earlier page's free space)
    sliced = wh.read_table("staged_pnc_offences")
    pd.testing.assert_frame_equal(_in_one_order(sliced), _in_one_order(whole), check_dtype=False)
    assert sliced_rejects.equals(whole_rejects)
    assert (sliced_rejects["line_number"] == repeat["line_number"].iloc[0]).any()


def _in_one_order(offences: pd.DataFrame) -> pd.DataFrame:
    return offences.sort_values(["line_number"], ignore_index=True)
