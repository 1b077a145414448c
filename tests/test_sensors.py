"""The delivery sensor on real landing folders: complete, incomplete, already seen."""

import shutil

import dagster as dg
import pytest

from dagster_project.orchestration.resources import SettingsResource
from dagster_project.orchestration.sensors import delivery_sensor
from dagster_project.synth import SynthConfig, generate_delivery


@pytest.fixture(scope="module")
def tiny_delivery(tmp_path_factory):
    landing = tmp_path_factory.mktemp("synth") / "landing"
    return generate_delivery(SynthConfig.for_scale("tiny"), out=landing, seed=3)


def _tick(cursor=None):
    # an instance of its own, as the daemon always passes one (and one the test disposes of)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"settings": SettingsResource()}
        )
        return delivery_sensor(context), context


def test_new_complete_delivery_requests_a_refresh_once(data_dir, tiny_delivery):
    shutil.copytree(tiny_delivery, data_dir / "landing" / tiny_delivery.name)
    result, context = _tick()
    assert isinstance(result, dg.RunRequest)
    assert result.run_key == f"delivery-{tiny_delivery.name}"
    assert context.cursor == tiny_delivery.name
    again, _ = _tick(cursor=context.cursor)
    assert isinstance(again, dg.SkipReason)


def test_incomplete_delivery_is_skipped_with_its_reason(data_dir, tiny_delivery):
    target = data_dir / "landing" / tiny_delivery.name
    shutil.copytree(tiny_delivery, target)
    (target / "pnc_aliases.csv").unlink()
    result, context = _tick()
    assert isinstance(result, dg.SkipReason)
    assert "pnc_aliases.csv" in result.skip_message
    assert context.cursor is None
