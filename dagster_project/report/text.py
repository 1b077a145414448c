"""The words of the report and of the exports' column notes: the method in plain words, its
limits, and what every published column means.

Exports `method_paragraphs`, `LIMITS`, `COLUMN_NOTES`, `column_note`, `SUPPRESSED_NOTE`.
"""

from collections.abc import Mapping

from dagster_project.vocabulary.disclosure import SUPPRESSED
from dagster_project.vocabulary.partition import PARTITION_COLUMN

LINKAGE_WORDS = {
    "deterministic": (
        "the NTA rule: a treatment client and a police record are the same person when they "
        "share first initial, surname initial, date of birth and sex, and neither has another "
        "such candidate"
    ),
    "probabilistic": (
        "a probabilistic (Fellegi–Sunter) model that tolerates typing errors in dates of birth "
        "and initials and weighs area, ethnicity and offending near the place of treatment; a "
        "link counts as matched at a match probability of at least {match_threshold}, and a "
        "client is absent from the police records when no candidate reaches {absent_floor}"
    ),
}


def method_paragraphs(cohort_year: str, settings: Mapping) -> list[str]:
    """METHOD.md §1–§5 in plain words, with this run's settings filled in."""
    method = settings.get("linkage_method", "probabilistic")
    window = settings.get("window_days", 730)
    return [
        f"Who: adults (aged {settings.get('adult_age', 18)} or over) who started or restarted "
        f"drug treatment in cohort year {cohort_year} (1 April to 31 March). Episodes less than "
        f"{settings.get('journey_gap_days', 21)} days apart form one treatment journey; the "
        "first start in the year is the index date.",
        f"Linking to police records: {LINKAGE_WORDS[method].format(**settings)}. Clients who "
        "cannot be linked reliably either way (ambiguous) are left out; those with no police "
        "record (absent) stay in, with no convictions. Together, matched and absent clients "
        "are the study population.",
        f"The cohort: members of the study population convicted of at least one trigger "
        f"offence (acquisitive crime, drug and related offences) committed in the {window} days "
        f"before the index date. Their convictions for offences committed in the {window} days "
        f"from the index date are counted after. A conviction counts only when the court "
        f"outcome came within {settings.get('waiting_period_days', 183)} days of the window's "
        "end, so the two windows have the same time for cases to reach court"
        + ("; cautions count too." if settings.get("count_cautions") else
           "; cautions do not count."),
        "The reduction is 1 − (convictions after ÷ convictions before) for the group's "
        "persons. Its 95% confidence interval is Fieller's interval for the ratio of the two "
        "sums, with persons as the independent units (a person's convictions before and after "
        "are correlated). Fieller's interval is used rather than the symmetric delta-method "
        "interval because, for small groups with skewed counts, the latter covers the truth "
        "too rarely, mostly by overstating the reduction, and can pass 100%; Fieller's follows "
        "the ratio's real uncertainty and is capped at 100%. Where it is unbounded, or nobody "
        "in the group was convicted after, there is no interval: the table says "
        "\u201cnot estimable\u201d. Groups of fewer than 50 persons are marked imprecise: "
        "read their figures with care. The time-at-risk reduction compares convictions per "
        "person-year spent out of custody, so that time in custody, when a person has little "
        "chance to offend in the community, flatters neither window; a person whose treatment "
        "ended with a death discharge is at risk only until that date. Its interval is the "
        "same Fieller interval, scaled by the ratio of person-time.",
    ]


