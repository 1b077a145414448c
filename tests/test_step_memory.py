"""`peak_memory_*` metadata is the step's own: run in one process, a small step after a big
one is not charged with the big one's memory (it was, as the process's high-water mark)."""

import dagster as dg
import numpy as np
import pandas as pd

from dagster_project.orchestration.metadata import table_metadata

BIG_MB = 400


@dg.asset
def big_table() -> dg.MaterializeResult:
    block = np.ones(BIG_MB * 2**20 // 8)  # touched, so resident
    frame = pd.DataFrame({"total": [block.sum()]})
    metadata = table_metadata(frame)  # while the block is still resident
    del block
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(deps=[big_table])
def small_table() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=table_metadata(pd.DataFrame({"code": [1, 2, 3]})))


def test_in_process_steps_record_their_own_increase():
    with dg.instance_for_test() as instance:
        result = dg.materialize([big_table, small_table], instance=instance)
    assert result.success
    memory = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    # in one process the figure is named for what it is: the increase during the step
    assert all("peak_memory_mb" not in m for m in memory.values())
    big = memory["big_table"]["peak_memory_increase_mb"].value
    small = memory["small_table"]["peak_memory_increase_mb"].value
    assert big >= BIG_MB * 0.9
    assert small < BIG_MB / 4


def test_outside_a_step_the_process_peak_is_recorded():
    assert table_metadata(pd.DataFrame({"a": [1]}))["peak_memory_mb"] > 0
