"""Analyses over the published tables of a cohort year or across years: the replication of
the published figures, the linkage sensitivity, the trends and a run's summary. No Dagster."""
