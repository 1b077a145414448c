"""Thresholds of the data-quality checks, beside `Settings.unknown_code_warn_share`.

They are not Settings fields (that object is shared by every stage); each check that uses
one names it in its description and its outcome (e.g. "rejected rows of f ≤ 5.0%"), so that a
warning can be read against the threshold that raised it.

Exports `CheckThresholds`, `THRESHOLDS`.
"""

from dataclasses import dataclass, field

from dagster_project.vocabulary.link_status import ABSENT, AMBIGUOUS, MATCHED


@dataclass(frozen=True)
class CheckThresholds:
    """Where a soft expectation warns and where a delivery is too broken to use."""

    # a file with more rejected rows than this share is unusable (e.g. a whole date column
    # in the wrong format): blocking, since every figure would rest on a fraction of it
    reject_share_ceiling: float = 0.05
    # a link-status share (of adult starters) moving more than this from the previous cohort
    # year suggests a linkage or delivery change rather than a real one: warning
    link_share_drift: float = 0.10
    # plausible link-status shares of adult starters; the NTA study excluded 35% as ambiguous
    link_share_bounds: dict = field(default_factory=lambda: {
        MATCHED: (0.10, 0.90), ABSENT: (0.05, 0.80), AMBIGUOUS: (0.0, 0.50),
    })
    # the cohort's overall reduction in convictions (NTA: 26%); outside this it is implausible
    reduction_bounds: tuple[float, float] = (-0.50, 0.90)


THRESHOLDS = CheckThresholds()
