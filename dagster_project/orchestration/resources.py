"""Resources: the run's settings and the warehouse, declared once and imported.

The launchpad speaks Dagster config (strings, numbers, booleans, enums); `SettingsResource`
hands what it receives to `Settings`, which converts and validates it, so an override arrives
as typed as the environment's value (a `landing_dir` override is a `Path`). The warehouse
resources take their URL from `Settings` too: one place for it, however a run is launched.

Exports `SettingsResource`, `LinkageMethodChoice`, `build_resources`, `defs`.
"""

from enum import Enum

import dagster as dg

from dagster_project.orchestration.io_manager import WarehouseIOManager, WarehouseResource
from dagster_project.settings import LINKAGE_METHODS, Settings

# the launchpad offers the linkage rules as a choice (Dagster config has enums, not Literal)
LinkageMethodChoice = Enum("LinkageMethodChoice", {m: m for m in LINKAGE_METHODS}, type=str)


class SettingsResource(dg.ConfigurableResource):
    """The run's `Settings`: the environment (METHOD.md §8), overridable per run in the
    launchpad. Unset fields keep the environment's or METHOD.md's default."""

    landing_dir: str | None = None
    linkage_method: LinkageMethodChoice | None = None
    count_cautions: bool | None = None
    match_threshold: float | None = None

    def get(self) -> Settings:
        """The settings of this run, validated (a bad override fails here, at the edge)."""
        overrides = {k: v for k, v in self.model_dump().items() if v is not None}
        if "linkage_method" in overrides:
            overrides["linkage_method"] = LinkageMethodChoice(overrides["linkage_method"]).value
        return Settings.from_env(**overrides)


def build_resources() -> dict:
    """Resource definitions for `Definitions` and for `materialize` in tests. The warehouse is
    the environment's (`Settings.warehouse_url`), read when a run starts (not at import)."""
    return {
        "settings": SettingsResource(),
        "warehouse": WarehouseResource(),
        "io_manager": WarehouseIOManager(),
    }


defs = dg.Definitions(resources=build_resources())
