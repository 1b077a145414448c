"""End to end through Dagster itself: reference → raw → staging on a small synthetic delivery."""

import shutil

import dagster as dg
import pytest

from dagster_project.cli.runs import execute_job, failure_messages
from dagster_project.delivery.schemas import (
    DELIVERY_FILES,
    RAW_TABLES,
    REJECTS_TABLE,
    STAGED_TABLES,
)
from dagster_project.settings import Settings
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.warehouse.engine import Warehouse


@pytest.fixture(autouse=True)
def nta_rule(monkeypatch):
    # these tests are about the delivery stages; the NTA rule keeps linkage out of the way
    monkeypatch.setenv("RECONVICTION_LINKAGE_METHOD", "deterministic")


@pytest.fixture(scope="module")
def tiny_delivery(tmp_path_factory):
    landing = tmp_path_factory.mktemp("synth") / "landing"
    return generate_delivery(SynthConfig.for_scale("tiny"), out=landing, seed=11)


def _materialize_delivery(instance):
    return execute_job("refresh_delivery", instance)


def test_definitions_load():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"offence_codes", "raw_pnc_offences", "staged_ndtms_episodes", REJECTS_TABLE} <= keys
    assert defs.resolve_job_def("refresh_delivery") is not None


def test_the_comparison_pool_histories_need_no_linkage_and_yield_to_it():
    # they run beside the linkage model only while nothing upstream of them is linkage
    from dagster_project.definitions import defs
    from dagster_project.vocabulary.groups import LINKAGE_GROUP

    graph = defs.resolve_asset_graph()
    convictions = dg.AssetKey("comparison_convictions")
    upstream = graph.upstream_key_iterator(convictions)
    assert not {k for k in upstream if graph.get(k).group_name == LINKAGE_GROUP}
    persons = graph.get(dg.AssetKey("comparison_persons"))
    assert dg.AssetKey("client_links") in persons.parent_keys
    job = defs.resolve_job_def("refresh_delivery")
    priority = {n.name: int(n.definition.tags.get("dagster/priority", 0))
                for n in job.graph.node_dict.values()}
    assert priority["comparison_histories"] < priority["client_link_candidates"]
    assert priority["comparison_persons"] < priority["linked_offences"]


def test_refresh_materialises_and_accounts_for_every_row(data_dir, tiny_delivery):
    shutil.copytree(tiny_delivery, data_dir / "landing" / tiny_delivery.name)
    with dg.instance_for_test() as instance:
        result = _materialize_delivery(instance)
        assert result.success
        checks = [
            c for c in result.get_asset_check_evaluations() if c.check_name == "row_accounting"
        ]
    assert len(checks) == len(DELIVERY_FILES)
    assert all(c.passed for c in checks)

    wh = Warehouse(Settings.from_env().warehouse_url)
    rejects = wh.read_table(REJECTS_TABLE)
    for f in DELIVERY_FILES:
        raw, staged = wh.row_count(RAW_TABLES[f]), wh.row_count(STAGED_TABLES[f])
        assert raw == staged + int((rejects["source_file"] == f).sum())
        assert raw > 0
    # the generator plants invalid rows, so the rejects path is exercised
    assert len(rejects) > 0


def test_corrupt_newer_delivery_is_skipped_and_broken_only_delivery_writes_nothing(
    data_dir, tiny_delivery
):
    landing = data_dir / "landing"
    shutil.copytree(tiny_delivery, landing / tiny_delivery.name)
    with dg.instance_for_test() as instance:
        assert _materialize_delivery(instance).success
    wh = Warehouse(Settings.from_env().warehouse_url)
    before = {t: wh.row_count(t) for t in RAW_TABLES.values()}

    # a newer delivery whose offences file disagrees with its manifest is not used
    newer = landing / "2099-01-31"
    shutil.copytree(tiny_delivery, newer)
    manifest = (newer / "manifest.json").read_text()
    (newer / "manifest.json").write_text(
        manifest.replace(tiny_delivery.name, newer.name)
    )
    with (newer / "pnc_offences.csv").open("a") as f:
        f.write("1999/0000001A,X,1,TH68010,2006-01-01,,,C,2006-02-01,,\n")
    with dg.instance_for_test() as instance:
        refused = _materialize_delivery(instance)
    # issue 12: refused out loud (no quiet fall-back to the older one), nothing switched
    assert not refused.success
    assert "newest delivery 2099-01-31 refused" in failure_messages(refused)[0]
    assert {t: wh.row_count(t) for t in RAW_TABLES.values()} == before

    # with only a malformed delivery left, the run fails and the warehouse keeps its tables
    shutil.rmtree(landing / tiny_delivery.name)
    with dg.instance_for_test() as instance:
        result = _materialize_delivery(instance)
    assert not result.success
    [message] = failure_messages(result)
    assert "DeliveryError" in message and "2099-01-31" in message
    assert {t: wh.row_count(t) for t in RAW_TABLES.values()} == before
