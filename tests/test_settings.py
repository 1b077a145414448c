"""Settings are one typed object: whatever a value comes from (the environment, a launchpad
override in a real run, the CLI), it arrives converted and validated."""

from pathlib import Path

import dagster as dg
import pytest
from pydantic import ValidationError

from dagster_project.cli.main import main
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.settings import LINKAGE_METHODS, Settings

# a launchpad value for every field of SettingsResource, as the launchpad sends it
LAUNCHPAD = {
    "landing_dir": "/srv/deliveries/landing",
    "linkage_method": "deterministic",
    "count_cautions": True,
    "match_threshold": 0.9,
}


@dg.asset
def settings_seen(settings: SettingsResource) -> dict:
    seen = settings.get()
    return {name: getattr(seen, name) for name in LAUNCHPAD} | {
        # what failed before settings were typed: a path override is used as a path
        "landing_parent": seen.landing_dir.parent,
    }


def test_every_launchpad_override_arrives_typed(data_dir):
    assert set(LAUNCHPAD) == set(SettingsResource.model_fields), "a field without a case here"
    result = dg.materialize(
        [settings_seen], resources={"settings": SettingsResource()},
        run_config={"resources": {"settings": {"config": LAUNCHPAD}}},
    )
    seen = result.output_for_node("settings_seen")
    assert seen["landing_dir"] == Path("/srv/deliveries/landing")
    assert isinstance(seen["landing_dir"], Path)
    assert seen["landing_parent"] == Path("/srv/deliveries")
    assert seen["linkage_method"] == "deterministic" and type(seen["linkage_method"]) is str
    assert seen["count_cautions"] is True
    assert seen["match_threshold"] == 0.9 and type(seen["match_threshold"]) is float


def test_unset_overrides_keep_the_environment(data_dir):
    result = dg.materialize([settings_seen], resources={"settings": SettingsResource()})
    seen = result.output_for_node("settings_seen")
    assert seen["landing_dir"] == data_dir / "landing"
    assert seen["linkage_method"] == Settings().linkage_method


def test_a_linkage_method_outside_the_rules_is_refused_at_the_launchpad(data_dir):
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.materialize(
            [settings_seen], resources={"settings": SettingsResource()},
            run_config={"resources": {"settings": {"config": {"linkage_method": "fuzzy"}}}},
        )


def test_environment_values_are_converted_and_checked():
    settings = Settings.from_env({"RECONVICTION_LANDING_DIR": "/a/b",
                                  "RECONVICTION_LINKAGE_METHOD": " Deterministic "})
    assert settings.landing_dir == Path("/a/b") and settings.linkage_method == "deterministic"
    assert set(LINKAGE_METHODS) == {"probabilistic", "deterministic"}
    with pytest.raises(ValidationError, match="linkage_method"):
        Settings.from_env({"RECONVICTION_LINKAGE_METHOD": "fuzzy"})
    with pytest.raises(ValidationError, match="absent_floor"):
        Settings(absent_floor=0.99)
    with pytest.raises(ValidationError):
        Settings(match_treshold=0.9)  # a misspelt setting is an error, not ignored


def test_with_validates_its_changes():
    assert Settings().with_(landing_dir="/x").landing_dir == Path("/x")
    with pytest.raises(ValidationError):
        Settings().with_(linkage_method="fuzzy")


def test_synth_writes_into_the_environments_landing_folder(data_dir):
    assert main(["synth", "--scale", "tiny", "--seed", "3"]) == 0
    assert [p.parent for p in (data_dir / "landing").iterdir()] == [data_dir / "landing"]
