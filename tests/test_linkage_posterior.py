"""The client-level posterior (posterior.py): candidates of one client compete, the share of
clients with a record is estimated from the delivery, and probabilities are calibrated when
the model's Bayes factors are right."""

import numpy as np
import pandas as pd

from dagster_project.linkage.posterior import client_level_em, share_with_record

PNC_PERSONS = 100_000


# three independent comparisons of two levels each, by gamma (0 differ, 1 agree)
PLANTED_M = {"x": np.array([0.1, 0.9]), "y": np.array([0.2, 0.8]), "z": np.array([0.05, 0.95])}
U = {"x": np.array([0.99, 0.01]), "y": np.array([0.9, 0.1]), "z": np.array([0.95, 0.05])}


def _simulated_pairs(rng, clients: int, with_record: float) -> pd.DataFrame:
    """Clients scored against PNC persons: a true pair agrees on each comparison with
    probability m, a stranger with u, and strangers are scored as often as a blocking rule
    would find them (3 a client on average)."""
    has = rng.random(clients) < with_record
    strangers = rng.poisson(3, clients)
    owner = np.repeat(np.arange(clients), strangers)
    pairs = pd.concat([
        pd.DataFrame({"client": np.flatnonzero(has), "pncid": "true", "truth": True}),
        pd.DataFrame({"client": owner, "pncid": [f"s{i}" for i in range(len(owner))],
                      "truth": False}),
    ], ignore_index=True)
    # being blocked at all is evidence: a true pair always is, a stranger with chance 3 / N,
    # so the blocking rule's own factor is N / 3
    pairs["bayes_factor"] = PNC_PERSONS / 3
    for name, m in PLANTED_M.items():
        agree_chance = np.where(pairs["truth"], m[1], U[name][1])
        pairs[f"gamma_{name}"] = (rng.random(len(pairs)) < agree_chance).astype(int)
    return pairs


def _factors(pairs: pd.DataFrame, m: dict) -> pd.Series:
    """Bayes factors as Splink would give them under the m probabilities `m`."""
    factor = pd.Series(PNC_PERSONS / 3, index=pairs.index)
    for name, values in m.items():
        factor *= (values / U[name])[pairs[f"gamma_{name}"]]
    return factor


def test_share_with_record_is_zero_without_evidence_and_grows_with_it():
    assert share_with_record(np.array([]), 100, PNC_PERSONS) < 1e-6
    low = share_with_record(np.full(50, 1e3), 100, PNC_PERSONS)
    high = share_with_record(np.full(50, 1e9), 100, PNC_PERSONS)
    assert low < 0.01 < 0.49 < high < 0.51


def test_candidates_of_one_client_compete():
    pairs = pd.DataFrame({"client": [0, 0, 1], "pncid": ["a", "b", "c"],
                          "bayes_factor": [1e9, 1e9, 1e9], "gamma_x": [1, 1, 1]})
    persons, *_ = client_level_em(pairs, {"x": np.array([0.1, 0.9])}, 2, PNC_PERSONS)
    probability = persons.set_index("pncid")["match_probability"]
    # two equally strong candidates share the client: neither can pass a 0.95 threshold
    assert abs(probability["a"] - probability["b"]) < 1e-12
    assert probability["a"] + probability["b"] <= 1 + 1e-9
    assert probability["a"] < 0.5 < probability["c"]


def test_variants_of_one_person_count_once():
    pairs = pd.DataFrame({"client": [0, 0], "pncid": ["a", "a"], "bayes_factor": [1e9, 1e6],
                          "gamma_x": [1, 0]})
    persons, *_ = client_level_em(pairs, {"x": np.array([0.1, 0.9])}, 1, PNC_PERSONS)
    assert len(persons) == 1 and persons["match_probability"].iloc[0] > 0.99


