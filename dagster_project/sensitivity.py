"""One cohort year under a linkage rule other than the configured one, computed in memory
from the linkage stage's tables (METHOD.md §7 linkage sensitivity; the replication table
shows the published figures beside both rules).

Exports `cohort_year_under`.
"""

from dataclasses import dataclass

import pandas as pd

from dagster_project.cohort import (
    outcome_table,
    publish_funnel,
    publish_outcome_table,
    select_cohort,
)
from dagster_project.linkage.handover import client_link_status, client_links_table, linked_offences
from dagster_project.linkage.rules import link_clients
from dagster_project.settings import Settings


@dataclass(frozen=True)
class CohortYearTables:
    funnel: pd.DataFrame  # published
    outcomes: pd.DataFrame  # published


def cohort_year_under(
    method: str,
    cohort_year: str,
    settings: Settings,
    *,
    clients: pd.DataFrame,
    variants: pd.DataFrame,
    staged_offences: pd.DataFrame,
    journeys: pd.DataFrame,
) -> CohortYearTables:
    """Link, select and tabulate a cohort year with `method`, all else as configured."""
    settings = settings.with_(linkage_method=method)
    links = client_links_table(
        link_clients(clients, variants, staged_offences, settings).links,
        settings.resolved_pseudonym_key(),
    )
    cohort = select_cohort(
        journeys, client_link_status(links), linked_offences(links, staged_offences),
        settings, cohort_year,
    )
    table = outcome_table(cohort.members, cohort.convictions_by_group, settings)
    threshold = settings.disclosure_threshold
    funnel = publish_funnel(cohort.funnel, threshold, cohort.members)
    return CohortYearTables(
        funnel=funnel,
        outcomes=publish_outcome_table(table, threshold, cohort.members,
                                       cohort.convictions_by_group, funnel),
    )
