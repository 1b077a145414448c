"""The `reconviction` command (`main.py`): its Dagster session, what it shows while a job
runs, and the refusals it prints as one plain line."""
