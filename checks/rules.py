"""The vocabulary of the suites: a `Rule` names one Great Expectations expectation (class
name and keyword arguments) and says in the domain's words what it guards.

Rules are plain data so that defining a suite costs nothing: Great Expectations is only
imported when a suite runs (`checks.ge_runner`), never when the code location loads.

Exports `Rule`, `Outcome`, `columns_exist`, `types`, `not_null`, `in_set`, `unique`,
`between`, `not_before`.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    """One expectation. `expectation` is a class of `great_expectations.expectations`, or
    `"types"` for the dtype-family rule that the runner evaluates in pandas (GE's type
    expectations do not understand pandas' nullable and `str` dtypes)."""

    rule: str  # what is guarded, e.g. "TRIAGED not missing"; shown in failure metadata
    expectation: str
    kwargs: dict = field(default_factory=dict)
    # only rows whose `column` is (or with `negate`, is not) in `values`: (column, values,
    # negate). Filtered in pandas by the runner: GE's row_condition goes through a slow
    # python-engine query
    where: tuple | None = None

    def __hash__(self) -> int:
        return hash((self.rule, self.expectation))

    def when(self, column: str, values, negate: bool = False, wording: str = "") -> "Rule":
        """This rule on the rows where `column` is in `values` (not in, with `negate`)."""
        label = wording or f"when {column} {'not ' if negate else ''}in {sorted(values)}"
        return Rule(f"{self.rule} {label}", self.expectation, self.kwargs,
                    (column, tuple(values), negate))


@dataclass(frozen=True)
class Outcome:
    """What one rule found: never a data value, only counts and row positions (`file:line`
    or a pseudonymous key), so that it can go into Dagster metadata and logs."""

    rule: str
    passed: bool
    failing_rows: int = 0
    examples: tuple[str, ...] = ()
    observed: str = ""  # a count, dtype or share: text that holds no delivered value


def columns_exist(columns: list[str]) -> Rule:
    """The table has (at least) these columns."""
    return Rule(
        f"columns present: {', '.join(columns)}", "ExpectTableColumnsToMatchSet",
        {"column_set": list(columns), "exact_match": False},
    )


def types(families: dict[str, str]) -> Rule:
    """Each column's dtype is of a family: text, date, integer, float, bool."""
    return Rule("column types: " + ", ".join(f"{c} {t}" for c, t in families.items()),
                "types", {"families": dict(families)})


def not_null(column: str) -> Rule:
    return Rule(f"{column} not missing", "ExpectColumnValuesToNotBeNull", {"column": column})


def in_set(column: str, values, what: str = "") -> Rule:
    """Values (where present) are in `values`; `what` names where the set comes from."""
    source = f" ({what})" if what else ""
    return Rule(f"{column} in its value set{source}", "ExpectColumnValuesToBeInSet",
                {"column": column, "value_set": sorted(set(values))})


def unique(*columns: str) -> Rule:
    if len(columns) == 1:
        return Rule(f"{columns[0]} unique", "ExpectColumnValuesToBeUnique",
                    {"column": columns[0]})
    return Rule(f"({', '.join(columns)}) unique", "ExpectCompoundColumnsToBeUnique",
                {"column_list": list(columns)})


def between(column: str, low=None, high=None) -> Rule:
    return Rule(f"{column} between {low} and {high}", "ExpectColumnValuesToBeBetween",
                {"column": column, "min_value": low, "max_value": high})


def not_before(later: str, earlier: str) -> Rule:
    """`later` ≥ `earlier` on every row where both are present."""
    return Rule(
        f"{later} not before {earlier}", "ExpectColumnPairValuesAToBeGreaterThanB",
        {"column_A": later, "column_B": earlier, "or_equal": True,
         "ignore_row_if": "either_value_is_missing"},
    )
