"""The comparison group (METHOD.md §10) through Dagster on small worlds with a
counterfactual (`--treatment-effect`): where treatment does nothing the naive reduction is
large while the adjusted interval covers 0; where it takes away a quarter of the cases the
adjusted estimate is near the truth; the placebo is near 0 in both; members' own figures
agree with the cohort's; the generator's truth is what it says."""

import shutil

import dagster as dg
import pandas as pd
import pytest

from dagster_project.cli.runs import execute_job
from dagster_project.settings import Settings
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.warehouse.engine import Warehouse

pytestmark = pytest.mark.slow
YEAR = "2006-07"


def _world(tmp_path_factory, effect: float):
    landing = tmp_path_factory.mktemp(f"effect{effect}") / "landing"
    config = SynthConfig.for_scale("demo", new_clients_per_year=2_000,
                                   pnc_other_nominals=40_000, treatment_effect=effect)
    return generate_delivery(config, out=landing, seed=3)


def _run_world(delivery, data_dir, monkeypatch):
    monkeypatch.setenv("RECONVICTION_LINKAGE_METHOD", "deterministic")
    shutil.copytree(delivery, data_dir / "landing" / delivery.name)
    with dg.instance_for_test() as instance:
        assert execute_job("refresh_delivery", instance).success
        assert execute_job("cohort_year", instance, partition_key=YEAR).success
    wh = Warehouse(Settings.from_env().warehouse_url)
    year = ("cohort_year", YEAR)
    truth = pd.read_csv(delivery.parent.parent / "truth" / delivery.name
                        / "comparison_truth.csv").set_index("cohort_year").loc[YEAR]
    outcomes = wh.read_table("comparison_outcomes", partition=year).set_index("dimension")
    return outcomes, wh.read_table("cohort_members", partition=year), truth


def _near_zero(placebo: pd.Series) -> None:
    """The placebo's estimate is within sampling error of 0 (its interval covers 0), and
    not far from it (a small world's interval is some ten points wide)."""
    assert placebo["ci_low"] <= 0 <= placebo["ci_high"]
    assert abs(placebo["adjusted_reduction"]) < 0.1


@pytest.fixture(scope="module")
def no_effect(tmp_path_factory):
    return _world(tmp_path_factory, 0.0)


@pytest.fixture(scope="module")
def quarter_effect(tmp_path_factory):
    return _world(tmp_path_factory, 0.25)


def test_no_effect_naive_is_large_and_the_adjusted_interval_covers_0(no_effect, data_dir,
                                                                     monkeypatch):
    outcomes, members, truth = _run_world(no_effect, data_dir, monkeypatch)
    assert truth["true_reduction"] == 0
    row = outcomes.loc["all"]
    assert row["naive_reduction"] > 0.10  # regression to the mean, custody, ageing
    assert row["ci_low"] <= 0 <= row["ci_high"]
    assert row["ci_high"] - row["ci_low"] < 0.2  # an interval that says something
    _near_zero(outcomes.loc["placebo"])
    # the members' figures are the cohort's own: every member is matched or counted out
    assert row["n"] == len(members) and 0.9 * row["n"] <= row["n_treated"] <= row["n"]
    assert row["controls_treated_later"] > 0  # later starters serve as controls


def test_a_planted_effect_is_recovered(quarter_effect, data_dir, monkeypatch):
    outcomes, _, truth = _run_world(quarter_effect, data_dir, monkeypatch)
    assert abs(truth["true_reduction"] - 0.25) < 0.02
    row = outcomes.loc["all"]
    assert abs(row["adjusted_reduction"] - truth["true_reduction"]) < 0.07
    assert row["ci_low"] > 0.1
    assert row["naive_reduction"] - truth["true_reduction"] > 0.04
    _near_zero(outcomes.loc["placebo"])
