"""The probabilistic rule on a small fabricated world, and its status rule on crafted tables.

The world: PNC persons with skewed initials, home areas in a handful of forces and offences
mostly at home; most treatment clients are PNC persons, some are not. A few clients are
planted with the slips the model must tolerate, and a few cases it must not decide.
"""

import numpy as np
import pandas as pd
import pytest

from dagster_project.linkage import ATTRIBUTOR, client_identities, pnc_identity_variants
from dagster_project.linkage.deterministic import nta_links
from dagster_project.linkage.probabilistic import model_parameters_markdown, probabilistic_links
from dagster_project.linkage.resolve import resolve_links
from dagster_project.settings import Settings

LETTERS = np.array(list("ABCDEFGHIJKLMNOPRSTW"))
LETTER_WEIGHTS = np.linspace(3, 0.5, len(LETTERS)) / np.linspace(3, 0.5, len(LETTERS)).sum()
N_PERSONS, N_CLIENTS, N_STRANGERS = 3000, 500, 150


def _persons(rng, n: int, first_id: int) -> pd.DataFrame:
    home = rng.integers(0, 120, n)
    return pd.DataFrame({
        "person": np.arange(first_id, first_id + n),
        "finitial": rng.choice(LETTERS, n, p=LETTER_WEIGHTS),
        "sinitial": rng.choice(LETTERS, n, p=LETTER_WEIGHTS),
        "dob": pd.to_datetime("1960-01-01") + pd.to_timedelta(rng.integers(0, 30 * 365, n), "D"),
        "male": rng.random(n) < 0.8,
        "postcode": np.char.add("PC", home.astype(str)),
        "force": np.char.zfill((home % 12 + 1).astype(str), 2),
        "ethnic": rng.choice(["A", "C", "M", "H"], n, p=[0.8, 0.05, 0.1, 0.05]),
    })


def _pnc(persons: pd.DataFrame, rng) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n = len(persons)
    pncid = [f"2000/{i:07d}X" for i in persons["person"]]
    ethnic_pnc = persons["ethnic"].map({"A": "W1", "C": "W9", "M": "B1", "H": "A1"})
    nominals = pd.DataFrame({
        "pncid": pncid, "surname": [s + "son" for s in persons["sinitial"]],
        "forenames": [f + "ohn" for f in persons["finitial"]], "dob": persons["dob"],
        "sex": np.where(persons["male"], "M", "F"), "postcode": persons["postcode"],
        "force": persons["force"], "ethnicity": ethnic_pnc.to_numpy(),
    })
    aliases = nominals.iloc[:0][["pncid", "surname", "forenames", "dob"]]
    counts = rng.integers(1, 8, n)
    owner = np.repeat(np.arange(n), counts)
    away = rng.random(len(owner)) < 0.1
    offences = pd.DataFrame({
        "pncid": np.asarray(pncid)[owner],
        "offence_start": pd.to_datetime("2001-01-01")
        + pd.to_timedelta(rng.integers(0, 8 * 365, len(owner)), "D"),
        "force": np.where(away, "40", persons["force"].to_numpy()[owner]),
    })
    return nominals, aliases, offences


def _episodes(persons: pd.DataFrame, rng) -> pd.DataFrame:
    n = len(persons)
    return pd.DataFrame({
        "finitial": persons["finitial"].to_numpy(), "sinitial": persons["sinitial"].to_numpy(),
        "dob": persons["dob"].to_numpy(), "sex": np.where(persons["male"], "1", "2"),
        "pc": persons["postcode"].to_numpy(), "dat": "D1",
        "ethnic": persons["ethnic"].to_numpy(),
        "triaged": pd.to_datetime("2005-01-01")
        + pd.to_timedelta(rng.integers(0, 3 * 365, n), "D"),
    })


def _plant(episodes: pd.DataFrame, persons: pd.DataFrame) -> dict[str, int]:
    """Slips and hard cases on chosen clients; returns client person ids by case."""
    dob = episodes["dob"]
    swappable = persons.index[(dob.dt.day <= 12) & (dob.dt.day != dob.dt.month)][0]
    d = dob[swappable]
    episodes.loc[swappable, "dob"] = pd.Timestamp(d.year, d.day, d.month)
    digit = swappable + 1
    d = dob[digit]
    episodes.loc[digit, "dob"] = d.replace(year=d.year + 1 if d.year % 10 != 9 else d.year - 1)
    return {"swap": int(persons.loc[swappable, "person"]),
            "digit": int(persons.loc[digit, "person"])}


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(11)
    persons = _persons(rng, N_PERSONS, 0)
    strangers = _persons(rng, N_STRANGERS, N_PERSONS)
    clients_people = pd.concat([persons.iloc[:N_CLIENTS], strangers], ignore_index=True)
    episodes = _episodes(clients_people, rng)
    planted = _plant(episodes, clients_people)
    # a collision: a client whose attributor two PNC persons share, and nothing else agrees
    twin = persons.iloc[N_CLIENTS + 1].copy()
    collision = twin.copy()
    collision["person"] = 9999
    collision_pnc = pd.DataFrame([twin, twin.copy()]).assign(person=[9000, 9001])
    collision_pnc["postcode"] = ["PC1", "PC2"]
    # an absent client: nobody on the PNC is anywhere near
    lonely = collision.copy()
    lonely[["finitial", "sinitial", "person"]] = ["Z", "Y", 9998]
    lonely["dob"] = pd.Timestamp("1999-12-31")
    extra = pd.DataFrame([collision, lonely])
    extra_episodes = _episodes(extra, rng).assign(pc="PC119", ethnic="Z")
    episodes = pd.concat([episodes, extra_episodes], ignore_index=True)
    nominals, aliases, offences = _pnc(pd.concat([persons, collision_pnc]), rng)
    clients = client_identities(episodes)
    variants = pnc_identity_variants(nominals, aliases)
    links, model = probabilistic_links(clients, variants, offences, Settings(), seed=3)
    # who each client truly is: its episode's person (attributors are distinct here)
    episodes["person"] = pd.concat([clients_people, extra], ignore_index=True)["person"]
    who = clients.merge(episodes[[*ATTRIBUTOR, "person"]], on=ATTRIBUTOR, how="left")
    links["person"] = who["person"].to_numpy()
    return {"links": links, "model": model, "clients": clients, "variants": variants,
            "offences": offences, "planted": planted}


