"""The production deployment on PostgreSQL: the Dagster instance of deploy/production/dagster.yaml
(run and event storage in PostgreSQL, queued runs with a limit) and the warehouse in the same
server; a refresh and a cohort year materialised, and the schedule and sensor reading the
instance's record of them."""

import shutil
import uuid
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from dagster_project.cli.runs import execute_job, failure_messages
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.orchestration.schedules import yearly_cohort_year_request
from dagster_project.orchestration.sensors import delivery_sensor
from dagster_project.settings import Settings
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.warehouse.engine import Warehouse

PRODUCTION_YAML = Path(__file__).parents[1] / "deploy" / "production" / "dagster.yaml"

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def fresh_database(postgres_url):
    """A database of its own on the test server (the session's database is shared with other
    tests, and the Dagster storage creates tables of its own)."""
    server = sa.make_url(postgres_url)
    name = f"reconviction_deploy_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_cohort_year_with_instance_and_warehouse_on_postgres(
    data_dir, fresh_database, monkeypatch
):
    url = fresh_database
    for variable, value in {
        "DAGSTER_PG_HOST": url.host, "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USER": url.username, "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": url.database,
        "RECONVICTION_WAREHOUSE_URL": url.render_as_string(hide_password=False),
        "RECONVICTION_PSEUDONYM_KEY": "test-key",
        "RECONVICTION_LINKAGE_METHOD": "deterministic",
    }.items():
        monkeypatch.setenv(variable, value)
    home = data_dir / "dagster_home"
    shutil.copy(PRODUCTION_YAML, home / "dagster.yaml")
    generate_delivery(SynthConfig.for_scale("tiny"), out=data_dir / "landing", seed=5)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 8

        refresh = execute_job("refresh_delivery", instance)
        assert refresh.success, failure_messages(refresh)
        # the delivery sensor reads the refresh from the PostgreSQL event log: the first
        # delivery makes every cohort year up to 2006-07 mature
        context = dg.build_sensor_context(
            instance=instance, cursor="2009-10-31", resources={"settings": SettingsResource()}
        )
        requests = delivery_sensor(context)
        assert [r.partition_key for r in requests] == ["2004-05", "2005-06", "2006-07"]

        cohort_year = execute_job("cohort_year", instance, partition_key="2006-07")
        assert cohort_year.success, failure_messages(cohort_year)
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(dg.AssetKey("outcome_table"), asset_partitions=["2006-07"]),
            limit=1,
        ).records
        assert records and records[0].run_id == cohort_year.run_id
        # the schedule's tick sees the year done from this delivery and does not repeat it
        skip = yearly_cohort_year_request(instance, Settings.from_env(), date(2009, 12, 1))
        assert isinstance(skip, dg.SkipReason) and "already done" in skip.skip_message

    warehouse = Warehouse(url.render_as_string(hide_password=False))
    assert warehouse.backend == "postgresql"
    assert warehouse.partitions("outcome_table", "cohort_year") == ["2006-07"]
    assert warehouse.row_count("cohort_members", ("cohort_year", "2006-07")) > 0
    # Dagster's own tables live beside the warehouse's in this database
    runs = warehouse.query("SELECT count(*) AS n FROM runs")["n"].iloc[0]
    assert runs == 2
