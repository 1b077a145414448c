"""Staging: typed tables per METHOD.md §9, codes mapped through the reference tables, and
every delivered row that could not be staged kept as a reject with its file, line and reason
(rule and column only: no delivered value, since rejects are visible downstream).

Pure functions over DataFrames, vectorised for national scale.

Exports `stage_delivery`, `stage_ndtms_episodes`, `stage_pnc_nominals`, `stage_pnc_aliases`,
`stage_pnc_offences`, `unknown_code_counts`.
"""

import pandas as pd

from dagster_project.delivery.schemas import DELIVERY_FILES
from dagster_project.staging.codes import unknown_code_counts
from dagster_project.staging.ndtms import stage_ndtms_episodes
from dagster_project.staging.pnc import stage_pnc_aliases, stage_pnc_nominals, stage_pnc_offences
from dagster_project.staging.rules import empty_rejects


def stage_delivery(
    raws: dict[str, pd.DataFrame], refs: dict[str, pd.DataFrame]
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """All four files staged (nominals first: aliases and offences need them), and one
    rejects table for the delivery, in file order then line order."""
    staged, rejects = {}, {}
    staged["pnc_nominals.csv"], rejects["pnc_nominals.csv"] = stage_pnc_nominals(
        raws["pnc_nominals.csv"]
    )
    nominals = staged["pnc_nominals.csv"]
    staged["pnc_aliases.csv"], rejects["pnc_aliases.csv"] = stage_pnc_aliases(
        raws["pnc_aliases.csv"], nominals
    )
    staged["pnc_offences.csv"], rejects["pnc_offences.csv"] = stage_pnc_offences(
        raws["pnc_offences.csv"], nominals, refs["offence_codes"]
    )
    staged["ndtms_episodes.csv"], rejects["ndtms_episodes.csv"] = stage_ndtms_episodes(
        raws["ndtms_episodes.csv"], refs
    )
    ordered = [rejects[f] for f in DELIVERY_FILES if len(rejects[f])]
    all_rejects = pd.concat(ordered, ignore_index=True) if ordered else empty_rejects()
    return {f: staged[f] for f in DELIVERY_FILES}, all_rejects


__all__ = [
    "stage_delivery",
    "stage_ndtms_episodes",
    "stage_pnc_aliases",
    "stage_pnc_nominals",
    "stage_pnc_offences",
    "unknown_code_counts",
]
