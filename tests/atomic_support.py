"""Shared by the tests of issue 12 (a delivery is loaded whole or not at all): the `reconviction`
command in a real subprocess of its own process group, killed with SIGKILL once a given stage
has written its table, and the cohort-year tables a run leaves in the warehouse.

Exports `Env`, `cli`, `run_cohort_year_in_process`, `cohort_tables`, `assert_same_tables`,
`own_database`, `OLD`, `NEW`, `COHORT_YEAR`.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dagster_project.synth import SynthConfig, generate_delivery

COHORT_YEAR = "2006-07"
OLD, NEW = "2009-10-31", "2010-10-31"
# the published tables and the members behind them (cohort_year partition)
COHORT_TABLES = ("cohort_funnel", "cohort_members", "outcome_table")
_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Env:
    """An isolated data folder: landing, warehouse (DuckDB file or a PostgreSQL URL), home."""

    base: Path
    warehouse_url: str

    @property
    def landing(self) -> Path:
        return self.base / "landing"

    @property
    def home(self) -> Path:
        return self.base / "dagster_home"

    def variables(self) -> dict[str, str]:
        return {
            **os.environ,
            "RECONVICTION_LANDING_DIR": str(self.landing),
            "RECONVICTION_WAREHOUSE_URL": self.warehouse_url,
            "RECONVICTION_OUTPUT_DIR": str(self.base / "reports"),
            "RECONVICTION_LINKAGE_METHOD": "deterministic",
            "RECONVICTION_PSEUDONYM_KEY": "issue-12-test-key",
            "DAGSTER_HOME": str(self.home),
        }

    def land(self, extract_date: str, seed: int) -> Path:
        config = replace(SynthConfig.for_scale("tiny"), extract_date=extract_date)
        return generate_delivery(config, out=self.landing, seed=seed)


def cli(env: Env, *args: str, kill_after: str | None = None, timeout: float = 600):
    """Run `reconviction <args>`; with `kill_after`, SIGKILL its process group as soon as the
    asset of that name has been materialised. Returns (exit code, output, killed)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli.main", *args], cwd=_ROOT, env=env.variables(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    killed = False
    if kill_after is not None:
        killed = _kill_when_written(env, process, kill_after, timeout)
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output, killed


def _kill_when_written(env: Env, process: subprocess.Popen, asset: str, timeout: float) -> bool:
    import dagster as dg

    deadline = time.monotonic() + timeout
    key = dg.AssetKey(asset)
    # the instance exists already (an earlier clean run made it): polling it cannot race
    # the command's own first initialisation
    with dg.DagsterInstance.from_config(str(env.home)) as instance:
        before = _latest_run(instance, key)
        while process.poll() is None and time.monotonic() < deadline:
            if _latest_run(instance, key) not in (None, before):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.1)
    return False


def _latest_run(instance, key) -> str | None:
    records = instance.fetch_materializations(key, limit=1).records
    return records[0].run_id if records else None


def run_cohort_year_in_process(env: Env) -> None:
    """The cohort year of the delivery in use, as `reconviction backfill` runs it (no refresh),
    in this process (a subprocess would add seconds of imports)."""
    import dagster as dg
    import pytest

    from dagster_project.cli.runs import execute_job, failure_messages

    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.variables().items():
            patch.setenv(name, value)
        with dg.DagsterInstance.from_config(str(env.home)) as instance:
            result = execute_job("cohort_year", instance, partition_key=COHORT_YEAR)
    assert result.success, failure_messages(result)


def cohort_tables(warehouse_url: str) -> dict[str, pd.DataFrame]:
    """The cohort year's tables as readers see them, in a canonical row order."""
    from dagster_project.warehouse.engine import Warehouse

    wh = Warehouse(warehouse_url)
    out = {}
    for name in COHORT_TABLES:
        table = wh.read_table(name, partition=("cohort_year", COHORT_YEAR))
        table = table[sorted(table.columns)]
        out[name] = table.sort_values(list(table.columns)).reset_index(drop=True)
    return out


def assert_same_tables(found: dict, expected: dict) -> None:
    for name, table in expected.items():
        pd.testing.assert_frame_equal(
            found[name], table, check_dtype=False, check_exact=False, rtol=1e-9, obj=name
        )


@contextmanager
def own_database(postgres_url: str, prefix: str):
    """The URL of a new database on the test server, dropped afterwards: a warehouse of its
    own, since each refresh creates schemas of its own."""
    server = sa.make_url(postgres_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
