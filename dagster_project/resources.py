"""Resources: the run's settings and the warehouse, declared once and imported.

Exports `SettingsResource`, `build_resources`.
"""

import dagster as dg

from dagster_project.io_manager import WarehouseIOManager, WarehouseResource
from dagster_project.settings import Settings


class SettingsResource(dg.ConfigurableResource):
    """The run's `Settings`: the environment (METHOD.md §8), overridable per run in the
    launchpad. Unset fields keep the environment's or METHOD.md's default."""

    landing_dir: str | None = None
    linkage_method: str | None = None
    count_cautions: bool | None = None
    match_threshold: float | None = None

    def get(self) -> Settings:
        overrides = {k: v for k, v in self.model_dump().items() if v is not None}
        return Settings.from_env(**overrides)


def build_resources(warehouse_url: str | None = None) -> dict:
    """Resource definitions for `Definitions` and for `materialize` in tests. Without a URL
    the warehouse is the environment's, read when a run starts (not at import)."""
    return {
        "settings": SettingsResource(),
        "warehouse": WarehouseResource(url=warehouse_url),
        "io_manager": WarehouseIOManager(warehouse_url=warehouse_url),
    }
