"""The checks in real Dagster runs: a clean delivery passes every blocking check; each
defective delivery stops where it should, naming the defect, and writes nothing downstream;
a cohort-year check reads only its own partition."""

import shutil

import dagster as dg
import pytest

from checks.layers import LAYERS, PARTITIONED_LAYERS
from dagster_project.cli.runs import failure_messages
from dagster_project.settings import Settings
from dagster_project.warehouse.engine import Warehouse
from tests.checks_support import COHORT_YEAR, check_definitions, clean_run, run_job, tiny_delivery  # noqa: F401  (clean_run is a fixture)
from tests.defective_deliveries import DEFECTS, make_defective

DOWNSTREAM_OF_STAGING = ["client_identities", "treatment_episodes", "client_links"]


def _by_key(result):
    return {e.asset_check_key.to_user_string(): e for e in result.get_asset_check_evaluations()}


def test_clean_delivery_passes_every_blocking_check(clean_run):  # noqa: F811
    _, _, refresh, year = clean_run
    assert refresh.success and year.success
    evaluations = {**_by_key(refresh), **_by_key(year)}
    expected = {f"{c.asset}:{c.name}" for layer in (LAYERS, PARTITIONED_LAYERS)
                for checks in layer.values() for c in checks}
    assert expected <= set(evaluations)
    failed_blocking = [k for k, e in evaluations.items()
                       if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert failed_blocking == []
    # cohort-year checks are evaluated for the partition just written
    assert _by_key(year)["cohort_members:contract"].partition == COHORT_YEAR


@pytest.fixture(scope="module")
def clean_delivery(tmp_path_factory):
    return tiny_delivery(tmp_path_factory.mktemp("defects"))


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_defective_delivery_stops_at_the_right_place(data_dir, clean_delivery, defect):
    make_defective(clean_delivery, data_dir / "landing", defect)
    with dg.instance_for_test() as instance:
        result = run_job(check_definitions(), "refresh_delivery", instance)
    stop = DEFECTS[defect][1]
    wh = Warehouse(Settings.from_env().warehouse_url)
    if stop.step is None:  # row-level defects are rejects by design (METHOD.md §9)
        assert result.success, failure_messages(result)
        assert wh.row_count("staging_rejects") > 0
        return
    assert not result.success
    [message] = failure_messages(result)
    assert message.startswith(stop.step) and all(w in message for w in stop.words), message
    if stop.check:
        evaluation = _by_key(result)[stop.check]
        assert not evaluation.passed and "rejected rows" in evaluation.description
    # nothing downstream of the stop was written
    assert not any(wh.table_exists(t) for t in DOWNSTREAM_OF_STAGING)


def test_cohort_checks_read_only_their_partition(data_dir, clean_run):  # noqa: F811
    env, clean, _, _ = clean_run
    shutil.copytree(clean, data_dir / "landing" / clean.name)
    defs = check_definitions()
    wh = Warehouse(Settings.from_env().warehouse_url)
    with dg.instance_for_test() as instance:
        assert run_job(defs, "refresh_delivery", instance).success
        assert run_job(defs, "cohort_year", instance, partition_key=COHORT_YEAR).success
        # another cohort year with a broken contract (a repeated person_key)
        members = wh.read_table("cohort_members", partition=("cohort_year", COHORT_YEAR))
        broken = members.drop(columns="cohort_year")
        wh.write_table("cohort_members", broken.iloc[[0, 0]], partition=("cohort_year",
                                                                          "2005-06"))
        again = run_job(defs, "cohort_year", instance, partition_key=COHORT_YEAR)
    assert again.success and _by_key(again)["cohort_members:contract"].passed
