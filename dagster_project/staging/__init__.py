"""Staging: typed tables per METHOD.md §9, codes mapped through the reference tables, and
every delivered row that could not be staged kept as a reject with its file, line and reason
(rule and column only: no delivered value, since rejects are visible downstream).

Pure functions over DataFrames, vectorised for national scale.

Exports `stage_files` (the order: production and `stage_delivery` both stage through it),
`delivery_rejects`, `stage_delivery`, `stage_ndtms_episodes`, `stage_pnc_nominals`,
`stage_pnc_aliases`, `stage_pnc_offences`, `unknown_code_counts`.
"""

from collections.abc import Callable, Iterator

import pandas as pd

from dagster_project.delivery.schemas import DELIVERY_FILES
from dagster_project.staging.codes import unknown_code_counts
from dagster_project.staging.ndtms import stage_ndtms_episodes
from dagster_project.staging.pnc import stage_pnc_aliases, stage_pnc_nominals, stage_pnc_offences
from dagster_project.staging.rules import empty_rejects

NOMINALS, ALIASES, OFFENCES, EPISODES = (
    "pnc_nominals.csv", "pnc_aliases.csv", "pnc_offences.csv", "ndtms_episodes.csv",
)
# (raw rows, staged, rejects) of the offences, staged some other way: in slices, say, where
# "staged" may stand for rows written already (the caller's own type)
OffenceStager = Callable[[pd.DataFrame, pd.DataFrame], tuple[int, object, pd.DataFrame]]


def stage_files(
    read_raw: Callable[[str], pd.DataFrame],
    refs: dict[str, pd.DataFrame],
    offences: OffenceStager | None = None,
) -> Iterator[tuple[str, int, pd.DataFrame, pd.DataFrame]]:
    """The four files staged one at a time in the one order that works (nominals first:
    aliases and offences need them), as (file, raw rows, staged, rejects). Each raw table is
    asked of `read_raw(file)` just before it is staged, so a caller that lets go of each
    staged table never holds the four raw tables and their staged copies at once.

    `offences(pncids, offence_codes)`, when given, stages the offences instead of
    `read_raw`: the largest file, which production stages in slices."""
    raw = read_raw(NOMINALS)
    nominals, rejects = stage_pnc_nominals(raw)
    pncids = nominals[["pncid"]]  # all that aliases and offences need of the nominals
    yield NOMINALS, len(raw), nominals, rejects
    del raw, nominals, rejects
    raw = read_raw(ALIASES)
    yield ALIASES, len(raw), *stage_pnc_aliases(raw, pncids)
    if offences is None:
        raw = read_raw(OFFENCES)
        yield OFFENCES, len(raw), *stage_pnc_offences(raw, pncids, refs["offence_codes"])
    else:
        del raw
        yield OFFENCES, *offences(pncids, refs["offence_codes"])
    raw = read_raw(EPISODES)
    yield EPISODES, len(raw), *stage_ndtms_episodes(raw, refs)


def delivery_rejects(rejects: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One rejects table for the delivery: files in delivery order, each in line order."""
    found = [rejects[f] for f in DELIVERY_FILES if len(rejects[f])]
    return pd.concat(found, ignore_index=True) if found else empty_rejects()


def stage_delivery(
    raws: dict[str, pd.DataFrame], refs: dict[str, pd.DataFrame]
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """All four files staged (`stage_files`), in file order, and the delivery's rejects."""
    staged, rejects = {}, {}
    for file_name, _, table, rejected in stage_files(raws.__getitem__, refs):
        staged[file_name], rejects[file_name] = table, rejected
    return {f: staged[f] for f in DELIVERY_FILES}, delivery_rejects(rejects)


__all__ = [
    "delivery_rejects",
    "stage_delivery",
    "stage_files",
    "stage_ndtms_episodes",
    "stage_pnc_aliases",
    "stage_pnc_nominals",
    "stage_pnc_offences",
    "unknown_code_counts",
]
