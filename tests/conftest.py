"""Shared fixtures: a throw-away PostgreSQL database, an isolated data folder, and a guard
that fails the run if any test wrote into the checkout's `data/`.

PostgreSQL tests skip with the reason on a machine without the server, but CI sets
RECONVICTION_REQUIRE_POSTGRES=1, which turns that skip into a failure.
"""

import os
import uuid

import pytest
import sqlalchemy as sa

from dagster_project.settings import project_data_dir
from tests.checkout_guard import changes, snapshot
from tests.synth_support import delivery_of

POSTGRES_SERVER_URL = os.environ.get(
    "RECONVICTION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_unavailable(reason: str):
    if os.environ.get("RECONVICTION_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here (RECONVICTION_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(f"no PostgreSQL server: {reason}")


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a fresh database on the test server, dropped after the session."""
    server = sa.make_url(POSTGRES_SERVER_URL)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"reconviction_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # connection refused, auth, missing driver
        admin.dispose()
        _postgres_unavailable(f"{server.render_as_string(hide_password=True)}: {exc}")
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def checkout_data_untouched(tmp_path_factory):
    """The user's `data/` (demo delivery, warehouse, reports, runs) is the same after the
    suite as before it; reports default to a temporary folder so a test that forgets to set
    RECONVICTION_OUTPUT_DIR cannot overwrite the user's."""
    data = project_data_dir()
    before = snapshot(data)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RECONVICTION_OUTPUT_DIR", str(tmp_path_factory.mktemp("reports")))
        yield
    touched = changes(before, snapshot(data))
    if touched:
        pytest.fail(f"the tests changed {data}: " + "; ".join(touched[:20]), pytrace=False)


@pytest.fixture(autouse=True)
def no_stale_dagster_state_storage():
    """Each test starts without a current Dagster defs-state storage. Dagster keeps the one
    of the instance last entered in a context variable; an instance entered twice (a test
    sensor context built inside `with instance`) leaves it set after the instance is gone,
    and a later `materialize` in the same process then fails on the dead instance."""
    from dagster._core.storage.defs_state import base  # private: no public reset exists

    base._current_storage.set(None)
    yield
    base._current_storage.set(None)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An isolated data folder with the environment pointed at it (reports included)."""
    monkeypatch.setenv("RECONVICTION_OUTPUT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("RECONVICTION_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("RECONVICTION_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    return tmp_path


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path):
    """A warehouse URL for each backend: a fresh DuckDB file (in a folder that does not exist
    yet), or a fresh schema in the test PostgreSQL database."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'sub' / 'warehouse.duckdb'}"
        return
    server = sa.make_url(request.getfixturevalue("postgres_url"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    # The schema comes first on the search path, so the warehouse's tables land in it.
    yield server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# synthetic deliveries of the generator's tests (test_synth*.py), made once per module
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return delivery_of(tmp_path_factory, "tiny")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return delivery_of(tmp_path_factory, "demo")
