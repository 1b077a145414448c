"""The project's vocabularies, each in one module and imported everywhere it is spoken:
never a literal copy elsewhere, so that a renamed status or group cannot drift.

- `link_status` — a client's link status (METHOD.md §3) and the funnel's stages (§8);
- `dimensions` — the headline dimensions of the outcome table (§5, §7);
- `groups` — the asset groups, which the jobs select;
- `job_names` — the jobs' names, for whoever launches or looks for a run;
- `partition` — the column that carries the cohort-year partition (§8);
- `disclosure` — the mark of a suppressed cell (§6).

Plain modules: no Dagster, no pandas, so any layer may import them.
"""
