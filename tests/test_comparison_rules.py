"""The comparison group's rules at their boundaries (METHOD.md §10), on hand-made persons:
eligibility at t (custody on t, a journey starting 28 or 29 days from t, an open journey,
candidates of ambiguous clients, adulthood), windows and blocks, the matching (never a
member's own person, k nearest within the caliper, weights), and the checks of the two
tables fed defective data."""

import numpy as np
import pandas as pd
import pytest

from checks.comparison import balance, disclosure
from dagster_project.comparison.history import Histories, after_counts, age_at, person_dates
from dagster_project.comparison.propensity import (
    Logit,
    design,
    logits_of_rows,
    nearest_within_caliper,
)
from dagster_project.comparison.publish import publish_comparison

T = 13_500  # the index day used throughout
DAY = pd.Timestamp("1970-01-01")


def _month(year: int, month: int) -> int:
    return year * 12 + month - 1


def _histories(persons: list[dict], convictions: list[tuple], custody=(), journeys=()):
    """persons: dicts of born (year, month)/sex/linked/ambiguous; convictions: (pid, offence
    day, outcome day, counted); custody: (pid, start, end); journeys: (pid, start,
    end|None)."""
    table = pd.DataFrame({
        "pid": range(len(persons)),
        "birth_month": [_month(*p.get("born", (1976, 12))) for p in persons],
        "sex": [p.get("sex", 1) for p in persons],
        "linked_person_key": [f"k{i}" if p.get("linked") else None
                              for i, p in enumerate(persons)],
        "ambiguous_candidate": [p.get("ambiguous", False) for p in persons],
    })
    conv = pd.DataFrame(list(convictions), columns=["pid", "offence_day", "outcome_day",
                                                    "counted"])
    conv = conv.assign(offence_group="theft", force="01")
    spells = pd.DataFrame(list(custody), columns=["pid", "start", "end"], dtype=np.int64)
    jr = pd.DataFrame(list(journeys), columns=["pid", "start_day", "end_day"])
    jr = jr.assign(person_key=[f"k{p}" for p in jr["pid"]], open=jr["end_day"].isna(),
                   end_day=jr["end_day"].fillna(0).astype(np.int64))
    return Histories.build(table, conv, spells, jr)


def _eligible(h, t=T) -> set[int]:
    return set(person_dates(h, t, 730, 183)["pid"].tolist())


def test_eligible_needs_a_counted_conviction_in_the_before_window_proven_in_time():
    h = _histories(
        [{}, {}, {}, {}, {}],
        [(0, T - 1, T, True),          # last day of the window
         (1, T - 730, T - 500, True),  # first day of the window
         (2, T - 731, T - 600, True),  # before it
         (3, T - 10, T + 183, True),   # proven one day after the waiting period
         (4, T - 10, T + 5, False)],   # a conviction that does not count
    )
    assert _eligible(h) == {0, 1}


def test_custody_on_t_excludes_but_a_spell_ending_on_t_does_not():
    h = _histories([{}, {}, {}], [(p, T - 100, T - 90, True) for p in range(3)],
                   custody=[(0, T, T + 10), (1, T - 50, T), (2, T - 5, T + 1)])
    assert _eligible(h) == {1}
    rows = person_dates(h, T, 730, 183, pids=np.array([1]))
    assert rows["custody_days"][0] == 50


@pytest.mark.parametrize(("start", "eligible"), [(T + 28, False), (T + 29, True),
                                                 (T - 28, False), (T - 29, True)])
def test_a_journey_starting_28_days_from_t_excludes_29_does_not(start, eligible):
    # a journey that ended before t (so that only its start can exclude)
    end = min(start + 5, T - 1) if start < T else start + 5
    h = _histories([{"linked": True}], [(0, T - 100, T - 90, True)],
                   journeys=[(0, start, end)])
    assert (0 in _eligible(h)) is eligible


