"""Dagster's side of the warehouse: an IO manager that stores asset DataFrames as tables, and a
resource for assets that query the warehouse directly.

Exports `WarehouseIOManager`, `WarehouseResource`, `table_name`,
`DELIVERY_TAG`.

An asset's table is named by its key path joined with "_" (`["cohort", "members"]` →
`cohort_members`). A refresh run (job `refresh_delivery`) writes into a schema of its own, which
becomes the one readers use only when its last step switches the pointer
(`delivery_pointer.py`); every other run reads the delivery current when its first step ran,
and writes the base schema. A partitioned asset writes its cohort year's rows (tagged
`cohort_year`), replacing only that partition; an unpartitioned asset replaces its whole table.
"""

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from dagster_project.settings import Settings
from dagster_project.vocabulary.job_names import REFRESH_JOB
from dagster_project.vocabulary.partition import PARTITION_COLUMN
from dagster_project.warehouse.delivery_pointer import namespace_for
from dagster_project.warehouse.engine import Warehouse

# the delivery schema a run reads, fixed by its first step, so that every step of a cohort
# year reads one delivery even when a refresh switches meanwhile
DELIVERY_TAG = "reconviction/delivery_schema"


def _run_warehouse(lock_timeout: float, context) -> Warehouse:
    """The warehouse as a run sees it: a refresh run writes and reads its own schema; any
    other run reads the delivery pinned for the run (pinned by its first step)."""
    # read at run time, not when the code location is imported, so that one loaded
    # definition follows the environment of the process that runs it
    url = Settings.from_env().warehouse_url
    run = getattr(context, "dagster_run", None) if context is not None else None
    if run is None:
        return Warehouse(url, lock_timeout=lock_timeout)
    if run.job_name == REFRESH_JOB:
        return Warehouse(url, lock_timeout, namespace=namespace_for(run.root_run_id or run.run_id))
    instance = context.instance
    tags = (instance.get_run_by_id(run.run_id) or run).tags if instance else run.tags
    pinned = tags.get(DELIVERY_TAG)
    if pinned is None:
        warehouse = Warehouse(url, lock_timeout)
        path = warehouse.search_path()
        pinned = path[0] if len(path) > 1 else ""  # "": no refresh has switched yet
        if instance is not None:
            instance.add_run_tags(run.run_id, {DELIVERY_TAG: pinned})
    return Warehouse(url, lock_timeout, delivery=pinned or None)


def table_name(asset_key: dg.AssetKey) -> str:
    """The warehouse table of an asset."""
    return "_".join(asset_key.path)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores pandas DataFrames in the warehouse of `Settings.warehouse_url`
    (RECONVICTION_WAREHOUSE_URL or the embedded default, read when the run uses it)."""

    lock_timeout_seconds: float = 600.0
    _context = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._context = context

    def _warehouse(self) -> Warehouse:
        return _run_warehouse(self.lock_timeout_seconds, self._context)

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame | None) -> None:
        # Assets that return MaterializeResult, or write the warehouse themselves, hand us None.
        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"WarehouseIOManager stores pandas DataFrames, not {type(obj).__name__}"
            )
        table = table_name(context.asset_key)
        partition = None
        if context.has_asset_partitions:
            keys = context.asset_partition_keys
            if len(keys) != 1:
                # One DataFrame cannot say which rows belong to which key; a backfill must run
                # one partition per run (the default for these assets).
                raise ValueError(
                    f"{table}: cannot store one output for {len(keys)} partitions "
                    f"({keys[0]}…{keys[-1]}); run a single partition per run"
                )
            partition = (PARTITION_COLUMN, keys[0])
        rows = self._warehouse().write_table(table, obj, partition=partition)
        where = f" partition {partition[1]}" if partition else ""
        context.log.info(f"wrote {rows} rows to warehouse table {table}{where}")
        context.add_output_metadata({"dagster/table_name": table, "dagster/row_count": rows})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = table_name(context.asset_key)
        partition = None
        if context.has_asset_partitions:
            # The partitions of the upstream that this step depends on: the matching cohort
            # year for a partitioned downstream, all of them for an unpartitioned one.
            partition = (PARTITION_COLUMN, list(context.asset_partition_keys))
        # an input may ask for a few columns of a wide table (AssetIn(metadata={"columns": …}))
        columns = (context.definition_metadata or {}).get("columns")
        df = self._warehouse().read_table(table, partition=partition, columns=columns)
        context.log.info(f"read {len(df)} rows from warehouse table {table}")
        return df


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse, for assets that run SQL on it directly (joins, Splink, reports)."""

    lock_timeout_seconds: float = 600.0
    _context = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._context = context

    def warehouse(self) -> Warehouse:
        """The settings' warehouse as this run sees it (see `_run_warehouse`); cheap to
        create, it opens connections only per operation."""
        return _run_warehouse(self.lock_timeout_seconds, self._context)


