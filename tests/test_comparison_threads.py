"""The comparison's matching shares its dates among threads (METHOD.md §10 is per date):
the matches, the models and the balance sums are exactly those of one thread, whatever the
number of threads, with the fit on a sample (every draw seeded by its date)."""

import numpy as np
import pandas as pd
import pytest

from dagster_project.cohort.attributes import _AGE_EDGES
from dagster_project.comparison.history import Histories, age_at
from dagster_project.comparison.matching import match_cohort
from dagster_project.settings import Settings

FIRST_DAY = 12_000  # 2002-11-08: convictions from here, index dates two years on


def _random_world(seed: int, persons: int = 3_000, convictions: int = 40_000):
    """A pool of offenders with random histories, custody and journeys, and 300 members
    on 40 index dates."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({
        "pid": range(persons),
        "birth_month": rng.integers(1960 * 12, 1988 * 12, persons),
        "sex": rng.choice([1, 2, 0], persons, p=[0.7, 0.28, 0.02]),
        "linked_person_key": [f"k{i}" if i % 10 == 0 else None for i in range(persons)],
        "ambiguous_candidate": rng.random(persons) < 0.02,
    })
    offence_day = FIRST_DAY + rng.integers(0, 1_400, convictions)
    conv = pd.DataFrame({
        "pid": rng.integers(0, persons, convictions), "offence_day": offence_day,
        "outcome_day": offence_day + rng.integers(0, 300, convictions),
        "counted": rng.random(convictions) < 0.8,
        "offence_group": rng.choice(["theft", "drugs", "fraud"], convictions),
        "force": rng.choice(["01", "02", "03", ""], convictions),
    })
    start = FIRST_DAY + rng.integers(0, 1_400, 500)
    custody = pd.DataFrame({"pid": rng.integers(0, persons, 500), "start": start,
                            "end": start + rng.integers(1, 200, 500)})
    journey_pid = rng.choice(np.arange(0, persons, 10), 200)
    journey_start = FIRST_DAY + rng.integers(0, 1_400, 200)
    journeys = pd.DataFrame({"person_key": [f"k{p}" for p in journey_pid],
                             "start_day": journey_start, "end_day": journey_start + 100,
                             "open": rng.random(200) < 0.3})
    h = Histories.build(table, conv, custody, journeys)
    pid = rng.choice(persons, 300, replace=False)
    index_day = FIRST_DAY + 800 + rng.integers(0, 40, 300)
    age = np.array([age_at(h.birth_month[[p]], t)[0] for p, t in zip(pid, index_day,
                                                                      strict=True)])
    members = pd.DataFrame({"row": range(300), "pid": pid, "index_day": index_day,
                            "sex_code": np.maximum(h.sex[pid], 1), "age": age,
                            "age_band_code": np.searchsorted(_AGE_EDGES, age, side="right")
                            - 1})
    return members, h


@pytest.mark.parametrize("fit_rows", [10**7, 2_000])  # every person-date; a sample
def test_any_number_of_threads_gives_the_matches_of_one(fit_rows):
    members, h = _random_world(seed=5)
    settings = Settings(comparison_fit_rows=fit_rows)
    one, one_placebo = match_cohort(members, h, settings, threads=1)
    assert len(one.uses) > 100 and len(one_placebo.uses) > 10  # the world matches
    assert one.sampled == (fit_rows < 10**7)
    for threads in (2, 3):
        many, many_placebo = match_cohort(members, h, settings, threads=threads)
        for a, b in ((one, many), (one_placebo, many_placebo)):
            pd.testing.assert_frame_equal(a.treated, b.treated, check_exact=True)
            pd.testing.assert_frame_equal(a.uses, b.uses, check_exact=True)
            for name in ("treated_x", "uses_x", "pool_sum", "pool_sq"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            assert (a.pool_n, a.fit_rows) == (b.pool_n, b.fit_rows)


def test_the_thread_count_comes_from_the_environment_or_the_processors(monkeypatch):
    from assets.comparison import MOST_DEFAULT_THREADS, THREADS_VARIABLE, comparison_threads

    monkeypatch.setenv(THREADS_VARIABLE, " 3 ")
    assert comparison_threads() == 3
    for wrong in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv(THREADS_VARIABLE, wrong)
        with pytest.raises(ValueError, match=THREADS_VARIABLE):
            comparison_threads()
    monkeypatch.delenv(THREADS_VARIABLE)
    assert 1 <= comparison_threads() <= MOST_DEFAULT_THREADS
