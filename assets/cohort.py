"""Cohort stage, per cohort year: starters → study population → cohort, with every attribute.

The extract's maturity is checked before anything is read (METHOD.md §2), so an immature
cohort year fails at once, naming the extract date it needs.

Exports `cohort_tables`.
"""

import dagster as dg

from dagster_project.analysis.summary import extract_date_in_use
from dagster_project.cohort import check_mature, journeys_starting_in, publish_funnel, select_cohort
from dagster_project.linkage.handover import in_handover_order
from dagster_project.orchestration.io_manager import WarehouseResource
from dagster_project.orchestration.metadata import settings_metadata, table_metadata
from dagster_project.orchestration.outs import table_outs
from dagster_project.orchestration.partitions import cohort_years
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.vocabulary.groups import COHORT_GROUP

_INPUTS = ("treatment_journeys", "client_link_status", "linked_offences")
# read by the step itself (after the maturity check), so declared as deps, not inputs
_DEPS = [*_INPUTS, "treatment_episodes"]


@dg.multi_asset(
    partitions_def=cohort_years,
    deps=_DEPS,
    outs=table_outs(
        COHORT_GROUP,
        cohort_funnel="Starters → adults → matched/absent/ambiguous → study population → "
        "cohort (published: disclosure-controlled).",
        cohort_members="One row per cohort member with every attribute of METHOD.md §4 "
        "(pseudonymised; warehouse-internal).",
        cohort_convictions_by_group="Counted convictions per member and offence group, before "
        "and after.",
    ),
)
def cohort_tables(
    context: dg.AssetExecutionContext, settings: SettingsResource, warehouse: WarehouseResource
):
    """Select the cohort year's cohort from the journeys, link statuses and linked offences."""
    run_settings, wh = settings.get(), warehouse.warehouse()
    cohort_year = context.partition_key
    extract_date = extract_date_in_use(wh)
    check_mature(cohort_year, extract_date, run_settings)
    journeys, links = (wh.read_table(name) for name in _INPUTS[:2])
    # the year's clients' offences only: nationally the linked offences are millions of rows
    persons = journeys_starting_in(journeys, cohort_year)["person_key"]
    offences = in_handover_order(wh.read_rows("linked_offences", "person_key", persons))
    result = select_cohort(journeys, links, offences, run_settings, cohort_year)
    funnel = publish_funnel(result.funnel, run_settings.disclosure_threshold, result.members)
    provenance = {"extract_date": extract_date, **settings_metadata(run_settings)}
    yield dg.MaterializeResult(
        asset_key="cohort_funnel",
        value=funnel,
        metadata=table_metadata(funnel, preview=True, **provenance),
    )
    yield dg.MaterializeResult(
        asset_key="cohort_members",
        value=result.members,
        metadata=table_metadata(result.members, **provenance),
    )
    yield dg.MaterializeResult(
        asset_key="cohort_convictions_by_group",
        value=result.convictions_by_group,
        metadata=table_metadata(result.convictions_by_group, **provenance),
    )
