"""The comparison group (METHOD.md §10): every PNC person's history once per delivery, then
per cohort year the matched controls, the adjusted effect and the balance.

Exports `comparison_persons`, `comparison_histories`, `comparison_pool` (the two),
`comparison_tables`.
"""

import os

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from dagster_project.cohort.windows import conviction_outcomes
from dagster_project.comparison import compare, publish_comparison
from dagster_project.comparison.pool import (
    PERSON_COLUMNS,
    pool_convictions,
    pool_custody,
    pool_index,
    pool_persons,
)
from dagster_project.linkage.identities import ATTRIBUTOR
from dagster_project.linkage.variant_reads import variants_sharing_an_attributor
from dagster_project.orchestration.io_manager import WarehouseResource
from dagster_project.orchestration.metadata import (
    settings_metadata,
    table_metadata,
    written_table_metadata,
)
from dagster_project.orchestration.outs import table_outs
from dagster_project.orchestration.partitions import cohort_years
from dagster_project.orchestration.resources import SettingsResource
from dagster_project.vocabulary.groups import COMPARISON_GROUP, POOL_GROUP
from dagster_project.warehouse.sql import table_clause

_OFFENCE_COLUMNS = ["pncid", "cjs_code", "offence_group", "trigger", "force", "offence_start",
                    "outcome", "outcome_date", "disposal", "custody_days"]
_POOL = ("comparison_persons", "comparison_convictions", "comparison_custody")
_PERSONS = "pool_persons_slice"  # the persons of one slice, seen by its query only
# persons per slice of the convictions: nationally ~0.4 of a slice's offences in memory
POOL_SLICE_PERSONS = 500_000
THREADS_VARIABLE = "RECONVICTION_COMPARISON_THREADS"
# each thread holds one date's eligible person-dates (nationally ~0.1 GB) and scratch
MOST_DEFAULT_THREADS = 4


def comparison_threads() -> int:
    """How many threads share the matching's dates: RECONVICTION_COMPARISON_THREADS, else
    the processors this process may use (at most 4). The result is the same for any."""
    value = os.environ.get(THREADS_VARIABLE, "").strip()
    if not value:
        # the processors this process may run on (Linux); elsewhere the machine's
        usable = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                  else os.cpu_count() or 1)
        return max(1, min(usable, MOST_DEFAULT_THREADS))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_VARIABLE}={value!r} is not a whole number of threads ≥ 1")
    return int(value)


@dg.asset(
    group_name=POOL_GROUP,
    kinds={"pandas"},
    ins={
        "staged_pnc_nominals": dg.AssetIn(metadata={"columns": ["pncid", "dob", "sex"]}),
        # only the columns the pool reads: nationally the variants alone are 4M rows
        "client_links": dg.AssetIn(metadata={"columns": ["person_key", "link_status",
                                                         "pncid"]}),
        "client_link_candidates": dg.AssetIn(metadata={"columns": ["person_key", "pncid",
                                                                   "match_probability"]}),
        "client_identities": dg.AssetIn(metadata={"columns": [*ATTRIBUTOR, "linkable"]}),
    },
    # the variants are read by the step itself, only the rows it needs (SQL)
    deps=["pnc_identity_variants"],
    # nothing of the refresh reads it: the linked offences and their checks go first
    op_tags={"dagster/priority": "-1"},
)
def comparison_persons(settings: SettingsResource, warehouse: WarehouseResource,
                       **inputs: pd.DataFrame) -> dg.Output:
    """Every PNC person: a surrogate id (the rank of the PNCID, which is not kept), birth
    month (not the date), sex, the pseudonym of the client it is linked to, whether an
    ambiguous client might be it. Once per delivery and linkage rule."""
    run_settings = settings.get()
    persons = pool_persons(
        inputs["staged_pnc_nominals"], inputs["client_links"], inputs["client_link_candidates"],
        inputs["client_identities"],
        variants_sharing_an_attributor(warehouse.warehouse(), inputs["client_identities"]),
        run_settings,
    )[PERSON_COLUMNS]
    return dg.Output(persons, metadata=table_metadata(persons, **settings_metadata(run_settings)))


