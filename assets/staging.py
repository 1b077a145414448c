"""Staging: typed tables per METHOD.md §9, codes mapped through the reference tables, and
every row that could not be staged kept in `staging_rejects` with its file, line and reason.

Files are staged one at a time in `staging.stage_files`' order, each raw table read just
before and its staged table handed over just after, so that a national delivery never holds
all four raw tables and their staged copies in memory at once; the offences are staged and
written in slices.

Exports `staged_delivery`.
"""

from collections import Counter
from dataclasses import dataclass

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from dagster_project.delivery.schemas import (
    DELIVERY_FILES,
    RAW_TABLES,
    REJECTS_TABLE,
    STAGED_TABLES,
)
from dagster_project.orchestration.io_manager import WarehouseResource
from dagster_project.orchestration.metadata import (
    settings_metadata,
    table_metadata,
    written_table_metadata,
)
from dagster_project.orchestration.outs import table_outs
from dagster_project.orchestration.refresh import STAGING_CODE_VERSION
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.staging import (
    ALIASES,
    EPISODES,
    NOMINALS,
    OFFENCES,
    delivery_rejects,
    stage_files,
    stage_pnc_offences,
    unknown_code_counts,
)
from dagster_project.staging.rules import repeats_earlier_row
from dagster_project.vocabulary.groups import STAGING_GROUP
from dagster_project.warehouse.sql import table_clause

# which raw table and code lists each staged table is made from (lineage in the UI)
_SOURCES = {
    NOMINALS: [RAW_TABLES[NOMINALS]],
    ALIASES: [RAW_TABLES[ALIASES], RAW_TABLES[NOMINALS]],
    OFFENCES: [RAW_TABLES[OFFENCES], RAW_TABLES[NOMINALS], "offence_codes"],
    EPISODES: [RAW_TABLES[EPISODES], "referral_sources", "drug_codes", "discharge_reasons"],
}
_CODE_LISTS = ["offence_codes", "referral_sources", "drug_codes", "discharge_reasons"]


@dg.multi_asset(
    ins={name: dg.AssetIn() for name in _CODE_LISTS},
    deps=[RAW_TABLES[f] for f in DELIVERY_FILES],
    internal_asset_deps={
        STAGED_TABLES[f]: {dg.AssetKey(k) for k in keys} for f, keys in _SOURCES.items()
    }
    | {REJECTS_TABLE: {dg.AssetKey(RAW_TABLES[f]) for f in DELIVERY_FILES}},
    outs=table_outs(STAGING_GROUP, STAGING_CODE_VERSION, **{
        STAGED_TABLES[f]: f"`{f}` typed and validated; codes mapped through the reference tables."
        for f in DELIVERY_FILES
    }, **{REJECTS_TABLE: "Every delivered row that was not staged: file, line and reason."}),
)
def staged_delivery(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    warehouse: WarehouseResource,
    **refs: pd.DataFrame,
):
    """Stage the four raw tables; rows failing a rule of METHOD.md §9 go to the rejects."""
    wh, provenance = warehouse.warehouse(), settings_metadata(settings.get())
    rejects = {}
    files = stage_files(
        lambda file_name: _raw_in_file_order(wh, file_name), refs,
        offences=lambda pncids, codes: _stage_offences_in_slices(wh, pncids, codes),
    )
    for file_name, raw_rows, table, rejected in files:
        rejects[file_name] = rejected
        metadata = dict(
            raw_rows=raw_rows, rejected_rows=len(rejected),
            unknown_codes=dg.MetadataValue.json(
                table.unknown_codes if isinstance(table, WrittenSlices)
                else unknown_code_counts(table)),
            **provenance,
        )
        if isinstance(table, WrittenSlices):  # in the warehouse already, slice by slice
            yield dg.MaterializeResult(
                asset_key=STAGED_TABLES[file_name],
                metadata=written_table_metadata(wh, STAGED_TABLES[file_name], table.rows,
                                                **metadata))
        else:
            yield dg.MaterializeResult(asset_key=STAGED_TABLES[file_name], value=table,
                                       metadata=table_metadata(table, **metadata))
        del table, rejected  # only the pending file's tables in memory

    all_rejects = delivery_rejects(rejects)
    reasons = all_rejects.groupby(["source_file", "reason"]).size().rename("rows").reset_index()
    # reasons carry rule and column only, never a delivered value: safe to preview
    yield dg.MaterializeResult(
        asset_key=REJECTS_TABLE,
        value=all_rejects,
        metadata=table_metadata(
            all_rejects, reasons=dg.MetadataValue.md(reasons.to_markdown(index=False) or "none")
        ),
    )


OFFENCE_SLICE_ROWS = 2_000_000


def _raw_in_file_order(wh, file_name: str) -> pd.DataFrame:
    """A raw table in the delivered file's order, which the rules' "earlier row" means: a
    table has no order of its own (PostgreSQL may put a later slice's rows in an earlier
    page)."""
    table = table_clause(RAW_TABLES[file_name], "line_number")
    return wh.query(sa.select(sa.text("*")).select_from(table).order_by(table.c.line_number))


@dataclass
class WrittenSlices:
    """A staged table written to the warehouse a slice at a time: what its metadata needs."""

    rows: int
    unknown_codes: dict[str, int]


def _stage_offences_in_slices(wh, nominals: pd.DataFrame, offence_codes: pd.DataFrame):
    """The offences (the largest file: ~10 million rows nationally) staged and written a slice
    of rows at a time, so that only one slice of raw text and its staged rows are in memory;
    the one rule that needs the whole file, a repeated (ASN, OFFENCE_SEQ), is judged first
    on the keys alone. Returns (raw rows, `WrittenSlices`, rejects)."""
    table = table_clause(RAW_TABLES[OFFENCES], "asn", "offence_seq", "line_number")
    keys = wh.query(sa.select(table.c.asn, table.c.offence_seq, table.c.line_number)
                    .order_by(table.c.line_number))
    repeats = repeats_earlier_row(keys, ["asn", "offence_seq"])
    raw_rows = len(keys)
    # each slice a range of line numbers, so that no slice sorts the whole table again
    firsts = keys["line_number"].to_numpy()[::OFFENCE_SLICE_ROWS].tolist() or [0]
    del keys
    rejected, unknown = [], Counter()

    def staged_slices():
        lines, ends = table.c.line_number, [*firsts[1:], None]
        starts = range(0, max(raw_rows, 1), OFFENCE_SLICE_ROWS)
        for start, first, end in zip(starts, firsts, ends, strict=True):
            within = lines >= first if end is None else lines.between(first, end - 1)
            raw = wh.query(sa.select(sa.text("*")).select_from(table).where(within)
                           .order_by(lines))
            part, part_rejects = stage_pnc_offences(
                raw, nominals, offence_codes, repeats=repeats[start : start + len(raw)]
            )
            del raw
            rejected.append(part_rejects)
            unknown.update(unknown_code_counts(part))
            yield part

    rows = wh.write_tables({STAGED_TABLES[OFFENCES]: staged_slices()})[STAGED_TABLES[OFFENCES]]
    return raw_rows, WrittenSlices(rows, dict(unknown)), pd.concat(
        rejected, ignore_index=True)
