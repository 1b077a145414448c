"""DuckDB spill folders left by a killed process (SIGKILL skips every `finally`) are removed
by the next command; a live process's folder, and anything not named like a spill folder,
are left alone."""

import os
import subprocess
import sys

from dagster_project.orchestration.stale_runs import remove_orphaned_spill_folders
from dagster_project.warehouse.connection import SPILL_PREFIX


def _gone_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_folders_of_gone_processes_are_removed(tmp_path):
    gone = _gone_pid()
    orphans = [tmp_path / f"{SPILL_PREFIX}{gone}", tmp_path / f"{SPILL_PREFIX}{gone}-k3x9"]
    kept = [tmp_path / f"{SPILL_PREFIX}{os.getpid()}", tmp_path / f"{SPILL_PREFIX}{os.getpid()}-a",
            tmp_path / f"{SPILL_PREFIX}scratch", tmp_path / f"other-{gone}"]
    for folder in orphans + kept:
        folder.mkdir()
        (folder / "duckdb_temp_block-1.block").write_bytes(b"spilled")
    a_file = tmp_path / f"{SPILL_PREFIX}{gone}.log"  # a file of that name is not a folder
    a_file.write_text("x")

    removed = remove_orphaned_spill_folders(tmp_path)

    assert sorted(removed) == sorted(orphans)
    assert not any(folder.exists() for folder in orphans)
    assert all(folder.exists() for folder in kept) and a_file.exists()