@dg.multi_asset(
    ins={"staged_pnc_nominals": dg.AssetIn(metadata={"columns": ["pncid"]})},
    # it needs no linkage and the refresh does not wait for it until the end: it takes a
    # free process after the steps that lead to the linkage model, not before them
    op_tags={"dagster/priority": "-1"},
    # the offences are read by the step itself, only the rows it needs (SQL): nationally
    # the whole table would be gigabytes of text
    deps=["staged_pnc_offences"],
    outs=table_outs(
        POOL_GROUP,
        comparison_convictions="Every conviction of every PNC person as day numbers: counted "
        "(§2) or not, offence group, force.",
        comparison_custody="Merged custody spells [start, end) of every PNC person (§4).",
    ),
)
def comparison_histories(settings: SettingsResource, warehouse: WarehouseResource,
                         staged_pnc_nominals: pd.DataFrame):
    """What the comparison needs of every PNC person's record, once per delivery: the
    convictions a slice of persons at a time (written as they come), the custody spells from
    the custodial disposals alone. Keyed by the persons' surrogate id, which the nominals
    alone fix (`pool_index`), so that this step needs no linkage and runs beside it."""
    run_settings, wh = settings.get(), warehouse.warehouse()
    persons = pool_index(staged_pnc_nominals)
    staged = table_clause("staged_pnc_offences", *_OFFENCE_COLUMNS)
    wanted = table_clause(_PERSONS, "pncid", "pid")
    # each offence with its person's pid: a join here, not a lookup of text in pandas
    with_pid = sa.select(*(staged.c[c] for c in _OFFENCE_COLUMNS), wanted.c.pid).select_from(
        staged.join(wanted, staged.c.pncid == wanted.c.pncid))
    custody = pool_custody(wh.query(with_pid.where(staged.c.disposal == "CUS"),
                                    frames={_PERSONS: persons}), persons)
    convictions = with_pid.where(staged.c.outcome.in_(conviction_outcomes(run_settings)))

    def conviction_slices():
        for start in range(0, max(len(persons), 1), POOL_SLICE_PERSONS):
            part = persons.iloc[start : start + POOL_SLICE_PERSONS]
            offences = wh.query(convictions, frames={_PERSONS: part})
            yield pool_convictions(offences, part, run_settings)

    written = wh.write_tables({"comparison_convictions": conviction_slices()})
    provenance = settings_metadata(run_settings)
    yield dg.Output(custody, output_name="comparison_custody",
                    metadata=table_metadata(custody, **provenance))
    yield dg.Output(None, output_name="comparison_convictions", metadata=written_table_metadata(
        wh, "comparison_convictions", written["comparison_convictions"], **provenance))


comparison_pool = [comparison_persons, comparison_histories]


@dg.multi_asset(
    partitions_def=cohort_years,
    ins={name: dg.AssetIn() for name in ("cohort_members", "treatment_journeys", *_POOL)},
    outs=table_outs(
        COMPARISON_GROUP,
        comparison_outcomes="Naive, control and adjusted reductions with a bootstrap interval, "
        "by group, and the placebo row (METHOD.md §10; published: disclosure-controlled).",
        comparison_balance="Covariate means of matched members, all eligible person-dates and "
        "weighted controls, with standardised differences before and after weighting.",
    ),
)
def comparison_tables(context: dg.AssetExecutionContext, settings: SettingsResource,
                      warehouse: WarehouseResource, cohort_members: pd.DataFrame,
                      treatment_journeys: pd.DataFrame, **pool: pd.DataFrame):
    """Match the cohort year's members to eligible offenders at their index dates."""
    run_settings = settings.get()
    result = compare(cohort_members, pool["comparison_persons"], pool["comparison_convictions"],
                     pool["comparison_custody"], treatment_journeys, run_settings,
                     context.partition_key, threads=comparison_threads())
    published = publish_comparison(result.outcomes, run_settings.disclosure_threshold)
    headline = published[published["dimension"].isin(["all", "placebo"])]
    provenance = settings_metadata(run_settings)
    context.log.info(f"propensity model fitted on {result.fit_rows:,} rows "
                     f"({'a sample' if result.sampled else 'all'} of "
                     f"{result.eligible_person_dates:,} eligible person-dates)")
    yield dg.Output(published, output_name="comparison_outcomes", metadata=table_metadata(
        published, headline=dg.MetadataValue.md(headline.to_markdown(index=False,
                                                                     floatfmt=".3f")),
        eligible_person_dates=result.eligible_person_dates, fit_rows=result.fit_rows,
        fit_on_sample=result.sampled, **provenance))
    yield dg.Output(result.balance, output_name="comparison_balance",
                    metadata=table_metadata(result.balance, **provenance))
