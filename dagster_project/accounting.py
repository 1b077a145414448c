"""Row accounting: every delivered row is staged or rejected (METHOD.md §9).

Exports `row_accounting`.
"""

import pandas as pd


def row_accounting(raw: dict[str, int], staged: dict[str, int], rejected: dict[str, int]):
    """Per file: raw, staged and rejected rows and whether raw = staged + rejected."""
    table = pd.DataFrame(
        {
            "file": list(raw),
            "raw": [raw[f] for f in raw],
            "staged": [staged.get(f, 0) for f in raw],
            "rejected": [rejected.get(f, 0) for f in raw],
        }
    )
    table["unaccounted"] = table["raw"] - table["staged"] - table["rejected"]
    table["balanced"] = table["unaccounted"] == 0
    return table
