"""What a run printed at the end: the delivery in use and how its rows were staged.

Counts only: no row values leave the warehouse here.

Exports `delivery_summary`.
"""

from dagster_project.accounting import row_accounting
from dagster_project.schemas import DELIVERY_FILES, RAW_TABLES, REJECTS_TABLE, STAGED_TABLES
from dagster_project.settings import Settings
from dagster_project.warehouse import Warehouse


def delivery_summary(settings: Settings) -> str:
    wh = Warehouse(settings.warehouse_url)
    extract = wh.query(f"SELECT min(extract_date) AS d FROM {RAW_TABLES[DELIVERY_FILES[0]]}")
    rejected = wh.query(
        f"SELECT source_file, reason, count(*) AS n FROM {REJECTS_TABLE} "
        "GROUP BY source_file, reason ORDER BY source_file, n DESC"
    )
    accounting = row_accounting(
        raw={f: wh.row_count(RAW_TABLES[f]) for f in DELIVERY_FILES},
        staged={f: wh.row_count(STAGED_TABLES[f]) for f in DELIVERY_FILES},
        rejected=rejected.groupby("source_file")["n"].sum().astype(int).to_dict(),
    )
    lines = [
        f"warehouse: {settings.as_metadata()['warehouse_url']}",
        f"delivery: extract date {extract['d'].iloc[0]}",
        "",
        accounting.to_markdown(index=False),
        "",
        "rejected rows by reason:",
        rejected.to_markdown(index=False) if len(rejected) else "(none)",
    ]
    return "\n".join(lines)
