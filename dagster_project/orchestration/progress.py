"""What `reconviction` shows while a job runs, and where Dagster's event stream goes.

Dagster's console logger prints every event (hundreds of DEBUG lines) around the answer. The
CLI configures this logger instead: the whole event stream goes to a log file (failures with
their stack traces), and the terminal gets one line per stage once the run has moved past it
(stage, tables written, rows, elapsed, checks), plus, on a terminal, a status line naming the
step running now and for how long.

Exports `cli_logger`, `CLI_LOGGER`, `cli_run_config`, `finish_progress`, `defs`.
"""

import logging
import sys
import threading
import time
from dataclasses import dataclass

import dagster as dg

from dagster_project.vocabulary import groups

CLI_LOGGER = "reconviction_cli"
_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def cli_run_config(log_file: str, progress: bool = True) -> dict:
    """Run config that swaps Dagster's console logger for this one."""
    return {"loggers": {CLI_LOGGER: {"config": {"log_file": log_file, "progress": progress}}}}


@dataclass
class _Stage:
    name: str
    started: float
    last: float
    tables: int = 0
    rows: int = 0
    checks_passed: int = 0
    checks_failed: int = 0

    def line(self) -> str:
        checks = f"checks {self.checks_passed} passed" + (
            f", {self.checks_failed} failed or warned" if self.checks_failed else ""
        )
        return (f"  {self.name:<10} {self.tables:>2} written {self.rows:>11,} rows "
                f"{self.last - self.started:>7.1f} s   {checks}")


def _row_count(event) -> int:
    entry = event.materialization.metadata.get("dagster/row_count")
    return int(entry.value) if entry is not None else 0


class _StageProgress(logging.Handler):
    """Tallies materialisations and check results by stage (the asset's group) and prints a
    stage's line when the run reaches a later stage, or ends."""

    def __init__(self, groups: dict, order: list[str], out=None):
        super().__init__(logging.DEBUG)
        self.groups, self.order, self.out = groups, order, out or sys.stdout
        self.stages: dict[str, _Stage] = {}
        self.printed: set[str] = set()
        self.step: tuple[str, float] | None = None
        self.finished = threading.Event()
        self.live = self.out.isatty()
        self.screen = threading.Lock()  # not `lock`: logging.Handler holds that one around emit()
        if self.live:
            threading.Thread(target=self._tick, daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is None:
            return
        now = time.perf_counter()
        if event.is_step_start:
            self.step = (event.step_key, now)
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            self._stage(event.asset_key, now).tables += 1
            self.stages[self.groups[event.asset_key]].rows += _row_count(event)
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            check = event.asset_check_evaluation_data
            stage = self._stage(check.asset_key, now)
            if check.passed:
                stage.checks_passed += 1
            else:
                stage.checks_failed += 1
        elif event.event_type_value in ("RUN_SUCCESS", "RUN_FAILURE"):
            self.finish()

    def finish(self) -> None:
        if not self.finished.is_set():
            self.finished.set()
            self._print_until(None)
            if self.live:
                self._write("")

    def _stage(self, key, now: float) -> _Stage:
        name = self.groups.get(key, "other")
        stage = self.stages.setdefault(name, _Stage(name, self.step[1] if self.step else now, now))
        stage.last = now
        self._print_until(name)
        return stage

    def _print_until(self, current: str | None) -> None:
        """Print every stage before `current` in the job's order (all of them when None)."""
        position = self.order.index(current) if current in self.order else len(self.order)
        for name in self.order[:position] + ([] if current else list(self.stages)):
            if name in self.stages and name not in self.printed:
                self.printed.add(name)
                self._write(self.stages[name].line() + "\n")

    def _write(self, text: str) -> None:
        clear = "\r\033[K" if self.live else ""
        with self.screen:
            self.out.write(clear + text)
            self.out.flush()

    def _tick(self) -> None:
        while not self.finished.wait(1):
            if self.step is not None:
                step, started = self.step
                with self.screen:  # never over a stage line, nor after the run ended
                    if not self.finished.is_set():
                        self.out.write(
                            f"\r\033[K  … {step} ({time.perf_counter() - started:.0f} s)"
                        )
                        self.out.flush()


class _EventFile(logging.FileHandler):
    """Every event, and for a failure the error's full trace (the terminal shows one line)."""

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is not None and event.is_step_failure and event.step_failure_data.error:
            record.msg = f"{record.msg}\n{event.step_failure_data.error.to_string()}"
        super().emit(record)


def _groups_and_order(job: dg.JobDefinition) -> tuple[dict, list[str]]:
    """Each asset's stage (its group) and the stages in order, from the running job's own
    asset graph (not from `definitions`, which imports this module)."""
    graph = job.asset_layer.asset_graph
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    order = [g for g in _STAGE_ORDER if g in set(groups.values())]
    return groups, order


@dg.logger(
    config_schema={"log_file": str, "progress": dg.Field(bool, default_value=True)},
    description="The reconviction CLI's logger: events to a file, a line per stage on stdout.",
)
def cli_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.getLogger(f"reconviction.cli.{init_context.run_id}")
    if logger.handlers:  # Dagster builds a run's loggers more than once; one set of handlers
        return logger
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # nothing reaches the root logger's terminal handler
    file_handler = _EventFile(config["log_file"], encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    logger.addHandler(file_handler)
    if config["progress"]:
        logger.addHandler(_StageProgress(*_groups_and_order(init_context.job_def)))
    return logger


def finish_progress(run_id: str) -> None:
    """Print the stages not printed yet and let go of the run's log file (an in-process run
    ends without passing its last event through the loggers)."""
    logger = logging.getLogger(f"reconviction.cli.{run_id}")
    for handler in list(logger.handlers):
        if isinstance(handler, _StageProgress):
            handler.finish()
        handler.close()
        logger.removeHandler(handler)


# the stages in the order a refresh and a cohort year run through them
_STAGE_ORDER = [
    groups.REFERENCE_GROUP, groups.RAW_GROUP, groups.STAGING_GROUP, groups.LINKAGE_GROUP,
    groups.JOURNEYS_GROUP, groups.COHORT_GROUP, groups.OUTCOMES_GROUP, groups.REPORT_GROUP,
    groups.TRENDS_GROUP,
]

# the console logger stays the default; the CLI picks its own (events to a log file)
defs = dg.Definitions(loggers={"console": dg.colored_console_logger, CLI_LOGGER: cli_logger})
