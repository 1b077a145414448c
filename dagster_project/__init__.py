"""reconviction: convictions before and after starting drug treatment (NDTMS ↔ PNC).

The package holds the domain logic as plain functions over DataFrames (no Dagster
imports outside `definitions`, `resources`, `io_manager`, `sensors` and `cli`), so that
every rule of METHOD.md can be tested on tiny frames.
"""
