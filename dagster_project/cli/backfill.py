"""Backfills of a range of cohort years from the command line: one run of the `cohort_year`
job per year, several at once, each in its own process, recorded in the Dagster instance.

Why processes: a DuckDB file admits one process at a time, and the warehouse retries on the
lock (short connections, backoff), so parallel runs take turns at the file rather than fail;
each run writes only its own partition, delete-then-insert in one transaction, so the order in
which runs finish cannot change any table. A run is Dagster's own in-process execution, the
same as `reconviction run`; no scheduling of our own beyond a process pool.

Exports `parse_cohort_years`, `backfill_delivery`, `run_backfill`, `BackfillResult`,
`BACKFILL_TAG`.
"""

import multiprocessing
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.orchestration.partitions import COHORT_YEAR_KEYS
from dagster_project.settings import Settings
from dagster_project.vocabulary.job_names import COHORT_YEAR_JOB

BACKFILL_TAG = "reconviction/backfill"


def parse_cohort_years(text: str) -> list[str]:
    """`2004-05:2007-08` (inclusive range), `2004-05,2006-07` (list) or `2006-07` → keys."""
    def key(year: str) -> str:
        year = year.strip()
        if year not in COHORT_YEAR_KEYS:
            raise ValueError(
                f"{year!r} is not a cohort year ({COHORT_YEAR_KEYS[0]} … {COHORT_YEAR_KEYS[-1]})"
            )
        return year

    if ":" in text:
        first, last = (key(y) for y in text.split(":", 1))
        start, stop = COHORT_YEAR_KEYS.index(first), COHORT_YEAR_KEYS.index(last)
        if start > stop:
            raise ValueError(f"range {text!r} runs backwards")
        return COHORT_YEAR_KEYS[start : stop + 1]
    return [key(y) for y in text.split(",") if y.strip()]



def _loaded_extract_date(settings: Settings) -> str:
    from dagster_project.analysis.summary import extract_date_of
    from dagster_project.cli.refusals import Refusal
    from dagster_project.delivery.schemas import DELIVERY_FILES, RAW_TABLES
    from dagster_project.warehouse.engine import Warehouse

    if not Warehouse(settings.warehouse_url).table_exists(RAW_TABLES[DELIVERY_FILES[0]]):
        raise Refusal("no delivery is loaded; run `reconviction run` first")
    return extract_date_of(settings)


def backfill_delivery(settings: Settings, extract_date: str | None) -> tuple[str, dict]:
    """The extract date a backfill reads and the run tags that pin it: the delivery in use,
    or with `--delivery` a kept earlier one (to recompute a cohort year from the extract it
    was published from)."""
    if extract_date is None:
        return _loaded_extract_date(settings), {}
    from dagster_project.cli.refusals import Refusal
    from dagster_project.orchestration.io_manager import DELIVERY_TAG
    from dagster_project.warehouse.delivery_pointer import kept_delivery, loaded_deliveries
    from dagster_project.warehouse.engine import Warehouse

    warehouse = Warehouse(settings.warehouse_url)
    namespace = kept_delivery(warehouse, extract_date)
    if namespace is None:
        kept = ", ".join(sorted(set(loaded_deliveries(warehouse)["extract_date"].astype(str))))
        raise Refusal(f"delivery {extract_date} is not kept in the warehouse (kept: "
                      f"{kept or 'none'}); load it with `reconviction run`")
    return extract_date, {DELIVERY_TAG: namespace}


@dataclass
class RunOutcome:
    cohort_year: str
    success: bool
    run_id: str
    seconds: float
    messages: list[str] = field(default_factory=list)


@dataclass
class BackfillResult:
    backfill_id: str
    runs: list[RunOutcome]

    @property
    def success(self) -> bool:
        return all(r.success for r in self.runs)


def _run_cohort_year(cohort_year: str, tags: dict[str, str], log_file: str | None) -> RunOutcome:
    """One cohort year in this process, on the instance of DAGSTER_HOME (a worker process
    cannot share the parent's instance object, only its storage); its events go to the log
    file when there is one (Dagster's console logger otherwise)."""
    import dagster as dg

    from dagster_project.cli.runs import execute_job, failure_messages
    from dagster_project.orchestration.progress import cli_run_config, finish_progress

    started = time.perf_counter()
    run_config = None
    if log_file:
        _log_to(log_file)
        run_config = cli_run_config(log_file, progress=False)
    with dg.DagsterInstance.get() as instance:
        result = execute_job(
            COHORT_YEAR_JOB, instance, partition_key=cohort_year, tags=tags,
            run_config=run_config,
        )
    finish_progress(result.run_id)
    return RunOutcome(
        cohort_year, result.success, result.run_id, time.perf_counter() - started,
        failure_messages(result),
    )


def _log_to(log_file: str) -> None:
    """A worker's warnings and library logs go to the command's log file, as the parent's do
    (a spawned worker starts without the parent's logging set-up)."""
    import logging

    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == log_file for h in root.handlers):
        root.addHandler(logging.FileHandler(log_file, encoding="utf-8"))
        root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def run_backfill(
    cohort_years: list[str],
    parallel: int = 1,
    report: Callable[[RunOutcome], None] = print,
    log_file: Path | None = None,
    tags: dict[str, str] | None = None,
) -> BackfillResult:
    """Run the cohort years, `parallel` at a time (1: one after another in this process),
    their events to `log_file` if given, each run tagged with `tags` (the delivery to read,
    for one)."""
    log = str(log_file) if log_file else None
    backfill_id = uuid.uuid4().hex[:8]
    tags = {**(tags or {}), BACKFILL_TAG: backfill_id}
    outcomes = []
    if parallel <= 1:
        for year in cohort_years:
            outcomes.append(_run_cohort_year(year, tags, log))
            report(outcomes[-1])
        return BackfillResult(backfill_id, outcomes)
    # spawn, not fork: Dagster and DuckDB hold threads and locks a forked child would inherit
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=parallel, mp_context=context) as pool:
        futures = [pool.submit(_run_cohort_year, year, tags, log) for year in cohort_years]
        for future in as_completed(futures):
            outcomes.append(future.result())
            report(outcomes[-1])
    outcomes.sort(key=lambda r: r.cohort_year)
    return BackfillResult(backfill_id, outcomes)
