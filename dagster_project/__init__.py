"""reconviction: convictions before and after starting drug treatment (NDTMS ↔ PNC).

Its folders say what they hold: Dagster's side in `orchestration/` and the command in `cli/`
(the only ones, with `definitions.py`, that import Dagster); the warehouse, the delivery and
the analyses in `warehouse/`, `delivery/`, `analysis/`; the domain logic as plain functions
over DataFrames in `staging/`, `linkage/`, `cohort/`, `comparison/`, `report/`, so that every
rule of METHOD.md can be tested on tiny frames (docs/ARCHITECTURE.md).
"""
