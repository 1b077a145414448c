"""Data-quality checks between every stage: Great Expectations suites defined in code
(`suites_delivery`, `suites_analysis`), reconciliations across stages (`reconcile`), soft
expectations that warn (`soft`), and the row accounting of staging (`accounting`).

Exports `all_asset_checks`: every check definition, for `dg.Definitions(asset_checks=...)`.
Great Expectations itself is imported only when a suite runs (`checks.ge_runner`).
"""

from checks.accounting import row_accounting_checks
from checks.layers import layer_definitions

all_asset_checks = [row_accounting_checks, *layer_definitions()]

__all__ = ["all_asset_checks"]
