"""The code location's executor (the UI's and the daemon's): each step in a process of its
own, forked from a server that imported the code location once, and each step's memory
figure that process's own, sampled by a thread of its own."""

import os
import threading

import dagster as dg
import numpy as np
import pandas as pd

from dagster_project.orchestration.jobs import STEP_EXECUTOR
from dagster_project.orchestration.metadata import table_metadata

BIG_MB = 300


def _facts() -> dict:
    return {"pid": dg.MetadataValue.int(os.getpid()),
            "parent": dg.MetadataValue.int(os.getppid()),
            "sampling": dg.MetadataValue.bool(
                any(t.name == "step-memory" for t in threading.enumerate()))}


@dg.asset
def big_step() -> dg.MaterializeResult:
    block = np.ones(BIG_MB * 2**20 // 8)  # touched, so resident
    metadata = table_metadata(pd.DataFrame({"total": [block.sum()]}))
    return dg.MaterializeResult(metadata={**metadata, **_facts()})


@dg.asset(deps=[big_step])
def small_step() -> dg.MaterializeResult:
    metadata = table_metadata(pd.DataFrame({"code": [1, 2, 3]}))
    return dg.MaterializeResult(metadata={**metadata, **_facts()})


def two_steps() -> dg.JobDefinition:
    defs = dg.Definitions(assets=[big_step, small_step],
                          jobs=[dg.define_asset_job("two_steps")], executor=STEP_EXECUTOR)
    return defs.resolve_job_def("two_steps")


def test_steps_run_forked_in_processes_of_their_own(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.execute_job(dg.reconstructable(two_steps), instance=instance)
        assert result.success
        memory = {
            event.asset_key.to_user_string(): event.materialization.metadata
            for event in result.get_asset_materialization_events()
        }
        started = instance.get_records_for_run(
            result.run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTED).records
    big, small = memory["big_step"], memory["small_step"]
    pids = {big["pid"].value, small["pid"].value}
    assert len(pids) == 2 and os.getpid() not in pids
    assert len(started) == 2  # the multiprocess executor's workers, not in-process steps
    # forked by the forkserver, not spawned by the process that runs the executor (here)
    assert big["parent"].value == small["parent"].value != os.getpid()
    # a process of its own: the high-water mark, not the increase of a shared process
    assert big["peak_memory_mb"].value >= BIG_MB
    assert small["peak_memory_mb"].value < big["peak_memory_mb"].value - BIG_MB / 2
    # the forkserver imported the definitions, whose sampler thread a fork does not copy
    assert big["sampling"].value and small["sampling"].value