def _link_of(world, person: int) -> pd.Series:
    links = world["links"]
    return links[links["person"].eq(person)].iloc[0]


def _pncid(person: int) -> str:
    return f"2000/{person:07d}X"


def test_links_exact_matches(world):
    links = world["links"]
    clients = links[links["person"] < N_CLIENTS]
    correct = clients["pncid"].eq(clients["person"].map(_pncid))
    assert correct.mean() > 0.9


def test_tolerates_day_month_swap_and_digit_slip(world):
    for case in ("swap", "digit"):
        link = _link_of(world, world["planted"][case])
        assert link["link_status"] == "matched", case
        assert link["pncid"] == _pncid(world["planted"][case])


def test_collision_with_two_candidates_is_ambiguous(world):
    assert _link_of(world, 9999)["link_status"] == "ambiguous"


def test_absent_when_nothing_is_close(world):
    assert _link_of(world, 9998)["link_status"] == "absent"


def test_no_false_links_of_clients_without_record(world):
    links = world["links"]
    strangers = links[links["person"].between(N_PERSONS, N_PERSONS + N_STRANGERS - 1)]
    assert strangers["link_status"].eq("matched").mean() < 0.02


def test_one_to_one(world):
    matched = world["links"]["pncid"].dropna()
    assert not matched.duplicated().any()


def test_same_links_for_the_same_seed(world):
    again, model = probabilistic_links(
        world["clients"], world["variants"], world["offences"], Settings(), seed=3)
    pd.testing.assert_frame_equal(again, world["links"].drop(columns="person"))
    # DuckDB sums in parallel: parameters agree to rounding, links exactly
    assert _parameters(model) == pytest.approx(_parameters(world["model"]), rel=1e-9)


def _parameters(model: dict) -> list[float]:
    return [level.get(p) or 0.0 for c in model["comparisons"]
            for level in c["comparison_levels"] for p in ("m_probability", "u_probability")]


def test_model_table_lists_every_comparison(world):
    table = model_parameters_markdown(world["model"])
    for name in ("first_initial", "dob", "area"):
        assert f"| {name} |" in table
    assert "offended in the treatment force" in table


def test_beats_the_nta_rule_on_slips(world):
    nta = nta_links(world["clients"], world["variants"])
    links = world["links"]
    assert links["link_status"].eq("matched").sum() >= nta["link_status"].eq("matched").sum()


# --- the status rule on crafted probability tables -------------------------------------

def _resolve(rows, linkable=(True, True, True)):
    pairs = pd.DataFrame(rows, columns=["client", "pncid", "match_probability"])
    return resolve_links(pairs, np.asarray(linkable), 0.95, 0.05)


def test_single_best_on_both_sides_is_matched():
    out = _resolve([(0, "P1", 0.99), (0, "P2", 0.5), (1, "P2", 0.97), (1, "P1", 0.6)])
    assert out["link_status"].tolist() == ["matched", "matched", "absent"]
    assert out["pncid"].tolist()[:2] == ["P1", "P2"]
    assert out["match_probability"].tolist()[2] == 0.0


def test_best_variant_counts_for_the_person():
    out = _resolve([(0, "P1", 0.2), (0, "P1", 0.99)])
    assert out.loc[0, "link_status"] == "matched"


def test_ties_are_ambiguous():
    out = _resolve([(0, "P1", 0.99), (0, "P2", 0.99), (1, "P3", 0.98), (2, "P3", 0.98)])
    assert out["link_status"].tolist() == ["ambiguous"] * 3
    assert out["pncid"].isna().all()


def test_a_person_better_linked_elsewhere_leaves_the_client_ambiguous():
    out = _resolve([(0, "P1", 0.96), (1, "P1", 0.999)])
    assert out["link_status"].tolist() == ["ambiguous", "matched", "absent"]


def test_below_threshold_ambiguous_below_floor_absent():
    out = _resolve([(0, "P1", 0.9), (1, "P2", 0.01)])
    assert out["link_status"].tolist() == ["ambiguous", "absent", "absent"]


def test_unlinkable_clients_are_ambiguous_and_take_no_part():
    out = _resolve([(0, "P1", 0.99), (1, "P1", 0.999)], linkable=(True, False, True))
    assert out["link_status"].tolist() == ["matched", "ambiguous", "absent"]
    assert np.isnan(out.loc[1, "match_probability"])