def test_an_open_journey_on_t_excludes_and_a_later_start_is_counted_later():
    h = _histories([{"linked": True}, {"linked": True}], [(0, T - 100, T - 90, True),
                                                           (1, T - 100, T - 90, True)],
                   journeys=[(0, T - 400, None), (1, T - 400, T)])
    assert _eligible(h) == set()  # open, and ending on t
    h = _histories([{"linked": True}], [(0, T - 100, T - 90, True)],
                   journeys=[(0, T - 400, T - 200)])
    rows = person_dates(h, T, 730, 183)
    assert rows["earlier_journey"].tolist() == [True]  # a former client is eligible


def test_candidates_of_ambiguous_clients_and_children_are_never_eligible():
    # T is 18 December 2006; of a birth month only the month is kept: the birthday counts
    # as the 16th (an 18th birthday in December 2006 is past on the 18th, not on the 15th)
    h = _histories([{"ambiguous": True}, {"born": (1989, 1)}, {"born": (1988, 12)},
                    {"born": (1988, 11)}], [(p, T - 100, T - 90, True) for p in range(4)])
    assert _eligible(h) == {2, 3}
    assert _eligible(h, T - 3) == {3}
    assert _eligible(h, T - 2) == {2, 3}


def test_the_birth_month_gives_completed_years_at_t():
    born = np.array([_month(1988, 12), _month(1988, 11), _month(1989, 1), _month(1960, 2)])
    assert age_at(born, T).tolist() == [18, 18, 17, 46]  # 18 December 2006
    assert age_at(born, T - 3).tolist() == [17, 18, 17, 46]  # 15 December 2006


def test_blocks_recent_history_and_after_counts():
    h = _histories([{}], [(0, T - 1, T, True), (0, T - 91, T, True), (0, T - 92, T, True),
                          (0, T - 638, T - 600, True), (0, T - 730, T - 700, True),
                          (0, T - 800, T - 790, True), (0, T, T + 10, True),
                          (0, T + 729, T + 729 + 183, True), (0, T + 700, T + 729 + 184, True)])
    rows = person_dates(h, T, 730, 183)
    assert rows["blocks"][0].tolist() == [2, 1, 0, 0, 0, 0, 0, 2]
    assert rows["before"][0] == 5 and rows["history"][0] == 1 and rows["recent"][0]
    assert rows["days_since_latest"][0] == 1
    assert after_counts(h, np.array([0]), np.array([T]), 730, 183).tolist() == [2]


def test_matching_never_takes_the_members_own_person_and_keeps_k_nearest_in_caliper():
    pool_cell = np.zeros(8, np.int64)
    pool_logit = np.array([0.0, 0.01, 0.02, -0.03, 0.05, 0.5, -0.04, 0.001])
    pool_pid = np.array([9, 1, 2, 3, 4, 5, 6, 7])
    member, row = nearest_within_caliper(np.array([0, 1]), np.array([0.0, 0.0]),
                                         np.array([9, 8]), pool_cell, pool_logit, pool_pid,
                                         k=5, caliper=0.045)
    assert member.tolist() == [0, 0, 0, 0, 0]  # the other member's stratum has nobody
    assert sorted(pool_pid[row].tolist()) == [1, 2, 3, 6, 7]  # pid 9 is the member itself


def _outcomes(**changes) -> pd.DataFrame:
    table = pd.DataFrame({
        "cohort_year": "2006-07", "dimension": ["all", "sex", "sex", "placebo"],
        "group": ["all", "1", "2", "all"], "n": [100, 97, 3, 100],
        "n_treated": [90, 88, 2, 95], "n_controls": [300, 290, 9, 320],
        "controls_treated_later": [30, 29, 1, 33], "before_treated": 1.0,
        "after_treated": 1.0, "before_controls": 1.0, "after_controls": 1.0,
        "naive_reduction": 0.2, "control_reduction": 0.1, "adjusted_reduction": 0.1,
        "ci_low": 0.0, "ci_high": 0.2, "max_abs_smd": 0.05,
    })
    for column, values in changes.items():
        table[column] = values
    return table


def test_published_comparison_passes_the_disclosure_check_and_raw_does_not():
    raw = _outcomes()
    assert not disclosure(raw, 5)[0].passed
    published = publish_comparison(raw, 5)
    assert disclosure(published, 5)[0].passed
    # the small group is hidden, and so is its partner: the all row less one shown group
    # would give it back
    assert published.loc[published["group"] == "2", "n"].isna().all()
    assert published.loc[published["group"] == "1", "n"].isna().all()
    assert published.loc[published["group"] == "2", "adjusted_reduction"].isna().all()


