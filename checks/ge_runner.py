"""Runs a suite of `Rule`s on a DataFrame with Great Expectations 1.x.

Great Expectations is imported here, lazily, on the first suite run in a process: its import
costs seconds and every Dagster step process would pay it at load time otherwise. One
ephemeral context per process (nothing written to disk), analytics and progress bars off.

Results are reduced to `Outcome`s holding counts and row positions only: GE's own result
carries the failing values (names, dates of birth, PNCIDs), which must never reach Dagster
metadata or logs (METHOD.md §6).

Exports `run_suite`.
"""

import os
from functools import cache

import pandas as pd

from checks.rules import Outcome, Rule

MAX_EXAMPLES = 10
_FAMILIES = {
    "text": pd.api.types.is_string_dtype,
    "date": pd.api.types.is_datetime64_any_dtype,
    "integer": pd.api.types.is_integer_dtype,
    "float": pd.api.types.is_float_dtype,
    "bool": pd.api.types.is_bool_dtype,
}


# no network from a pipeline; set on import, before any process of ours imports GE
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@cache
def _batch_definition():
    """The process's pandas data source: one DataFrame asset, validated whole."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.execution_engine import pandas_execution_engine

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    # GE fingerprints every batch under this many bytes by hashing it whole, twice per
    # validation: a third of a national delivery's staging checks, for a marker of the
    # result we never read (the batches are our own slices, which we place by line number)
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("warehouse").add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole_table")


def _needed_columns(rule: Rule) -> list[str]:
    kwargs = rule.kwargs
    found = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
    where = [rule.where[0]] if rule.where else []
    return [c for c in found if c] + list(kwargs.get("column_list", [])) + where


def _types_outcome(frame: pd.DataFrame, rule: Rule) -> Outcome:
    wrong = [
        f"{column}: {frame[column].dtype}" if column in frame else f"{column}: missing"
        for column, family in rule.kwargs["families"].items()
        if column not in frame or not _FAMILIES[family](frame[column])
    ]
    return Outcome(rule.rule, not wrong, len(wrong), observed="; ".join(wrong))


def _position(entry, index_columns: list[str]) -> str:
    # GE puts the failing value beside the index columns in each entry: keep positions only
    if isinstance(entry, dict):
        return ":".join(str(entry[c]) for c in index_columns)
    return f"row {entry}"


def _outcome(rule: Rule, result, index_columns: list[str]) -> Outcome:
    if result.exception_info and result.exception_info.get("raised_exception"):
        return Outcome(rule.rule, False, observed="could not be evaluated")
    details = result.result or {}
    failing = int(details.get("unexpected_count") or 0)
    entries = details.get("partial_unexpected_index_list") or []
    examples = tuple(_position(e, index_columns) for e in entries[:MAX_EXAMPLES])
    observed = details.get("observed_value")
    # observed values of table-level rules are column names or counts: no delivered data
    text = "" if observed is None or "column" in rule.kwargs else str(observed)
    return Outcome(rule.rule, bool(result.success), failing, examples, text)


def needed_columns(rules: list[Rule], index_columns=()) -> list[str]:
    """The columns a suite reads (so that only those are loaded from the warehouse)."""
    found = [c for r in rules for c in _needed_columns(r)]
    found += [c for r in rules if r.expectation == "types" for c in r.kwargs["families"]]
    return list(dict.fromkeys([*found, *index_columns]))


def run_suite(
    name: str, frame: pd.DataFrame, rules: list[Rule], index_columns: list[str] = (),
    all_columns: list[str] | None = None,
) -> list[Outcome]:
    """Every rule's outcome on `frame`, in rule order. `index_columns` locate failing rows
    (`source_file`, `line_number`; or `person_key`); without them the row position is given.
    `all_columns`: the table's columns, when `frame` holds only those the rules read."""
    index_columns = [c for c in index_columns if c in frame.columns]
    header = pd.DataFrame(columns=all_columns if all_columns is not None else frame.columns)
    outcomes: dict[Rule, Outcome] = {}
    expectations = []
    for rule in rules:
        missing = [c for c in _needed_columns(rule) if c not in frame.columns]
        if rule.expectation == "types":
            outcomes[rule] = _types_outcome(frame, rule)
        elif missing:
            outcomes[rule] = Outcome(rule.rule, False, observed=f"missing: {', '.join(missing)}")
        else:
            expectations.append(rule)
    # one GE batch per row filter, and table-level rules (column names only) apart
    for where in dict.fromkeys((r.where, not _needed_columns(r)) for r in expectations):
        chosen = [r for r in expectations if (r.where, not _needed_columns(r)) == where]
        subset = header if where[1] else _narrow(frame, chosen, index_columns, where[0])
        outcomes |= _validate(name, subset, chosen, index_columns)
    return [outcomes[rule] for rule in rules]


def _narrow(frame: pd.DataFrame, rules: list[Rule], index_columns: list[str], where):
    """Only the rows and columns the rules read: GE's cost per batch grows with the whole
    frame (every column), so a wide national table is cut down before it is handed over."""
    columns = list(dict.fromkeys([c for r in rules for c in _needed_columns(r)]
                                 + list(index_columns)))
    subset = frame if where is None else _rows_where(frame, where)
    return subset[columns]


def _rows_where(frame: pd.DataFrame, where: tuple) -> pd.DataFrame:
    column, values, negate = where
    chosen = frame[column].isin(list(values)).to_numpy(dtype=bool)
    return frame[~chosen if negate else chosen]


def _validate(name: str, frame: pd.DataFrame, rules: list[Rule], index_columns: list[str]):
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name=name,
        expectations=[
            getattr(gx.expectations, r.expectation)(**r.kwargs, meta={"rule": i})
            for i, r in enumerate(rules)
        ],
    )
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES}
    if index_columns:
        result_format["unexpected_index_column_names"] = list(index_columns)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    results = batch.validate(suite, result_format=result_format).results
    # GE groups results by metric, not in suite order: the rule's position travels in `meta`
    by_rule = {rules[res.expectation_config.meta["rule"]]: res for res in results}
    return {rule: _outcome(rule, res, index_columns) for rule, res in by_rule.items()}
