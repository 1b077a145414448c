"""Data-quality checks between every stage: Great Expectations suites defined in code
(`suites_delivery`, `suites_analysis`), reconciliations across stages (`reconcile`), soft
expectations that warn (`soft`), and the row accounting of staging (`accounting`).

Exports `all_asset_checks` (every check definition) and `defs`, holding them.
Great Expectations itself is imported only when a suite runs (`checks.ge_runner`).
"""

import dagster as dg

from checks.accounting import row_accounting_checks
from checks.layers import layer_definitions

all_asset_checks = [row_accounting_checks, *layer_definitions()]
defs = dg.Definitions(asset_checks=all_asset_checks)

__all__ = ["all_asset_checks", "defs"]
