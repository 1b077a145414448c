"""What a run prints at the end: the delivery in use, how its rows were staged, and the
cohort year's headline table. Counts and published (disclosure-controlled) tables only.

Exports `delivery_summary`, `extract_date_in_use`, `extract_date_of`, `funnel_line`,
`headline_table`, `replication_summary`.
"""

import pandas as pd
import sqlalchemy as sa

from dagster_project.delivery.accounting import delivery_accounting, rejected_rows
from dagster_project.delivery.schemas import DELIVERY_FILES, RAW_TABLES, REJECTS_TABLE
from dagster_project.settings import Settings
from dagster_project.vocabulary.dimensions import HEADLINE_DIMENSIONS
from dagster_project.vocabulary.partition import PARTITION_COLUMN
from dagster_project.warehouse.engine import Warehouse
from dagster_project.warehouse.sql import table_clause


def extract_date_in_use(warehouse: Warehouse, table: str = "treatment_episodes") -> str:
    """The extract date of the delivery a stage's tables were built from (every raw, staged
    and hand-over row carries it)."""
    dates = table_clause(table, "extract_date")
    found = warehouse.query(sa.select(sa.func.max(dates.c.extract_date).label("extract_date")))
    return str(found["extract_date"].iloc[0])


def extract_date_of(settings: Settings) -> str:
    """The extract date of the delivery loaded into the warehouse (its raw tables)."""
    return extract_date_in_use(Warehouse(settings.warehouse_url), RAW_TABLES[DELIVERY_FILES[0]])


def delivery_summary(settings: Settings) -> str:
    wh = Warehouse(settings.warehouse_url)
    rejected = rejected_rows(wh)
    accounting = delivery_accounting(wh)
    # the reasons are a table of their own in the warehouse; the terminal gets their count
    lines = [
        f"warehouse: {settings.as_metadata()['warehouse_url']}",
        f"delivery: extract date {extract_date_of(settings)}",
        "",
        accounting.to_markdown(index=False),
        f"rejected: {int(rejected['n'].sum())} rows for {len(rejected)} reasons by file "
        f"(table {REJECTS_TABLE}: file, line and reason of each)",
    ]
    return "\n".join(lines)


def funnel_line(funnel: pd.DataFrame) -> str:
    """The funnel on one line: `starters 3910 → … → cohort 1404`, `*` where suppressed."""
    from dagster_project.cohort import to_published_text

    published = to_published_text(funnel)
    return "funnel: " + " → ".join(
        f"{stage.replace('_', ' ')} {persons}"
        for stage, persons in zip(published["stage"], published["persons"], strict=True)
    )


def _published(frame: pd.DataFrame) -> str:
    """A published table as markdown, suppressed cells shown as `*`."""
    from dagster_project.cohort import to_published_text

    return to_published_text(frame).drop(
        columns=["suppressed", "suppressed_cells", PARTITION_COLUMN], errors="ignore"
    ).to_markdown(index=False)


def headline_table(settings: Settings, cohort_year: str) -> str:
    wh = Warehouse(settings.warehouse_url)
    funnel = wh.read_table("cohort_funnel", partition=(PARTITION_COLUMN, cohort_year))
    outcomes = wh.read_table("outcome_table", partition=(PARTITION_COLUMN, cohort_year))
    headline = outcomes[outcomes["dimension"].isin(HEADLINE_DIMENSIONS)]
    columns = [
        "dimension", "group", "n", "before", "after", "reduction", "ci_low", "ci_high",
        "reduction_at_risk", "suppressed_cells",
    ]
    rounded = headline[columns].round(3)
    return "\n".join([
        f"cohort year {cohort_year} ({settings.linkage_method} linkage)",
        funnel_line(funnel[["stage", "persons", "suppressed_cells"]]),
        "", _published(rounded),
    ])


def replication_summary(settings: Settings, cohort_year: str) -> str:
    wh = Warehouse(settings.warehouse_url)
    table = wh.read_table("replication", partition=(PARTITION_COLUMN, cohort_year))
    table = table.drop(columns=PARTITION_COLUMN).sort_values(
        "id", key=lambda ids: ids.str[1:].astype(int)
    )
    return f"cohort year {cohort_year}: published figures beside the pipeline's\n\n" + (
        table.to_markdown(index=False)
    )
