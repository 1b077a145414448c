"""Named worlds (synth/profiles.py): each changes the world the way its name says and no
other way, and `default` is the world the generator always made."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from dagster_project.synth import SynthConfig, generate_delivery
from dagster_project.synth.people import slip_dob
from dagster_project.synth.profiles import PROFILES, with_profile

NEW_KINDS = ("dob_day_transposed", "dob_year_transposed", "placeholder_dob",
             "second_forename_first", "married_surname")


def test_default_is_the_scale_world_and_plants_no_unseen_error():
    base = SynthConfig.for_scale("demo")
    default = with_profile(base, "default")
    assert dataclasses.replace(default, profile="default") == base
    assert all(default.recording_error_shares[kind] == 0 for kind in NEW_KINDS)


def test_each_profile_turns_its_own_dial():
    base = SynthConfig.for_scale("national")
    noisy = with_profile(base, "noisy")
    assert all(noisy.recording_error_shares[kind] > 0 for kind in NEW_KINDS)
    for kind, rate in base.recording_error_shares.items():
        if rate > 0:
            assert 2 <= noisy.recording_error_shares[kind] / rate <= 3, kind
    assert with_profile(base, "big-pnc").pnc_other_nominals == 3 * base.pnc_other_nominals
    assert with_profile(base, "big-pnc").new_clients_per_year == base.new_clients_per_year
    sparse = with_profile(base, "sparse")
    assert sparse.postcode_missing_share == sparse.ethnicity_missing_share == 0.4
    assert with_profile(base, "mobile").move_rate == pytest.approx(3 * base.move_rate)
    with pytest.raises(ValueError, match="profile must be one of"):
        with_profile(base, "kind")
    assert set(PROFILES) == {"default", "noisy", "big-pnc", "sparse", "mobile"}


def test_transposed_digits_are_what_a_clerk_types():
    days = (pd.to_datetime(["1975-03-12", "1968-11-29"]) - pd.Timestamp(0)).days.to_numpy()
    rng = np.random.default_rng(0)
    day_swapped = pd.to_datetime(slip_dob(rng, days, np.array([3, 3])), unit="D")
    year_swapped = pd.to_datetime(slip_dob(rng, days, np.array([4, 4])), unit="D")
    assert day_swapped[0] == pd.Timestamp("1975-03-21")
    # 92 November is no day: a slip that gives no real date falls back to a year slip
    assert day_swapped[1] == pd.Timestamp("1969-11-28")
    assert list(year_swapped.year) == [1957, 1986]


def test_noisy_and_sparse_deliveries_carry_their_defects(tmp_path):
    config = with_profile(SynthConfig.for_scale("tiny"), "noisy")
    noisy = generate_delivery(config, out=tmp_path / "noisy", seed=3)
    truth = pd.read_parquet(noisy.parent.parent / "truth" / noisy.name / "client_records.parquet")
    planted = set(truth["error"])
    assert {"dob_day_transposed", "dob_year_transposed", "placeholder_dob"} <= planted
    placeholder = pd.to_datetime(truth.loc[truth["error"] == "placeholder_dob", "DOB"])
    assert ((placeholder.dt.month == 1) & (placeholder.dt.day == 1)).all()

    sparse = generate_delivery(with_profile(SynthConfig.for_scale("tiny"), "sparse"),
                               out=tmp_path / "sparse", seed=3)
    episodes = pd.read_csv(sparse / "ndtms_episodes.csv", dtype=str, keep_default_na=False)
    nominals = pd.read_csv(sparse / "pnc_nominals.csv", dtype=str, keep_default_na=False)
    for share in (episodes["PC"].eq("").mean(), nominals["POSTCODE"].eq("").mean(),
                  nominals["ETHNICITY"].eq("").mean()):
        assert 0.3 < share < 0.5


def test_the_age_decline_dial_reaches_the_world_and_deepens_the_fall_without_treatment(
        data_dir):
    """`synth --age-decline` sets the world's ageing; people who age out of crime faster
    show a larger naive reduction where treatment does nothing (the comparison group's
    hard case)."""
    import json

    from dagster_project.cli.main import main

    naive = {}
    for rate in (0.02, 0.10):
        out = data_dir / f"ageing-{rate}" / "landing"
        assert main(["synth", "--scale", "demo", "--seed", "3", "--treatment-effect", "0",
                     "--age-decline", str(rate), "--out", str(out)]) == 0
        truth = next((out.parent / "truth").iterdir())
        assert json.loads((truth / "parameters.json").read_text())["effect"][
            "age_decline"] == rate
        effect = pd.read_csv(truth / "comparison_truth.csv").set_index("cohort_year")
        assert effect.loc["2006-07", "true_reduction"] == 0
        naive[rate] = effect.loc["2006-07", "naive_reduction"]
    assert naive[0.10] > naive[0.02] + 0.1
