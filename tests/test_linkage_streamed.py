"""The linkage steps read the PNC's variants and offences from the warehouse without holding
them whole: the model fed slices streamed from the warehouse scores exactly what it scores
fed the DataFrames, and the NTA rule on the variants the warehouse selects links exactly as
on all of them (both backends)."""

import math

import pandas as pd

from dagster_project.linkage import nta_links
from dagster_project.linkage.features import OFFENCE_INPUT_COLUMNS, VARIANT_INPUT_COLUMNS
from dagster_project.linkage.probabilistic import score_pairs
from dagster_project.linkage.variant_reads import streamed, variants_sharing_an_attributor
from dagster_project.warehouse.engine import Warehouse
from tests.linkage_support import linkage_inputs

FLOOR = 0.05


def _staged(tmp_path):
    return linkage_inputs(tmp_path, seed=11)


def test_the_model_scores_streamed_tables_as_it_scores_frames(tmp_path, warehouse_url):
    clients, variants, offences = _staged(tmp_path)
    wh = Warehouse(warehouse_url, lock_timeout=30)
    wh.write_table("pnc_identity_variants", variants)
    wh.write_table("staged_pnc_offences", offences)
    in_memory, model = score_pairs(clients, variants, offences, FLOOR)
    # small slices: the tables arrive in many pieces, as a national PNC does
    from_warehouse, streamed_model = score_pairs(
        clients,
        _sliced(streamed(wh, "pnc_identity_variants", VARIANT_INPUT_COLUMNS)),
        _sliced(streamed(wh, "staged_pnc_offences", OFFENCE_INPUT_COLUMNS)),
        FLOOR,
    )
    assert len(in_memory) > 50  # a real set of pairs to compare
    pd.testing.assert_frame_equal(in_memory, from_warehouse, check_dtype=False)
    assert _same(streamed_model, model, ignore={"linker_uid"})


def _same(a, b, ignore=frozenset()) -> bool:
    """Equal, floats to 1e-9 (EM's sums may differ in their last bit with the row order of
    Splink's samples), keys in `ignore` aside."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = (set(a) | set(b)) - ignore
        return all(_same(a.get(k), b.get(k), ignore) for k in keys)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, ignore) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def _sliced(tables, rows=500):
    for table in tables:
        yield from (table.slice(start, rows) for start in range(0, table.num_rows, rows))


def test_the_nta_rule_needs_only_the_variants_sharing_a_clients_attributor(
        tmp_path, warehouse_url):
    clients, variants, _ = _staged(tmp_path)
    wh = Warehouse(warehouse_url, lock_timeout=30)
    wh.write_table("pnc_identity_variants", variants)
    selected = variants_sharing_an_attributor(wh, clients)
    assert 0 < len(selected) < len(variants) / 2
    pd.testing.assert_frame_equal(nta_links(clients, selected), nta_links(clients, variants))
