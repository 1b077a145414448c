"""The warehouse: DataFrames in and out of DuckDB or PostgreSQL (`engine.py`), its SQL
identifiers and column types, the pointer to the delivery readers use, and the private files
it writes. No Dagster."""