LIMITS = [
    ("Regression to the mean",
     "People are chosen because they were convicted in the two years before treatment, often "
     "at a peak of offending; their convictions would tend to fall afterwards even without "
     "treatment. Part of every reduction shown is this fall."),
    ("Ageing",
     "Offending declines with age. Two years later every cohort member is two years older, so "
     "some fall in convictions would happen anyway."),
    ("Time at risk",
     "Time in custody removes the chance to offend. The time-at-risk reduction allows for "
     "custody recorded on the police records and stops at a death recorded as the reason "
     "treatment ended, but not for time in hospital, abroad or elsewhere. Deaths after "
     "discharge (or of anyone whose treatment ended for another reason) are invisible in "
     "these extracts: such a person still counts as at risk to the window's end."),
    ("Linkage error",
     "Treatment and police records share no common identifier. A wrong link adds a stranger's "
     "convictions; a missed link treats an offender as having no record; ambiguous clients "
     "are left out, and they may differ from those kept."),
    ("A conviction is not an offence",
     "Convictions measure offending that was detected, prosecuted and proven. Policing "
     "priorities, diversion and the treatment itself (a court-ordered programme, say) change "
     "the chance that an offence becomes a conviction."),
    ("A comparison group rests on assumptions",
     "The before/after figures alone do not say what would have happened without treatment; "
     "the comparison with matched offenders who did not start treatment (section 'Compared "
     "with offenders who did not start treatment') estimates it, assuming that the recorded "
     "history captures what both brings people to treatment and changes their offending. "
     "Subgroups (by retention, say) still differ in more than their treatment."),
]

SUPPRESSED_NOTE = (f"'{SUPPRESSED}' = suppressed: fewer than {{t}} persons, or recoverable "
                   "from a total (secondary suppression)")
COLUMN_NOTES = {
    PARTITION_COLUMN: "cohort year: the English financial year of the treatment start",
    "stage": "funnel stage: starters, adult_starters, matched, absent, ambiguous, "
             "study_population (matched + absent), cohort (convicted before)",
    "persons": "persons at this stage",
    "dimension": "how the cohort is split (all, drug_group, retention_band, ...)",
    "group": "the subgroup within the dimension",
    "group_label": "the subgroup in the report's words (male / female, 12–24 months, ...)",
    "stage_label": "the funnel stage in the report's words",
    "n": "persons in the group (offence_group: persons with a conviction of that group)",
    "before": "convictions for offences committed in the two years before the index date",
    "after": "convictions for offences committed in the two years from the index date",
    "reduction": "1 - after / before (a fraction: 0.26 = 26%)",
    "ci_low": "lower bound of the 95% confidence interval of the reduction",
    "ci_high": "upper bound of the 95% confidence interval of the reduction",
    "ci_method": "how the interval was computed (Fieller's interval for the ratio of sums)",
    "ci_at_risk_low": "lower bound of the 95% confidence interval of reduction_at_risk",
    "ci_at_risk_high": "upper bound of the 95% confidence interval of reduction_at_risk",
    "not_estimable": "true when the interval is unbounded or nobody was convicted after "
                     "(the bounds are then empty)",
    "imprecise": "true for groups of fewer than 50 persons: figures to read with care",
    "rate_before": "convictions per person-year out of custody, before",
    "rate_after": "convictions per person-year out of custody, after",
    "reduction_at_risk": "1 - rate_after / rate_before (time-at-risk adjusted reduction)",
    "method": "linkage rule: deterministic (the NTA rule) or probabilistic",
    "match_threshold": "the probabilistic rule's match threshold (empty for the NTA rule)",
    "study_population": "matched + absent adult starters under this rule",
    "cohort": "study population convicted in the two years before the index date",
    "suppressed_by_difference": "hidden because it differs from another rule's row by fewer "
                                "persons than the disclosure threshold",
    "persons_before": "persons with at least one conviction before",
    "persons_after": "persons with at least one conviction after",
    "share": "the share the dimension names (e.g. dropouts' share of the cohort)",
    "id": "figure id in the NTA 2012 study's published figures (F1-F25)",
    "figure": "what the published figure measures",
    "published": "the figure as published for cohort 2006-07",
}


def column_note(column: str) -> str:
    """What a published column means."""
    for prefix, words in (("pipeline_", "this pipeline's value under the {m} linkage rule "
                                        "('—' = not available, e.g. a cell it needs is "
                                        "suppressed)"),
                          ("passes_", "whether the {m} rule's value is within the tolerance "
                                      "(counts ±5%, percentages ±3 points)")):
        if column.startswith(prefix):
            return words.format(m=column.removeprefix(prefix))
    return COLUMN_NOTES.get(column, column)