def test_share_and_m_are_recovered_and_probabilities_calibrated():
    rng = np.random.default_rng(3)
    pairs = _simulated_pairs(rng, clients=20_000, with_record=0.6)
    # EM on blocks starts it off the mark: every m 0.15 too close to 0.5
    start = {name: np.array([m[0] + 0.15, m[1] - 0.15]) for name, m in PLANTED_M.items()}
    scored = pairs.drop(columns=["truth", "bayes_factor"]).assign(
        bayes_factor=_factors(pairs, start))
    persons, share, m, _ = client_level_em(scored, start, 20_000, PNC_PERSONS)

    assert abs(share - 0.6) < 0.03
    for name, planted in PLANTED_M.items():
        assert abs(m[name][1] - planted[1]) < 0.03, name
    _assert_calibrated(persons, pairs)


def _assert_calibrated(persons: pd.DataFrame, pairs: pd.DataFrame) -> None:
    truth = pairs.groupby(["client", "pncid"])["truth"].any()
    persons = persons.assign(truth=truth.reindex(pd.MultiIndex.from_frame(
        persons[["client", "pncid"]])).to_numpy())
    bands = pd.cut(persons["match_probability"], [0, 0.05, 0.2, 0.5, 0.8, 0.95, 1.0])
    reliability = persons.groupby(bands, observed=True).agg(
        p=("match_probability", "mean"), correct=("truth", "mean"), pairs=("truth", "size"))
    held = reliability[reliability["pairs"] >= 200]
    assert len(held) >= 3
    assert (held["p"] - held["correct"]).abs().max() < 0.05, reliability


def _with_aliases(rng, pairs: pd.DataFrame, through_alias: float) -> pd.DataFrame:
    """Give each person 0, 1, 2 or 5 alias identities, one row per identity. A true pair's
    client took its record from an alias with chance `through_alias` (else the nominal):
    that identity agrees with m, the person's other identities with u, as every identity
    of a stranger does."""
    persons = pairs.assign(aliases=rng.choice([0, 1, 2, 5], len(pairs), p=[.5, .2, .2, .1]))
    rows = persons.loc[persons.index.repeat(persons["aliases"] + 1)].reset_index(drop=True)
    rows["identity"] = rows.groupby(["client", "pncid"]).cumcount()
    rows["is_alias"] = rows["identity"].gt(0)
    by_alias = rng.random(len(persons)) < through_alias
    taken = np.where(by_alias & (persons["aliases"] > 0),
                     1 + rng.integers(0, 5, len(persons)) % np.maximum(persons["aliases"], 1), 0)
    source_identity = pd.Series(taken, index=pd.MultiIndex.from_frame(persons[["client", "pncid"]]))
    is_source = rows["truth"].to_numpy() & (rows["identity"].to_numpy() == source_identity.reindex(
        pd.MultiIndex.from_frame(rows[["client", "pncid"]])).to_numpy())
    for name, m in PLANTED_M.items():
        agree_chance = np.where(is_source, m[1], U[name][1])
        rows[f"gamma_{name}"] = (rng.random(len(rows)) < agree_chance).astype(int)
    return rows.drop(columns=["identity"])


def test_a_persons_identities_are_a_mixture_not_a_best_of():
    """A person with five aliases has six chances to agree with a stranger by chance: its
    best identity's factor would overstate it. Weighted by how often true links go through
    an alias (α, estimated), the posterior stays calibrated and α is recovered."""
    rng = np.random.default_rng(5)
    pairs = _with_aliases(rng, _simulated_pairs(rng, clients=20_000, with_record=0.6), 0.2)
    scored = pairs.drop(columns=["truth", "bayes_factor"]).assign(
        bayes_factor=_factors(pairs, PLANTED_M))
    persons, share, m, alias_share = client_level_em(scored, PLANTED_M, 20_000, PNC_PERSONS)

    assert abs(alias_share - 0.2) < 0.03
    assert abs(share - 0.6) < 0.03
    assert len(persons) == len(pairs.drop_duplicates(["client", "pncid"]))
    _assert_calibrated(persons, pairs)


def test_without_alias_links_the_alias_share_falls_to_its_floor():
    rng = np.random.default_rng(6)
    pairs = _with_aliases(rng, _simulated_pairs(rng, clients=5_000, with_record=0.6), 0.0)
    scored = pairs.drop(columns=["truth", "bayes_factor"]).assign(
        bayes_factor=_factors(pairs, PLANTED_M))
    *_, alias_share = client_level_em(scored, PLANTED_M, 5_000, PNC_PERSONS)
    assert alias_share < 0.01
