"""How a check becomes a Dagster asset check: a `Check` names its asset and rule set and
evaluates to `Outcome`s; `layer_checks` runs a layer's checks in one step (one Great
Expectations import per step process) and reports each as an `AssetCheckResult`.

A check of a cohort-year asset is partitioned like its asset, so it reads only the partition
just written (`context.partition_key`).

Exports `Check`, `Tables`, `layer_checks`, `check_result`.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from checks.rules import Outcome
from dagster_project.orchestration.io_manager import WarehouseResource
from dagster_project.orchestration.partitions import cohort_years
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.orchestration.step_memory import step_memory_metadata
from dagster_project.settings import Settings
from dagster_project.vocabulary.partition import PARTITION_COLUMN
from dagster_project.warehouse.engine import Warehouse


@dataclass
class Tables:
    """The warehouse as a check sees it: tables read once per step, and a cohort-year table
    read for the partition in hand only."""

    warehouse: Warehouse
    settings: Settings
    partition: str | None = None
    _cache: dict = field(default_factory=dict)

    def read(self, name: str, partition: str | None = None, columns=None) -> pd.DataFrame:
        """The table (only `columns`, if given) for `partition` or the one in hand."""
        key = (name, partition or self.partition, tuple(columns) if columns else None)
        if key not in self._cache:
            where = (PARTITION_COLUMN, key[1]) if key[1] and self.partitioned(name) else None
            self._cache[key] = self.warehouse.read_table(name, partition=where, columns=columns)
        return self._cache[key]

    def forget(self) -> None:
        """Drop the tables read so far: a national staged offences table is gigabytes, and
        the checks of the next asset read other tables."""
        self._cache.clear()

    def columns(self, name: str) -> list[str]:
        return list(self.warehouse.columns(name))

    def partitioned(self, name: str) -> bool:
        return PARTITION_COLUMN in self.warehouse.columns(name)


@dataclass(frozen=True)
class Check:
    """One asset check: `evaluate(tables)` gives its outcomes. Blocking checks guard a
    contract (ERROR, downstream stops); the others warn."""

    asset: str
    name: str
    description: str
    evaluate: Callable[[Tables], list[Outcome]]
    blocking: bool = True
    deps: tuple[str, ...] = ()


def _summary(outcomes: list[Outcome]) -> str:
    failed = [o for o in outcomes if not o.passed]
    if not failed:
        return f"all {len(outcomes)} rules passed"
    return "FAILED: " + "; ".join(f"{o.rule} ({o.failing_rows} rows)" for o in failed)


def _table(outcomes: list[Outcome]) -> str:
    lines = ["| rule | passed | failing rows | examples (positions) | observed |",
             "|---|---|---|---|---|"]
    for o in outcomes:
        examples = ", ".join(o.examples) or "–"
        lines.append(f"| {o.rule} | {o.passed} | {o.failing_rows} | {examples} | {o.observed} |")
    return "\n".join(lines)


def check_result(check: Check, outcomes: list[Outcome], extra: dict | None = None):
    """The check's result: the rules, failing-row counts and up to 10 positions per rule
    (file:line or person_key), never a value."""
    failed = [o for o in outcomes if not o.passed]
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(check.asset),
        check_name=check.name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
        description=_summary(outcomes),
        metadata={
            "failed_rules": len(failed),
            "failing_rows": sum(o.failing_rows for o in failed),
            "rules": dg.MetadataValue.md(_table(outcomes)),
            **({"first_failure": failed[0].rule} if failed else {}),
            # the check step's own memory, as assets record theirs
            **step_memory_metadata(),
            **(extra or {}),
        },
    )


def _specs(checks: list[Check], partitioned: bool) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            c.name, asset=c.asset, description=c.description, blocking=c.blocking,
            additional_deps=[d for d in c.deps if d != c.asset],
            partitions_def=cohort_years if partitioned else None,
        )
        for c in checks
    ]


def layer_checks(name: str, checks: list[Check], partitioned: bool = False):
    """One multi-asset check running `checks` (assets of one stage, none upstream of another:
    a blocking check may not wait for its own downstream)."""
    by_key = {dg.AssetCheckKey(dg.AssetKey(c.asset), c.name): c for c in checks}
    with warnings.catch_warnings():
        # partitioned checks are a preview feature of Dagster 1.13, used knowingly
        warnings.simplefilter("ignore", dg.PreviewWarning)
        specs = _specs(checks, partitioned)

    @dg.multi_asset_check(name=name, specs=specs, can_subset=True)
    def _checks(context: dg.AssetCheckExecutionContext, settings: SettingsResource,
                warehouse: WarehouseResource):
        tables = Tables(warehouse.warehouse(), settings.get(),
                        context.partition_key if partitioned else None)
        asset_in_hand = None
        # sorted by asset, so that each asset's tables are read once and then let go
        for key in sorted(context.selected_asset_check_keys, key=str):
            if key.asset_key != asset_in_hand:
                tables.forget()
                asset_in_hand = key.asset_key
            check = by_key[key]
            outcomes = check.evaluate(tables)
            result = check_result(check, outcomes)
            if not result.passed:
                context.log.warning(f"{key.to_user_string()}: {result.description}")
            yield result

    return _checks
