"""A cohort year long after the first (2020-21) on a delivery extracted late enough: the
whole pipeline, probabilistic linkage included, runs on dates the model's masks once
clamped away."""

import dagster as dg

from dagster_project.cli.runs import execute_job
from dagster_project.cohort import required_extract_date
from dagster_project.settings import Settings
from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.warehouse.engine import Warehouse

COHORT_YEAR = "2020-21"


def test_a_2020_21_cohort_year_materialises(data_dir, monkeypatch):
    monkeypatch.setenv("RECONVICTION_LINKAGE_METHOD", "probabilistic")
    extract = required_extract_date(COHORT_YEAR, Settings())
    config = SynthConfig.for_scale("tiny", extract_date=extract.isoformat())
    generate_delivery(config, out=data_dir / "landing", seed=5)
    with dg.instance_for_test() as instance:
        assert execute_job("refresh_delivery", instance).success
        assert execute_job("cohort_year", instance, partition_key=COHORT_YEAR).success
    wh = Warehouse(Settings.from_env().warehouse_url)
    funnel = wh.read_table("cohort_funnel").set_index("stage")
    assert set(funnel.index) >= {"starters", "study_population", "cohort"}
    assert (wh.read_table("cohort_funnel")["cohort_year"] == COHORT_YEAR).all()
    links = wh.read_table("client_links")
    assert (links["link_status"] == "matched").sum() > 0
    sensitivity = wh.read_table("linkage_sensitivity")
    assert (sensitivity["cohort_year"] == COHORT_YEAR).all() and len(sensitivity) > 0
