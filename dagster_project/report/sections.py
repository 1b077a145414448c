"""The report's sections built from published tables: funnel, headline, subgroups, offence
groups, further figures and the published figures. Each returns an HTML fragment.

Exports `funnel_section`, `headline_section`, `subgroup_section`, `offence_section`,
`further_section`, `published_section`, `ordered_rows`, `overall`, `SUBGROUP_CHARTS`.
"""

from html import escape

import pandas as pd

from dagster_project.report.cells import fmt_pct, hidden, label, value
from dagster_project.report.charts import Bar, funnel_chart, paired_chart, reduction_chart
from dagster_project.report.tables import (
    OUTCOME_COLUMNS_SHOWN,
    Column,
    any_suppressed,
    funnel_rows,
    html_table,
)
from dagster_project.vocabulary.link_status import LINK_STATUSES

# dimension -> (section title, the order its groups read in; others follow sorted)
SUBGROUP_CHARTS = {
    "retention_band": ("Reduction by time in treatment",
                       ["<3m", "3-6m", "6-12m", "12-24m", "retained_2y"]),
    "exit_group": ("Reduction by how treatment ended",
                   ["retained", "successful_completion", "transferred", "custody",
                    "dropped_out", "died", "other"]),
    "drug_group": ("Reduction by drug group",
                   ["opiate_and_crack", "opiate_only", "crack_only", "other"]),
    "referral_route": ("Reduction by referral route", ["criminal_justice", "self", "other"]),
}
_NOTE = ('<p class="note">* suppressed: fewer than {t} persons, or recoverable from a total. '
         "Suppressed values are not drawn.</p>")


def _note(threshold: int, *tables: pd.DataFrame) -> str:
    """The `*` footnote, under tables where something is suppressed only."""
    return _NOTE.format(t=threshold) if any_suppressed(*tables) else ""


