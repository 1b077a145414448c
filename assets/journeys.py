"""Journeys stage: episodes chained into treatment journeys (METHOD.md §1, 21-day rule).

Exports `treatment_journeys`.
"""

import dagster as dg
import pandas as pd

from dagster_project.cohort import treatment_journeys as chain_journeys
from dagster_project.orchestration.metadata import settings_metadata, table_metadata
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.vocabulary.groups import JOURNEYS_GROUP


@dg.asset(group_name=JOURNEYS_GROUP, kinds={"pandas"})
def treatment_journeys(
    settings: SettingsResource, treatment_episodes: pd.DataFrame
) -> dg.MaterializeResult:
    """Every client's treatment journeys: start (index date), end, how it ended."""
    run_settings = settings.get()
    journeys = chain_journeys(treatment_episodes, run_settings)
    return dg.MaterializeResult(
        value=journeys,
        metadata=table_metadata(
            journeys,
            clients=int(journeys["person_key"].nunique()),
            open_journeys=int(journeys["open"].sum()),
            **settings_metadata(run_settings),
        ),
    )
