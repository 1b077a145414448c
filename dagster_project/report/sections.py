"""The report's sections built from published tables: funnel, headline, subgroups, offence
groups, further figures and the published figures. Each returns an HTML fragment
(`Markup`), rendered from its template in `templates/`.

Exports `funnel_section`, `headline_section`, `subgroup_section`, `offence_section`,
`further_section`, `published_section`, `ordered_rows`, `overall`, `SUBGROUP_CHARTS`.
"""

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
from dagster_project.report.templating import Markup, render
from dagster_project.vocabulary.link_status import AMBIGUOUS, LINK_STATUSES

# dimension -> (section title, the order its groups read in; others follow sorted). The
# headline dimensions but `all` (vocabulary/dimensions.py; tests/test_report_cosmetics.py), in the
# report's reading order: time in treatment first, the study's main finding.
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


def _note(threshold: int, *tables: pd.DataFrame) -> Markup:
    """The `*` footnote, under tables where something is suppressed only."""
    return render("note.html.j2", threshold=threshold) if any_suppressed(*tables) else Markup()


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
        name = label(row["stage"]) + (" (excluded)" if row["stage"] == AMBIGUOUS else "")
        share = "" if hidden(row, "share") or value(row, "share") is None else (
            f"{fmt_pct(value(row, 'share'))} of adult starters")
        bars.append(Bar(label=("↳ " if status else "") + name, value=value(row, "persons"),
                        note=share))
    table = html_table(rows, [Column("stage", "stage", "label"),
                              Column("persons", "persons", "count"),
                              Column("share", "share of adult starters", "pct")])
    return render("funnel.html.j2", method=method, table=table, note=_note(threshold, rows),
                  chart=Markup(funnel_chart(bars, "From starters to cohort", threshold)))


def headline_section(outcomes: pd.DataFrame, threshold: int) -> str:
    row = overall(outcomes)
    if row is None:
        return render("headline.html.j2", missing=True, table="", note="")
    reduction, low, high = (value(row, c) for c in ("reduction", "ci_low", "ci_high"))
    everyone = outcomes[outcomes["dimension"] == "all"]
    return render(
        "headline.html.j2",
        reduction=None if reduction is None else fmt_pct(reduction),
        interval=None if low is None or high is None else (fmt_pct(low), fmt_pct(high)),
        not_estimable=value(row, "not_estimable"), imprecise=value(row, "imprecise"),
        at_risk=fmt_pct(value(row, "reduction_at_risk")),
        table=html_table(everyone, OUTCOME_COLUMNS_SHOWN,
                         "Rates are convictions per person-year out of custody."),
        note=_note(threshold, everyone),
    )


def subgroup_section(outcomes: pd.DataFrame, dimension: str, threshold: int) -> str:
    title = SUBGROUP_CHARTS[dimension][0]
    rows = ordered_rows(outcomes, dimension)
    everyone = overall(outcomes)
    reference = value(everyone, "reduction") if everyone is not None else None
    chart = reduction_chart([_bar(r) for _, r in rows.iterrows()], title, threshold, reference)
    return render("subgroup.html.j2", dimension=dimension, title=title, chart=Markup(chart),
                  table=html_table(rows, OUTCOME_COLUMNS_SHOWN), note=_note(threshold, rows))


def offence_section(outcomes: pd.DataFrame, threshold: int) -> str:
    rows = ordered_rows(outcomes, "offence_group")
    rows = rows.assign(_size=rows["before"].astype("Float64").fillna(-1)).sort_values(
        "_size", ascending=False)
    bars = [Bar(label=label(r["group"]), value=value(r, "before"), second=value(r, "after"))
            for _, r in rows.iterrows()]
    chart = paired_chart(bars, "Convictions before and after, by offence group", threshold)
    return render("offences.html.j2", chart=Markup(chart),
                  table=html_table(rows, OUTCOME_COLUMNS_SHOWN), note=_note(threshold, rows))


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
    age, sex = ordered_rows(outcomes, "age_band"), ordered_rows(outcomes, "sex")
    return render(
        "further.html.j2",
        combined=html_table(combined, what),
        shares=html_table(shares, [Column("what", "figure"), Column("n", "persons", "count"),
                                   Column("share", "share", "pct")]),
        age_band=html_table(age, OUTCOME_COLUMNS_SHOWN), sex=html_table(sex, OUTCOME_COLUMNS_SHOWN),
        note=_note(threshold, combined, shares, age, sex),
    )


def published_section(replication: pd.DataFrame | None, cohort_year: str) -> str:
    if replication is None or replication.empty:
        return render("published.html.j2", table=None, cohort_year=cohort_year)
    methods = [c.removeprefix("pipeline_") for c in replication if c.startswith("pipeline_")]
    columns = [Column("id", "id"), Column("figure", "figure"), Column("published", "published")]
    for method in methods:
        columns.append(Column(f"pipeline_{method}", f"pipeline, {method}"))
        columns.append(Column(f"passes_{method}", "within tolerance"))
    shown = replication.copy()
    for method in methods:
        shown[f"passes_{method}"] = shown[f"passes_{method}"].map({True: "✓ yes", False: "✗ no"})
    return render("published.html.j2", table=html_table(shown, columns), cohort_year=cohort_year)


_RULES = {"deterministic": "NTA rule (exact attributor)"}


def sensitivity_section(sensitivity: pd.DataFrame | None) -> str:
    """The `all` row under every linkage rule and threshold (METHOD.md §7)."""
    if sensitivity is None or sensitivity.empty:
        return render("sensitivity.html.j2", table=None)
    rows = sensitivity[sensitivity["dimension"].eq("all")].copy()
    rows["rule"] = [
        _RULES.get(method) or f"probabilistic, threshold {threshold:g}"
        for method, threshold in zip(rows["method"], rows["match_threshold"], strict=True)]
    columns = [Column("rule", "linkage rule"),
               Column("study_population", "study population", "count"),
               Column("cohort", "cohort", "count"), *OUTCOME_COLUMNS_SHOWN[2:6]]
    return render("sensitivity.html.j2", table=html_table(rows, columns))
