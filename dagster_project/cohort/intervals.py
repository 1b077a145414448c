"""Fieller's interval for a ratio of sums with persons as the units (METHOD.md §5).

Exports `fieller_ratio`, `reduction_interval`, `CI_METHOD`, `EDGEWORTH`.

R = Σa / Σb over a group's n persons. Fieller inverts the test of R = ρ: Σa − ρ·Σb has mean 0
and variance n·Var(a − ρ b) (persons independent, a person's two counts correlated), so the
interval is the set of ρ with (A − ρB)² ≤ q·n·(s_aa − 2ρ s_ab + ρ² s_bb), q the squared
critical value; that is a quadratic in ρ needing only the sums, squares and products. Unlike
the delta method it is not symmetric about R: with few persons it widens on the side where R
is poorly determined instead of crossing into impossible values. When the quadratic's
leading term is not positive (Σb not clearly above 0) the set is unbounded and there is no
interval: "not estimable".

The critical value: Student's t with n − 1 degrees of freedom (the variance is estimated
from the same persons), widened for skewness. Conviction counts are strongly right-skewed
(a few persons hold many convictions), and the studentised mean of skewed data is itself
skewed: its 2.5% and 97.5% points move by −γ·(2z² + 1)/(6√n) (the Edgeworth expansion, Hall
1992; γ the skewness of a − R·b over persons). Rather than shift the interval by that amount
(sample skewness understates γ in small groups), both ends are widened by it:
q = (t + EDGEWORTH·|γ̂|/√n)², with the widening at most t. Without the third-order sums the
plain Fieller interval is returned. `benchmarks/bench_intervals.py` measures the coverage of
both.
"""

import numpy as np
from scipy.stats import t as student_t

CI_METHOD = "fieller_ratio_of_sums_t_skew"
EDGEWORTH = (2 * 1.959963984540054**2 + 1) / 6  # (2z² + 1)/6 at z = 1.96


def _skewness(n, a, b, aa, bb, ab, third):
    """Skewness over persons of a − R·b at R = Σa/Σb (where its mean is 0)."""
    aaa, aab, abb, bbb = (np.asarray(x, dtype=np.float64) for x in third)
    r = np.where(b > 0, a / np.where(b > 0, b, 1), 0)
    m2 = (aa - 2 * r * ab + r * r * bb) / n
    m3 = (aaa - 3 * r * aab + 3 * r * r * abb - r**3 * bbb) / n
    return np.where(m2 > 0, m3 / np.where(m2 > 0, m2, 1) ** 1.5, 0.0)


def fieller_ratio(n, sum_a, sum_b, sum_aa, sum_bb, sum_ab, third=None, level: float = 0.95):
    """Bounds (low, high) of the Fieller interval of Σa/Σb for each group (arrays), NaN
    where it is unbounded or fewer than two persons. `third` = (Σa³, Σa²b, Σab², Σb³)
    turns on the skewness widening of the critical value."""
    n, a, b = (np.asarray(x, dtype=np.float64) for x in (n, sum_a, sum_b))
    aa, bb, ab = (np.asarray(x, dtype=np.float64) for x in (sum_aa, sum_bb, sum_ab))
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(n > 1, n - 1, np.nan)
        t = student_t.ppf(0.5 + level / 2, df)
        if third is not None:
            widening = EDGEWORTH * np.abs(_skewness(n, a, b, aa, bb, ab, third)) / np.sqrt(n)
            t = t + np.minimum(widening, t)
        q = t**2
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
