"""The pointer that names the delivery readers use (issue 12), on both backends: a refresh's
schema is invisible to readers until the switch; the switch refuses a schema missing a table;
a reader pinned to a delivery keeps it across a switch; old deliveries are pruned to the kept
number, and only schemas this warehouse registered."""

import pandas as pd
import pytest

from dagster_project.warehouse.delivery_pointer import (
    loaded_deliveries,
    namespace_for,
    switch_delivery,
)
from dagster_project.warehouse.engine import Warehouse


def _load(url: str, run_id: str, rows: int) -> str:
    """A refresh's schema holding one table of `rows` rows."""
    namespace = namespace_for(run_id)
    Warehouse(url, namespace=namespace).write_table(
        "treatment_journeys", pd.DataFrame({"n": range(rows)})
    )
    return namespace


def test_readers_see_a_delivery_only_once_switched(warehouse_url, monkeypatch):
    monkeypatch.setenv("RECONVICTION_KEEP_DELIVERIES", "2")
    base = Warehouse(warehouse_url)
    base.write_table("cohort_funnel", pd.DataFrame({"persons": [1]}))  # outlives deliveries
    first = _load(warehouse_url, "aaaa1111-0000", 3)
    assert not Warehouse(warehouse_url).table_exists("treatment_journeys")
    with pytest.raises(RuntimeError, match="lacks linked_offences"):
        switch_delivery(base, first, "2009-10-31", "v1", ["treatment_journeys",
                                                          "linked_offences"])
    assert not Warehouse(warehouse_url).table_exists("treatment_journeys")
    switch_delivery(base, first, "2009-10-31", "v1", ["treatment_journeys"])
    reader = Warehouse(warehouse_url)
    assert reader.row_count("treatment_journeys") == 3
    assert reader.row_count("cohort_funnel") == 1  # base tables still found
    # a refresh sees only its own schema, never the delivery in use
    second = _load(warehouse_url, "bbbb2222-0000", 5)
    assert not Warehouse(warehouse_url, namespace=namespace_for("cccc")).table_exists(
        "treatment_journeys")
    pinned = Warehouse(warehouse_url, delivery=first)
    switch_delivery(base, second, "2010-10-31", "v2", ["treatment_journeys"])
    assert Warehouse(warehouse_url).row_count("treatment_journeys") == 5
    assert pinned.row_count("treatment_journeys") == 3  # a run pinned before keeps its own
    # an abandoned refresh's schema and the deliveries beyond the kept two are pruned
    abandoned = _load(warehouse_url, "dddd4444-0000", 7)
    third = _load(warehouse_url, "eeee5555-0000", 9)
    dropped = switch_delivery(base, third, "2011-10-31", "v3", ["treatment_journeys"])
    assert dropped == sorted([first, abandoned])
    assert loaded_deliveries(base)["extract_date"].tolist() == ["2011-10-31", "2010-10-31"]
    assert Warehouse(warehouse_url, delivery=second).row_count("treatment_journeys") == 5
