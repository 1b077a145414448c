"""The cohort-year report as one self-contained HTML document (CSS inline, charts inline SVG,
no script, nothing fetched), and the headline table as markdown for the Dagster UI.

Exports `ReportInputs`, `render_report`, `headline_markdown`, `SECTIONS`.
"""

from dataclasses import dataclass, field

import pandas as pd

from dagster_project.report.cells import fmt_count, fmt_pct, gate, value
from dagster_project.report.comparison import comparison_card, comparison_section
from dagster_project.report.provenance import shown_settings
from dagster_project.report.sections import (
    SUBGROUP_CHARTS,
    funnel_section,
    further_section,
    headline_section,
    offence_section,
    ordered_rows,
    overall,
    published_section,
    sensitivity_section,
    subgroup_section,
)
from dagster_project.report.style import CSS
from dagster_project.report.tables import OUTCOME_COLUMNS_SHOWN, cell_text
from dagster_project.report.templating import Markup, render
from dagster_project.report.text import LIMITS, method_paragraphs
from dagster_project.vocabulary.dimensions import HEADLINE_DIMENSIONS

# section id -> heading, in reading order
SECTIONS = {
    "funnel": "From starters to cohort",
    "headline": "Headline",
    "comparison": "Compared with offenders who did not start treatment",
    "subgroups": "Reductions by subgroup",
    "offences": "Convictions by offence group",
    "further": "Further figures",
    "published": "Published figures beside this cohort year's",
    "sensitivity": "Linkage sensitivity",
    "method": "Method",
    "limits": "Limits: what these figures cannot say",
    "disclosure": "Disclosure control",
    "provenance": "Settings, extract and code version",
}


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows: published tables only, and where they came from."""

    cohort_year: str
    funnel: pd.DataFrame  # published cohort_funnel
    outcomes: pd.DataFrame  # published outcome_table
    settings: dict  # Settings.as_metadata(): no secret
    extract_date: str
    code_version: str
    generated_at: str
    replication: pd.DataFrame | None = None  # the replication table (2006-07)
    sensitivity: pd.DataFrame | None = None  # published linkage_sensitivity
    synthetic: bool = False  # the delivery came from the generator (a truth folder beside it)
    comparison: pd.DataFrame | None = None  # published comparison_outcomes (METHOD.md §10)
    balance: pd.DataFrame | None = None  # comparison_balance
    threshold: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", int(self.settings["disclosure_threshold"]))

    def guarded(self) -> "ReportInputs":
        """The same inputs after the report's own disclosure gate (`cells.guard_*`)."""
        replication = None if self.replication is None else gate(
            self.replication, self.threshold)
        sensitivity = None if self.sensitivity is None else gate(
            self.sensitivity, self.threshold)
        comparison = None if self.comparison is None else gate(self.comparison, self.threshold)
        return _replace(self, funnel=gate(self.funnel, self.threshold), comparison=comparison,
                        outcomes=gate(self.outcomes, self.threshold), replication=replication,
                        sensitivity=sensitivity)


def _replace(inputs: ReportInputs, **changes) -> ReportInputs:
    values = {k: getattr(inputs, k) for k in inputs.__dataclass_fields__ if k != "threshold"}
    return ReportInputs(**{**values, **changes})


def _key_figures(outcomes: pd.DataFrame, comparison: pd.DataFrame | None = None) -> list:
    """(big, small) texts of the cards under the title; none without an `all` row."""
    row = overall(outcomes)
    if row is None:
        return []
    ci = ""
    if value(row, "ci_low") is not None and value(row, "ci_high") is not None:
        ci = f"95% CI {fmt_pct(value(row, 'ci_low'))} to {fmt_pct(value(row, 'ci_high'))}"
    keys = [
        (cell_text(row, OUTCOME_COLUMNS_SHOWN[1]), "persons in the cohort"),
        (cell_text(row, OUTCOME_COLUMNS_SHOWN[4]), f"fewer convictions after; {ci}"),
        (cell_text(row, OUTCOME_COLUMNS_SHOWN[8]), "fewer convictions per year out of custody"),
    ]
    card = comparison_card(comparison)
    if card is not None:  # the adjusted effect beside the naive one
        keys.insert(2, card)
    return keys


def _suppressed_count(*tables: pd.DataFrame | None) -> int:
    return sum(
        len([c for c in cells.split(",") if c])
        for table in tables if table is not None for cells in table["suppressed_cells"]
    )


def _disclosure(inputs: ReportInputs) -> Markup:
    hidden = _suppressed_count(inputs.funnel, inputs.outcomes, inputs.replication,
                               inputs.sensitivity)
    return render("disclosure.html.j2", threshold=inputs.threshold, hidden=fmt_count(hidden))


def _provenance(inputs: ReportInputs) -> Markup:
    rows = [("cohort year", inputs.cohort_year), ("extract date", inputs.extract_date),
            ("code version", inputs.code_version), ("generated", inputs.generated_at)]
    rows += list(shown_settings(inputs.settings).items())
    return render("provenance.html.j2", rows=rows)


def render_report(inputs: ReportInputs) -> str:
    """The whole report as one HTML string; every cell passes the disclosure gate first."""
    inputs = inputs.guarded()
    t, outcomes = inputs.threshold, inputs.outcomes
    bodies = {
        "funnel": funnel_section(inputs.funnel, inputs.settings["linkage_method"], t),
        "headline": headline_section(outcomes, t),
        "comparison": comparison_section(inputs.comparison, inputs.balance),
        "subgroups": Markup().join(subgroup_section(outcomes, d, t) for d in SUBGROUP_CHARTS),
        "offences": offence_section(outcomes, t),
        "further": further_section(outcomes, t),
        "published": published_section(inputs.replication, inputs.cohort_year),
        "sensitivity": sensitivity_section(inputs.sensitivity),
        "method": render("method.html.j2",
                         paragraphs=method_paragraphs(inputs.cohort_year, inputs.settings)),
        "limits": render("limits.html.j2", limits=LIMITS),
        "disclosure": _disclosure(inputs),
        "provenance": _provenance(inputs),
    }
    return str(render(
        "page.html.j2", cohort_year=inputs.cohort_year, css=Markup(CSS),
        synthetic=inputs.synthetic, extract_date=inputs.extract_date,
        linkage_method=inputs.settings["linkage_method"], code_version=inputs.code_version,
        generated_at=inputs.generated_at, sections=SECTIONS,
        keys=_key_figures(inputs.outcomes, inputs.comparison),
        bodies={sid: bodies[sid] for sid in SECTIONS},  # in reading order, each with a heading
    ))


def headline_markdown(outcomes: pd.DataFrame, threshold: int) -> str:
    """The headline dimensions as a markdown table of published text (`*` suppressed), groups
    in the report's order."""
    guarded = gate(outcomes, threshold)
    rows = pd.concat([ordered_rows(guarded, d) for d in HEADLINE_DIMENSIONS])
    text = pd.DataFrame({
        "dimension": rows["dimension"].to_numpy(),
        **{c.header: [cell_text(r, c) for _, r in rows.iterrows()]
           for c in OUTCOME_COLUMNS_SHOWN},
    })
    # text as written: tabulate would otherwise re-parse "1.80" as 1.8
    align = ["left", "left"] + ["right"] * (len(text.columns) - 2)
    return text.to_markdown(index=False, disable_numparse=True, colalign=align)
