"""Fieller's interval for a ratio of sums with persons as the units (METHOD.md §5).

Exports `fieller_ratio`, `reduction_interval`, `CI_METHOD`.

R = Σa / Σb over a group's n persons. Fieller inverts the test of R = ρ: Σa − ρ·Σb has mean 0
and variance n·Var(a − ρ b) (persons independent, a person's two counts correlated), so the
interval is the set of ρ with (A − ρB)² ≤ q·n·(s_aa − 2ρ s_ab + ρ² s_bb), q the squared
quantile; that is a quadratic in ρ needing only the sums, squares and products already
computed. Unlike the delta method it is not symmetric about R: with few persons and skewed
counts it widens on the side where R is poorly determined instead of crossing into
impossible values. When the quadratic's leading term is not positive (Σb not clearly above
0) the set is unbounded and there is no interval: "not estimable".

The quantile is Student's t with n − 1 degrees of freedom, since the variance is estimated
from the same n persons: a little wider than the normal quantile for small groups, the same
for large ones (`benchmarks/bench_intervals.py` measures the coverage).
"""

import numpy as np
from scipy.stats import t as student_t

CI_METHOD = "fieller_ratio_of_sums"


def fieller_ratio(n, sum_a, sum_b, sum_aa, sum_bb, sum_ab, level: float = 0.95):
    """Bounds (low, high) of the Fieller interval of Σa/Σb for each group (arrays), NaN
    where it is unbounded or fewer than two persons."""
    n, a, b = (np.asarray(x, dtype=np.float64) for x in (n, sum_a, sum_b))
    aa, bb, ab = (np.asarray(x, dtype=np.float64) for x in (sum_aa, sum_bb, sum_ab))
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(n > 1, n - 1, np.nan)
        q = student_t.ppf(0.5 + level / 2, df) ** 2
        # n·s_xy = n/(n−1)·(Σxy − Σx·Σy/n): the sample (co)variances of the persons' counts
        scale = n / (n - 1)
        s_aa, s_bb = scale * (aa - a * a / n), scale * (bb - b * b / n)
        s_ab = scale * (ab - a * b / n)
        lead = b * b - q * s_bb
        middle = a * b - q * s_ab
        constant = a * a - q * s_aa
        root = np.sqrt(np.clip(middle * middle - lead * constant, 0, None))
        bounded = (n > 1) & (lead > 0)
        low = np.where(bounded, (middle - root) / lead, np.nan)
        high = np.where(bounded, (middle + root) / lead, np.nan)
    return low, high


def reduction_interval(ratio_low, ratio_high, scale=1.0):
    """The interval of 1 − scale·R from R's interval: at most 100% (R is a ratio of counts,
    never negative)."""
    low = 1 - scale * np.asarray(ratio_high, dtype=np.float64)
    high = 1 - scale * np.clip(np.asarray(ratio_low, dtype=np.float64), 0, None)
    return low, np.minimum(high, 1.0)
