"""The report's comparison-group section and headline card (METHOD.md §10): the naive
reduction, what matched offenders who did not start treatment did, the adjusted effect
with its interval, balance before and after weighting, the placebo, and what the
comparison assumes.

Exports `comparison_section`, `comparison_card`, `ASSUMPTIONS`.
"""

from html import escape

import pandas as pd

from dagster_project.report.cells import fmt_count, fmt_pct, value

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


def _balance_table(balance: pd.DataFrame) -> str:
    head = ("<tr><th>covariate</th><th>members</th><th>all eligible</th>"
            "<th>weighted controls</th><th>SMD before</th><th>SMD after</th></tr>")
    body = "".join(
        f"<tr><td>{escape(str(r['covariate']))}</td>"
        + "".join(f'<td class="num">{float(r[c]):.3f}</td>' for c in (
            "mean_treated", "mean_controls_unweighted", "mean_controls_weighted",
            "smd_before_weighting", "smd_after_weighting"))
        + "</tr>"
        for _, r in balance.iterrows()
    )
    return ('<table class="balance"><caption>Covariate means and standardised mean '
            "differences (SMD) before and after weighting; above 0.1 after weighting a "
            f"warning is raised</caption>{head}{body}</table>")


def comparison_section(comparison: pd.DataFrame | None, balance: pd.DataFrame | None) -> str:
    """The section's HTML (published tables only: suppressed cells show as `*`)."""
    row = _row(comparison, "all")
    if row is None:
        return "<p>No comparison was made for this cohort year.</p>"
    placebo = _row(comparison, "placebo")
    matched, n = value(row, "n_treated"), value(row, "n")
    parts = [
        f"<p>Of {fmt_count(n)} cohort members, {fmt_count(matched)} were matched to "
        f"{fmt_count(value(row, 'n_controls'))} offenders who did not start treatment at the "
        "member's start date (up to 5 each, same strata, propensity scores within 0.2 "
        "standard deviations of the logit; weights add to one per member). "
        f"{fmt_count(value(row, 'controls_treated_later'))} of these controls started "
        "treatment later, within their two years after.</p>",
        "<ul>"
        f"<li>Naive reduction (matched members, before → after): "
        f"<b>{fmt_pct(value(row, 'naive_reduction'))}</b></li>"
        f"<li>Matched offenders who did not start treatment: their convictions fell by "
        f"<b>{fmt_pct(value(row, 'control_reduction'))}</b> over the same windows</li>"
        f"<li>Adjusted effect of starting treatment (ratio of ratios): "
        f"<b>{fmt_pct(value(row, 'adjusted_reduction'))}</b> fewer convictions, "
        f"{_interval(row)} (1,000 bootstrap resamples of members with their controls)</li>",
    ]
    if placebo is not None:
        parts.append(
            f"<li>Placebo (offenders just convicted, who did not start treatment, in place of "
            f"members): {fmt_pct(value(placebo, 'adjusted_reduction'))}, {_interval(placebo)}"
            " — near 0 when the design removes regression to the mean</li>")
    parts.append("</ul>")
    parts.append(f"<p><b>What the comparison assumes.</b> {escape(ASSUMPTIONS)}</p>")
    if balance is not None and not balance.empty:
        parts.append(_balance_table(balance))
    return "".join(parts)