def test_disclosure_check_finds_a_complement_below_the_threshold():
    defective = _outcomes(n=[100, 60, 40, 100], n_treated=[97, 57, 40, 95])
    found = disclosure(defective, 5)[0]
    assert not found.passed and any("n-n_treated" in e for e in found.examples)


def test_balance_check_warns_above_a_tenth():
    table = pd.DataFrame({"covariate": ["age", "recent"], "smd_after_weighting": [0.05, -0.12]})
    assert not balance(table)[0].passed
    assert balance(table.assign(smd_after_weighting=[0.05, -0.09]))[0].passed


def test_a_members_own_rows_equal_its_rows_among_the_eligible():
    rng = np.random.default_rng(4)
    n = 40
    conv = [(int(p), int(T - d), int(T - d + lag), bool(c)) for p, d, lag, c in zip(
        rng.integers(0, n, 400), rng.integers(-800, 1500, 400), rng.integers(0, 300, 400),
        rng.random(400) < 0.8, strict=True)]
    h = _histories([{}] * n, conv, custody=[(3, T - 300, T - 100)])
    every = person_dates(h, T, 730, 183)
    own = person_dates(h, T, 730, 183, pids=every["pid"])
    for column, values in every.items():
        assert np.array_equal(values, own[column]), column


def test_the_counterfactual_world_differs_from_its_twin_only_by_the_effect():
    from dagster_project.synth.config import SynthConfig
    from dagster_project.synth.world import build_world

    config = SynthConfig.for_scale("tiny", treatment_effect=0.5)
    world = build_world(config, seed=2)
    twin = build_world(SynthConfig.for_scale("tiny", treatment_effect=0.0), seed=2)
    cases, away = world.cases.drop(columns="treated_away"), world.cases["treated_away"]
    # common random numbers: the same cases, some taken away (never outside two years
    # from a start), and the same journeys
    assert cases.equals(twin.cases.drop(columns="treated_away"))
    assert world.journeys.equals(twin.journeys)
    assert away.any() and not twin.cases["treated_away"].any()
    assert (world.case_record[away.to_numpy()] == -1).all()
    assert not world.cases.loc[away, "person"].ge(world.n_clients).any()  # clients only


def _pool_inputs():
    nominals = pd.DataFrame({
        "pncid": ["06/3C", "01/1A", "03/2B", "09/4D"],
        "dob": pd.to_datetime(["1980-05-20", "1975-03-02", "1990-12-31", None]),
        "sex": ["M", "F", "M", "F"],
    })
    day = pd.Timestamp("2006-01-10")
    offences = pd.DataFrame({
        "pncid": ["03/2B", "01/1A", "03/2B", "09/4D"], "cjs_code": ["TH1", "TH1", "AS1", "TH1"],
        "offence_group": ["theft", "theft", "violence", "theft"],
        "trigger": [True, True, False, True], "force": ["01", "", "02", "03"],
        "offence_start": [day, day, day, day], "outcome": ["C", "C", "C", "C"],
        "outcome_date": [day + pd.Timedelta(days=20)] * 4,
        "disposal": ["CUS", "", "", ""], "custody_days": [60, None, None, None],
    })
    links = pd.DataFrame({"person_key": ["a" * 64, "b" * 64], "link_status": ["matched",
                                                                             "ambiguous"],
                          "pncid": ["01/1A", None]})
    candidates = pd.DataFrame({"person_key": ["b" * 64, "b" * 64], "pncid": ["09/4D", "06/3C"],
                               "match_probability": [0.5, 0.01]})
    return nominals, offences, links, candidates


