"""The column that carries a row's cohort year, the partition of every per-year table
(METHOD.md §8: "Every row carries `cohort_year`").

Exports `PARTITION_COLUMN`.
"""

PARTITION_COLUMN = "cohort_year"
