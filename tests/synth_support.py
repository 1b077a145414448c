"""What the generator's tests share: small deliveries made once per module, and readers of
their files and truth."""

import re

import pandas as pd

from dagster_project.synth import SynthConfig, generate_delivery, truth_dir

EXTRACT_DATE = "2009-10-31"
NDTMS_DATES = ["DOB", "REFLD", "TRIAGED", "MODST", "MODEND", "DISD"]
PNC_DATES = {
    "pnc_nominals.csv": ["DOB"],
    "pnc_aliases.csv": ["DOB"],
    "pnc_offences.csv": ["OFFENCE_START", "OFFENCE_END", "OUTCOME_DATE"],
}
PNCID = re.compile(r"^\d{4}/\d{7}[A-Z]$")


def delivery_of(tmp_path_factory, scale: str):
    out = tmp_path_factory.mktemp(scale) / "landing"
    return generate_delivery(SynthConfig.for_scale(scale), out=out, seed=7)


def read(delivery, name) -> pd.DataFrame:
    return pd.read_csv(delivery / name, dtype=str, keep_default_na=False)


def planted(delivery) -> pd.DataFrame:
    return pd.read_csv(truth_dir(delivery.parent, delivery.name) / "planted_rows.csv")


def valid(delivery, name) -> pd.DataFrame:
    """The file's rows less those planted to be rejected (index = line number)."""
    table = read(delivery, name)
    table.index = table.index + 2
    rows = planted(delivery)
    rejected = rows[(rows["file"] == name) & rows["rejected"]]["line"]
    return table.drop(index=rejected)


def truth(delivery, name) -> pd.DataFrame:
    return pd.read_parquet(truth_dir(delivery.parent, delivery.name) / name)