def ordered_rows(outcomes: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """A dimension's rows in reading order (`SUBGROUP_CHARTS`; others sorted by group)."""
    order = SUBGROUP_CHARTS.get(dimension, (None, []))[1]
    rows = outcomes[outcomes["dimension"] == dimension]
    if order:
        rank = {g: i for i, g in enumerate(order)}
        rows = rows.sort_values("group", key=lambda s: s.map(lambda g: (rank.get(g, 99), g)))
    return rows


def _bar(row: pd.Series) -> Bar:
    return Bar(label=label(row["group"]), value=value(row, "reduction"),
               low=value(row, "ci_low"), high=value(row, "ci_high"),
               marker=value(row, "reduction_at_risk"))


def overall(outcomes: pd.DataFrame) -> pd.Series | None:
    rows = outcomes[outcomes["dimension"] == "all"]
    return rows.iloc[0] if len(rows) else None


def funnel_section(funnel: pd.DataFrame, method: str, threshold: int) -> str:
    rows = funnel_rows(funnel)
    bars = []
    for _, row in rows.iterrows():
        status = row["stage"] in LINK_STATUSES
        name = label(row["stage"]) + (" (excluded)" if row["stage"] == "ambiguous" else "")
        share = "" if hidden(row, "share") or value(row, "share") is None else (
            f"{fmt_pct(value(row, 'share'))} of adult starters")
        bars.append(Bar(label=("↳ " if status else "") + name, value=value(row, "persons"),
                        note=share))
    table = html_table(rows, [Column("stage", "stage", "label"),
                              Column("persons", "persons", "count"),
                              Column("share", "share of adult starters", "pct")])
    return (
        f"<p>Linkage method: <b>{escape(method)}</b>. Every adult starter is linked to the "
        "police records as <i>matched</i> (one reliable police record), <i>absent</i> (no "
        "plausible record: no convictions) or <i>ambiguous</i> (candidates, none reliable: "
        "excluded). The study population is matched + absent; the cohort is those of them "
        "convicted in the two years before starting treatment.</p>"
        f'<div class="chart">{funnel_chart(bars, "From starters to cohort", threshold)}</div>'
        + table + _note(threshold, rows)
    )


def headline_section(outcomes: pd.DataFrame, threshold: int) -> str:
    row = overall(outcomes)
    if row is None:
        return "<p>No outcome table for this cohort year.</p>"
    words = ""
    if value(row, "reduction") is not None:
        words = (f"<p>Convictions of the cohort fell by <b>{fmt_pct(value(row, 'reduction'))}"
                 "</b> between the two years before and the two years after starting "
                 "treatment")
        if value(row, "ci_low") is not None and value(row, "ci_high") is not None:
            words += (f" (95% confidence interval {fmt_pct(value(row, 'ci_low'))} to "
                      f"{fmt_pct(value(row, 'ci_high'))})")
        elif value(row, "not_estimable"):
            words += " (its confidence interval is not estimable)"
        if value(row, "imprecise"):
            words += "; with fewer than 50 persons the figure is imprecise"
        words += ". Counting only time out of custody, the fall was " + (
            f"<b>{fmt_pct(value(row, 'reduction_at_risk'))}</b>.</p>")
    everyone = outcomes[outcomes["dimension"] == "all"]
    table = html_table(everyone, OUTCOME_COLUMNS_SHOWN,
                       "Rates are convictions per person-year out of custody.")
    return words + table + _note(threshold, everyone)


def subgroup_section(outcomes: pd.DataFrame, dimension: str, threshold: int) -> str:
    title = SUBGROUP_CHARTS[dimension][0]
    rows = ordered_rows(outcomes, dimension)
    everyone = overall(outcomes)
    reference = value(everyone, "reduction") if everyone is not None else None
    chart = reduction_chart([_bar(r) for _, r in rows.iterrows()], title, threshold, reference)
    return (
        f'<h3 id="{dimension}">{escape(title)}</h3><div class="chart">{chart}</div>'
        '<p class="note">Bar: reduction; whisker: 95% confidence interval; diamond: '
        "time-at-risk reduction; dashed line: the whole cohort.</p>"
        + html_table(rows, OUTCOME_COLUMNS_SHOWN) + _note(threshold, rows)
    )


def offence_section(outcomes: pd.DataFrame, threshold: int) -> str:
    rows = ordered_rows(outcomes, "offence_group")
    rows = rows.assign(_size=rows["before"].astype("Float64").fillna(-1)).sort_values(
        "_size", ascending=False)
    bars = [Bar(label=label(r["group"]), value=value(r, "before"), second=value(r, "after"))
            for _, r in rows.iterrows()]
    chart = paired_chart(bars, "Convictions before and after, by offence group", threshold)
    return (
        f'<div class="chart">{chart}</div>'
        "<p class=\"note\">Persons: cohort members with a conviction of the group in either "
        "window; the figures count that group's convictions only.</p>"
        + html_table(rows, OUTCOME_COLUMNS_SHOWN) + _note(threshold, rows)
    )


_COMBINED = {
    "completion_by_retention": "completed successfully",
    "completion_by_reentry": "completed successfully",
    "dropout_by_reentry": "dropped out",
}
_SHARES = {
    "leavers_post_exit_share": "leavers' after-window convictions committed after leaving",
    "dropout_share_of_cohort": "dropouts' share of the cohort",
    "dropout_share_of_after": "dropouts' share of after-window convictions",
}


def further_section(outcomes: pd.DataFrame, threshold: int) -> str:
    combined = outcomes[outcomes["dimension"].isin(list(_COMBINED))].copy()
    combined["what"] = [f"{_COMBINED[d]}, {label(g)}"
                        for d, g in zip(combined["dimension"], combined["group"], strict=True)]
    shares = outcomes[outcomes["dimension"].isin(list(_SHARES))].copy()
    shares["what"] = shares["dimension"].map(_SHARES)
    what = [Column("what", "group"), *OUTCOME_COLUMNS_SHOWN[1:]]
    return (
        "<h3>The NTA study's combinations</h3>" + html_table(combined, what)
        + "<h3>Shares</h3>"
        + html_table(shares, [Column("what", "figure"), Column("n", "persons", "count"),
                              Column("share", "share", "pct")])
        + "<h3>By age band</h3>"
        + html_table(ordered_rows(outcomes, "age_band"), OUTCOME_COLUMNS_SHOWN)
        + "<h3>By sex</h3>" + html_table(ordered_rows(outcomes, "sex"), OUTCOME_COLUMNS_SHOWN)
        + _note(threshold, combined, shares, ordered_rows(outcomes, "age_band"),
                ordered_rows(outcomes, "sex"))
    )


def published_section(replication: pd.DataFrame | None, cohort_year: str) -> str:
    if replication is None or replication.empty:
        return (f"<p>The NTA 2012 study published figures for cohort year 2006-07 only; there "
                f"is nothing to set beside {escape(cohort_year)}'s.</p>")
    methods = [c.removeprefix("pipeline_") for c in replication if c.startswith("pipeline_")]
    columns = [Column("id", "id"), Column("figure", "figure"), Column("published", "published")]
    for method in methods:
        columns.append(Column(f"pipeline_{method}", f"pipeline, {method}"))
        columns.append(Column(f"passes_{method}", "within tolerance"))
    shown = replication.copy()
    for method in methods:
        shown[f"passes_{method}"] = shown[f"passes_{method}"].map({True: "✓ yes", False: "✗ no"})
    return (
        "<p>The published figures of the NTA 2012 study (cohort 2006-07, England) beside this "
        "cohort year's, under both linkage rules. Tolerance: counts ±5%, percentages ±3 "
        "points. At demo or test scale the counts cannot match a national study. "
        "— : not available (a cell it needs is suppressed).</p>"
        + html_table(shown, columns)
    )


_RULES = {"deterministic": "NTA rule (exact attributor)"}


def sensitivity_section(sensitivity: pd.DataFrame | None) -> str:
    """The `all` row under every linkage rule and threshold (METHOD.md §7)."""
    if sensitivity is None or sensitivity.empty:
        return "<p>The linkage sensitivity table has not been written for this cohort year.</p>"
    rows = sensitivity[sensitivity["dimension"].eq("all")].copy()
    rows["rule"] = [
        _RULES.get(method) or f"probabilistic, threshold {threshold:g}"
        for method, threshold in zip(rows["method"], rows["match_threshold"], strict=True)]
    columns = [Column("rule", "linkage rule"),
               Column("study_population", "study population", "count"),
               Column("cohort", "cohort", "count"), *OUTCOME_COLUMNS_SHOWN[2:6]]
    return (
        "<p>Who is in the study depends on the linkage. The headline under the NTA study's "
        "rule and under the probabilistic rule at five match thresholds: a lower threshold "
        "keeps more clients (fewer are left ambiguous) at the price of more false links. "
        "Every reproduced figure under every rule is in the exported table "
        "<code>linkage_sensitivity.csv</code>. A row is * where it differs from another by "
        "fewer persons than the disclosure threshold (the difference would show their "
        "convictions).</p>" + html_table(rows, columns)
    )
