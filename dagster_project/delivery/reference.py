"""The code lists of the raw file contract, shipped as package data (facts, not code).

Exports `REFERENCE_TABLES` and `load_reference`.
"""

from importlib.resources import files

import pandas as pd

# table name -> (file, key column). Every column is read as text: codes such as `01` or `3201`
# must keep their spelling.
REFERENCE_TABLES = {
    "offence_codes": ("offence_codes.csv", "code"),
    "drug_codes": ("drug_codes.csv", "code"),
    "referral_sources": ("referral_sources.csv", "code"),
    "discharge_reasons": ("discharge_reasons.csv", "code"),
    "ethnicity_codes": ("ethnicity_codes.csv", "ndtms_code"),
}


def load_reference(name: str) -> pd.DataFrame:
    """One code list as a DataFrame of text columns (`trigger` in offence_codes as bool)."""
    filename, key = REFERENCE_TABLES[name]
    with files(__package__ + ".reference_data").joinpath(filename).open(encoding="utf-8") as f:
        table = pd.read_csv(f, dtype=str, keep_default_na=False)
    if table[key].duplicated().any():
        raise ValueError(f"reference table {filename} repeats a {key}")
    if name == "offence_codes":
        table["trigger"] = table["trigger"].eq("1")
    return table
