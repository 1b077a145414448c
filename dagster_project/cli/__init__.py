"""The `reconviction` command (`main.py`): its Dagster session, the code location's jobs run
in process (`runs.py`), backfills, and the refusals it prints as one plain line."""
