"""A whole cohort year through Dagster on a tiny synthetic delivery: the output contract of
METHOD.md §8, privacy downstream of linkage (§6), maturity (§2) and idempotent reruns."""

import shutil

import dagster as dg
import pandas as pd
import pytest

from dagster_project.cli.runs import execute_job, failure_messages
from dagster_project.cohort import required_extract_date
from dagster_project.settings import Settings
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.warehouse.engine import Warehouse

CONTRACT = {
    "cohort_funnel": ["cohort_year", "stage", "persons"],
    "cohort_members": [
        "cohort_year", "person_key", "link_status", "age_band", "sex", "drug_group",
        "referral_route", "retention_days", "retention_band", "exit_group", "reentered",
        "before", "after", "after_post_exit", "custody_days_before", "custody_days_after",
    ],
    "cohort_convictions_by_group": ["cohort_year", "person_key", "offence_group", "before",
                                    "after"],
    "client_links": ["person_key", "link_status", "pncid", "match_probability", "method"],
    "outcome_table": [
        "cohort_year", "dimension", "group", "n", "before", "after", "reduction", "ci_low",
        "ci_high", "rate_before", "rate_after", "reduction_at_risk",
    ],
    "linkage_sensitivity": [
        "cohort_year", "method", "match_threshold", "dimension", "group", "study_population",
        "n", "before", "after", "reduction", "ci_low", "ci_high",
    ],
    "comparison_outcomes": [
        "cohort_year", "dimension", "group", "n", "n_treated", "n_controls",
        "controls_treated_later", "before_treated", "after_treated", "before_controls",
        "after_controls", "naive_reduction", "control_reduction", "adjusted_reduction",
        "ci_low", "ci_high", "max_abs_smd",
    ],
    "comparison_balance": [
        "cohort_year", "covariate", "mean_treated", "mean_controls_unweighted",
        "mean_controls_weighted", "smd_before_weighting", "smd_after_weighting",
    ],
}
IDENTIFIERS = {"finitial", "sinitial", "dob", "clientid", "pncid", "surname", "forenames"}
DOWNSTREAM = [
    "treatment_episodes", "client_link_status", "linked_offences", "treatment_journeys",
    "cohort_funnel", "cohort_members", "cohort_convictions_by_group", "outcome_table",
    "linkage_alternatives", "alternative_linked_offences", "linkage_sensitivity",
    "comparison_outcomes", "comparison_balance",
]


@pytest.fixture(scope="module")
def tiny_delivery(tmp_path_factory):
    landing = tmp_path_factory.mktemp("synth") / "landing"
    return generate_delivery(SynthConfig.for_scale("tiny"), out=landing, seed=5)


def _run(instance, job, **kwargs):
    return execute_job(job, instance, **kwargs)


@pytest.mark.parametrize("method", ["deterministic", "probabilistic"])
def test_cohort_year_end_to_end(data_dir, tiny_delivery, monkeypatch, method):
    monkeypatch.setenv("RECONVICTION_LINKAGE_METHOD", method)
    shutil.copytree(tiny_delivery, data_dir / "landing" / tiny_delivery.name)
    # the ground truth lies beside the landing folder, as the generator writes it
    truth = tiny_delivery.parent.parent / "truth" / tiny_delivery.name
    shutil.copytree(truth, data_dir / "truth" / tiny_delivery.name)
    wh = Warehouse(Settings.from_env().warehouse_url)
    with dg.instance_for_test() as instance:
        assert _run(instance, "refresh_delivery").success
        assert _run(instance, "cohort_year", partition_key="2006-07").success
        first = {t: wh.read_table(t) for t in CONTRACT}
        instance_metadata = {
            "client_links": instance.get_latest_materialization_event(
                dg.AssetKey("client_links")
            ).asset_materialization.metadata
        }
        # a rerun of the partition replaces it: nothing duplicated, nothing changed
        assert _run(instance, "cohort_year", partition_key="2006-07").success
        again = {t: wh.read_table(t) for t in CONTRACT}

    for table, columns in CONTRACT.items():
        assert set(columns) <= set(first[table].columns), table
        assert len(again[table]) == len(first[table]), table
    members = first["cohort_members"].sort_values("person_key", ignore_index=True)
    assert members.equals(again["cohort_members"].sort_values("person_key", ignore_index=True))
    assert (first["client_links"]["method"] == method).all()
    # the delivery is synthetic, so linkage was measured against its truth (rates only)
    quality = instance_metadata["client_links"]
    assert 0 < quality["truth_precision"].value <= 1 and quality["truth_clients"].value > 0
    assert "share_correct" in quality["truth_calibration"].value

    # every rule once: the NTA rule and the probabilistic rule at five thresholds, each
    # with the `all` row; the configured rule's `all` row is the outcome table's
    sensitivity = first["linkage_sensitivity"]
    rules = sensitivity[["method", "match_threshold"]].drop_duplicates()
    assert len(rules) == 6
    assert sorted(rules["match_threshold"].dropna()) == [0.80, 0.90, 0.95, 0.99, 0.999]
    configured = sensitivity[(sensitivity["method"] == method) & (sensitivity["dimension"]
                                                                    == "all")]
    if method == "probabilistic":
        configured = configured[configured["match_threshold"] == 0.95]
    outcome_all = first["outcome_table"].query("dimension == 'all'")
    shown, expected = configured["n"].iloc[0], outcome_all["n"].iloc[0]
    assert (pd.isna(shown) and pd.isna(expected)) or shown == expected
    assert "cohort_year" not in first["client_links"].columns

    funnel = first["cohort_funnel"].set_index("stage")["persons"]
    assert list(first["cohort_funnel"]["stage"]) == [
        "starters", "adult_starters", "matched", "absent", "ambiguous", "study_population",
        "cohort",
    ]
    assert funnel["cohort"] == len(members) > 0
    # tiny worlds have small cells: those are published as suppressed (missing), never shown
    hidden = first["cohort_funnel"].set_index("stage")["suppressed"]
    assert funnel[~hidden].ge(5).all() and funnel[hidden].isna().all()
    if not hidden[["matched", "absent", "study_population"]].any():
        assert funnel["study_population"] == funnel["matched"] + funnel["absent"]
    all_row = first["outcome_table"].query("dimension == 'all'").iloc[0]
    assert all_row["before"] == members["before"].sum()
    # a tiny world has small cells, so a figure may be suppressed (primary or secondary);
    # what is shown must be right, and what is hidden must be missing
    if "after" in all_row["suppressed_cells"].split(","):
        assert pd.isna(all_row["after"])
    else:
        assert all_row["after"] == members["after"].sum()

    for table in DOWNSTREAM:
        leaked = IDENTIFIERS & set(wh.read_table(table).columns)
        assert not leaked, f"{table} carries identifiers {leaked}"


def test_immature_cohort_year_is_refused_naming_the_extract_it_needs(data_dir, tiny_delivery,
                                                                      monkeypatch):
    monkeypatch.setenv("RECONVICTION_LINKAGE_METHOD", "deterministic")
    shutil.copytree(tiny_delivery, data_dir / "landing" / tiny_delivery.name)
    with dg.instance_for_test() as instance:
        assert _run(instance, "refresh_delivery").success
        result = _run(instance, "cohort_year", partition_key="2008-09")
    assert not result.success
    [message] = failure_messages(result)
    assert message.startswith("cohort_tables: ImmatureCohortYear")
    assert required_extract_date("2008-09", Settings()).isoformat() in message
    assert not Warehouse(Settings.from_env().warehouse_url).table_exists("cohort_members")
