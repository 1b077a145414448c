"""A delivery as it lands: the manifest and its verification, one scan of each file, the raw
load (every value as text), the column contracts, the code lists and the row accounting
(EXTRACTS.md). No Dagster."""
