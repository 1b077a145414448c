"""A large delivery table's suite, its row-wise rules run on one slice of lines at a time.

A national staged offences table is over ten million rows: read whole, with every column
the suite's dtype rule looks at, it made the staging checks the pipeline's largest step
(7.6 GB; 14 GB on a world with a counterfactual). A rule that judges each row alone (not
null, in a set, between, a column pair, dtypes) gives the same verdict on slices as on the
whole, counts added. The rules that compare rows with each other (uniqueness) look at the
whole table, but read only the rows whose key repeats (found in SQL); table-level rules read
the column names.

Slices are ranges of `line_number`, which every delivery table carries (raw, staged,
rejects): a range read is a scan of the zone it lies in, on DuckDB and PostgreSQL alike.

Exports `SLICE_ROWS`, `needs_slices`, `sliced_suite`.
"""

import pandas as pd
import sqlalchemy as sa

from checks.framework import Tables
from checks.ge_runner import MAX_EXAMPLES, needed_columns, run_suite
from checks.rules import Outcome, Rule
from dagster_project.warehouse.sql import table_clause

SLICE_ROWS = 2_000_000
LINE = "line_number"
# rules whose verdict on a table is not the sum of their verdicts on its slices
_WHOLE_TABLE = {"ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique",
                "ExpectTableColumnsToMatchSet"}


def needs_slices(tables: Tables, table: str, present: list[str]) -> bool:
    return LINE in present and tables.warehouse.row_count(table) > SLICE_ROWS


def sliced_suite(table: str, rules: list[Rule], index_columns: list[str], tables: Tables,
                 present: list[str]) -> list[Outcome]:
    """`run_suite`'s outcomes, in rule order, reading at most `SLICE_ROWS` lines at a time
    for the row-wise rules."""
    whole = [r for r in rules if r.expectation in _WHOLE_TABLE]
    by_row = [r for r in rules if r not in whole]
    outcomes: dict[Rule, list[Outcome]] = {r: [] for r in rules}
    for rule in whole:
        frame = _repeated_keys(tables, table, rule, index_columns, present)
        outcomes[rule] += run_suite(table, frame, [rule], index_columns, all_columns=present)
    columns = [c for c in needed_columns(by_row, index_columns) if c in present]
    for low, high in _line_ranges(tables, table):
        piece = _lines(tables, table, columns, low, high)
        for rule, outcome in zip(by_row, run_suite(table, piece, by_row, index_columns,
                                                   all_columns=present), strict=True):
            outcomes[rule].append(outcome)
    return [_merged(rule, outcomes[rule]) for rule in rules]


def _repeated_keys(tables: Tables, table: str, rule: Rule, index_columns: list[str],
                   present: list[str]) -> pd.DataFrame:
    """The rows a uniqueness rule can fail on: those whose key another row repeats (NULLs
    alike, as pandas counts them). A row is a duplicate in the whole table exactly when it
    is one among these rows, so the rule's verdict and count are the whole table's; a
    national table's keys are read only where they repeat. A table-level rule reads none."""
    key = [c for c in rule.kwargs.get("column_list") or [rule.kwargs.get("column")] if c]
    if not key or any(c not in present for c in key):
        return pd.DataFrame(columns=[c for c in key if c in present])
    columns = [c for c in needed_columns([rule], index_columns) if c in present]
    clause = table_clause(table, *dict.fromkeys([*columns, *key]))
    repeated = (sa.select(*(clause.c[c] for c in key)).group_by(*(clause.c[c] for c in key))
                .having(sa.func.count() > 1).subquery("repeated"))
    on = sa.and_(*(clause.c[c].is_not_distinct_from(repeated.c[c]) for c in key))
    return tables.warehouse.query(
        sa.select(*(clause.c[c] for c in columns)).select_from(clause.join(repeated, on)))


def _line_ranges(tables: Tables, table: str) -> list[tuple[int, int]]:
    """[low, high) ranges of line numbers of about `SLICE_ROWS` lines each, covering every
    row (a NULL line number is in the last range: the contract's not-null rule reports it)."""
    lines = table_clause(table, LINE)
    first, last = tables.warehouse.query(
        sa.select(sa.func.min(lines.c[LINE]).label("first"),
                  sa.func.max(lines.c[LINE]).label("last"))).iloc[0]
    if pd.isna(first):  # no rows, or none with a line number
        return [(None, None)]
    first, last = int(first), int(last)
    edges = list(range(first, last + 1, SLICE_ROWS)) + [last + 1]
    ranges = list(zip(edges[:-1], edges[1:], strict=True))
    return ranges[:-1] + [(ranges[-1][0], None)]


def _lines(tables: Tables, table: str, columns: list[str], low, high):
    """Rows with `low` <= line_number < `high` (`high` None: and every row above `low`, or
    with no line number)."""
    clause = table_clause(table, *dict.fromkeys([*columns, LINE]))
    statement = sa.select(*(clause.c[c] for c in columns))
    if low is not None:
        line = clause.c[LINE]
        statement = statement.where(
            (line >= low) & (line < high) if high is not None else (line >= low) | line.is_(None))
    return tables.warehouse.query(statement)


def _merged(rule: Rule, parts: list[Outcome]) -> Outcome:
    """One outcome from a rule's outcomes on the slices: failing rows added, the first
    examples kept, observations (dtypes, missing columns) listed once."""
    if len(parts) == 1:
        return parts[0]
    examples = tuple(e for p in parts for e in p.examples)[:MAX_EXAMPLES]
    observed = "; ".join(dict.fromkeys(p.observed for p in parts if p.observed))
    # the dtype rule counts wrong columns, which every slice sees alike; the others count rows
    failing = (max if rule.expectation == "types" else sum)(p.failing_rows for p in parts)
    return Outcome(rule.rule, all(p.passed for p in parts), failing, examples, observed)