def test_the_pool_keeps_no_pncid_nor_date_of_birth_and_is_the_same_in_any_row_order():
    from dagster_project.comparison.pool import PERSON_COLUMNS, pool_tables
    from dagster_project.settings import Settings

    settings = Settings(linkage_method="probabilistic")
    nominals, offences, links, candidates = _pool_inputs()
    tables = pool_tables(nominals, offences, links, candidates, None, None, settings)
    persons = tables["comparison_persons"]
    assert list(persons.columns) == PERSON_COLUMNS
    assert not {"pncid", "dob"} & set().union(*(t.columns for t in tables.values()))
    # pid is the rank of the PNCID: 01/1A, 03/2B, 06/3C, 09/4D
    assert persons["birth_month"].tolist()[:3] == [1975 * 12 + 2, 1990 * 12 + 11, 1980 * 12 + 4]
    assert persons["birth_month"].iloc[3] < 0  # unknown: counts as old, as before
    assert persons["linked_person_key"].fillna("").tolist() == ["a" * 64, "", "", ""]
    assert persons["ambiguous_candidate"].tolist() == [False, False, False, True]
    assert tables["comparison_custody"]["pid"].tolist() == [1]
    assert sorted(tables["comparison_convictions"]["pid"]) == [0, 1, 1, 3]
    shuffled = pool_tables(nominals.iloc[::-1], offences.iloc[[2, 0, 3, 1]], links.iloc[::-1],
                           candidates.iloc[::-1], None, None, settings)
    for name, table in tables.items():
        pd.testing.assert_frame_equal(
            shuffled[name].sort_values(list(table.columns), ignore_index=True),
            table.sort_values(list(table.columns), ignore_index=True), check_dtype=False)


def test_the_histories_surrogate_ids_are_the_persons_whatever_the_nominals_order():
    # the convictions and custody are made from the nominals' PNCIDs alone, beside the
    # linkage; the persons after it: the same person must get the same pid in both
    from dagster_project.comparison.pool import pool_index, pool_persons
    from dagster_project.settings import Settings

    nominals, _, links, candidates = _pool_inputs()
    # a person with two nominal rows, and PNCIDs whose text and number orders differ
    nominals = pd.concat([nominals, nominals.iloc[[2]].assign(sex="F"),
                          nominals.iloc[[0]].assign(pncid="10/0A")], ignore_index=True)
    persons = pool_persons(nominals, links, candidates, None, None,
                           Settings(linkage_method="probabilistic"))
    index = pool_index(nominals[["pncid"]].iloc[[5, 3, 1, 4, 0, 2]])
    assert index["pid"].tolist() == list(range(5))
    assert index.merge(persons[["pid", "pncid"]], on="pncid", suffixes=("", "_persons")).pipe(
        lambda both: len(both) == 5 and both["pid"].eq(both["pid_persons"]).all())


def test_logits_of_some_rows_from_their_parts_equal_the_models_logits_of_their_design():
    rng = np.random.default_rng(3)
    n, groups, forces = 400, 5, 4
    rows = {
        "sex": rng.integers(0, 3, n), "age_band": rng.integers(-1, 6, n),
        "before_band": rng.integers(0, 5, n), "history_band": rng.integers(0, 4, n),
        "recent": rng.random(n) < 0.3, "age": rng.integers(18, 70, n),
        "blocks": rng.integers(0, 3, (n, 8)), "days_since_latest": rng.integers(1, 730, n),
        "by_group": rng.integers(0, 4, (n, groups)), "other": rng.integers(0, 5, n),
        "history": rng.integers(0, 30, n), "custody_days": rng.integers(0, 200, n),
        "force": rng.integers(-1, forces, n), "earlier_journey": rng.random(n) < 0.2,
    }
    x = design(rows, forces)
    first = Logit(x, (rng.random(n) < 0.4).astype(float), np.ones(n))
    second = Logit(x, (rng.random(n) < 0.2).astype(float), rng.random(n) + 0.5)
    at = np.sort(rng.choice(n, 120, replace=False))
    logits = logits_of_rows([first, None, second], rows, at, forces)
    assert logits[1] is None
    for model, got in ((first, logits[0]), (second, logits[2])):
        np.testing.assert_allclose(got, model.logit(x[at]), rtol=0, atol=1e-9)
        # a row's logit does not depend on which other rows are scored with it
        assert np.array_equal(got, logits_of_rows([model], rows, np.arange(n), forces)[0][at])
