"""The report's comparison-group section and headline card (METHOD.md §10): the naive
reduction, what matched offenders who did not start treatment did, the adjusted effect
with its interval, balance before and after weighting, the placebo, and what the
comparison assumes.

Exports `comparison_section`, `comparison_card`, `ASSUMPTIONS`.
"""

import pandas as pd

from dagster_project.report.cells import fmt_count, fmt_pct, value
from dagster_project.report.templating import Markup, render

ASSUMPTIONS = (
    "The comparison assumes that, at the same date, offenders of the same sex, age band and "
    "conviction history (before-window band, earlier band, a conviction in the last 90 days) "
    "with the same propensity score would have gone on to offend as the cohort did had its "
    "members not started treatment then: everything that both decides who starts treatment "
    "and changes offending is in the recorded history (convictions by quarter, offence "
    "groups, custody, force, earlier treatment). A crisis that the records do not show, or a "
    "motivation to change, is not. Controls are counted as they were: some of them started "
    "treatment later, so the effect is that of starting at that date rather than later or "
    "never (intention to treat)."
)


def _row(table: pd.DataFrame | None, dimension: str) -> pd.Series | None:
    if table is None or table.empty:
        return None
    rows = table[table["dimension"] == dimension]
    return None if rows.empty else rows.iloc[0]


def _interval(row: pd.Series) -> str:
    low, high = value(row, "ci_low"), value(row, "ci_high")
    if low is None or high is None:
        return "interval not estimable"
    return f"95% interval {fmt_pct(low)} to {fmt_pct(high)}"


def comparison_card(comparison: pd.DataFrame | None) -> tuple[str, str] | None:
    """(big, small) text of the headline card: the adjusted effect beside the naive one."""
    row = _row(comparison, "all")
    if row is None or value(row, "adjusted_reduction") is None:
        return None
    return (fmt_pct(value(row, "adjusted_reduction")),
            f"fewer convictions due to treatment (adjusted; {_interval(row)}); naive "
            f"{fmt_pct(value(row, 'naive_reduction'))}")


_BALANCE_COLUMNS = ("mean_treated", "mean_controls_unweighted", "mean_controls_weighted",
                    "smd_before_weighting", "smd_after_weighting")


def comparison_section(comparison: pd.DataFrame | None, balance: pd.DataFrame | None) -> Markup:
    """The section's HTML (published tables only: suppressed cells show as `*`)."""
    row = _row(comparison, "all")
    if row is None:
        return render("comparison.html.j2", row=None)
    placebo = _row(comparison, "placebo")
    return render(
        "comparison.html.j2", row=row,
        n=fmt_count(value(row, "n")), matched=fmt_count(value(row, "n_treated")),
        controls=fmt_count(value(row, "n_controls")),
        treated_later=fmt_count(value(row, "controls_treated_later")),
        naive=fmt_pct(value(row, "naive_reduction")),
        control=fmt_pct(value(row, "control_reduction")),
        adjusted=fmt_pct(value(row, "adjusted_reduction")), interval=_interval(row),
        placebo=None if placebo is None else (
            fmt_pct(value(placebo, "adjusted_reduction")), _interval(placebo)),
        assumptions=ASSUMPTIONS,
        balance=None if balance is None or balance.empty else [
            (str(r["covariate"]), [float(r[c]) for c in _BALANCE_COLUMNS])
            for _, r in balance.iterrows()],
    )
