"""From pairwise Bayes factors to a probability that can be read as a frequency.

Exports `client_level_em`, `share_with_record`.

Splink scores each pair on its own: p = λ·BF / (1 − λ + λ·BF), with λ the chance that two
random records match. A client, though, is one person who is at most one PNC person, and
its candidates compete: two strangers each at p = 0.5 cannot both be the client. And λ
taken from exact agreement counts every chance collision of initials and birthdays as a
match, so it grows with the PNC's size and with how often attributors collide, and every
probability with it. Here each client is scored against all of its candidates at once:

    P(client c is PNC person j) = (π/N)·BF_cj / ((1 − π) + (π/N)·Σ_k BF_ck)

with N the number of PNC persons and π the share of clients who have a record at all.
Pairs not scored (outside the blocking rules) disagree on so much that their sum is
negligible.

The m probabilities come first from Splink's EM on narrow blocks, where the "match" class
also takes in the strangers a block gathers (same initials and postcode, say), so that
disagreement among true pairs looks more common than it is. `client_level_em` re-estimates
them, and π, on this one-to-one model: E-step the posteriors above, M-step m of each level
as the posterior-weighted share of pairs at that level (u stays the random-pair estimate).
"""

import numpy as np
import pandas as pd

MAX_ITERATIONS = 200
TOLERANCE = 1e-7
MAX_EM_ROUNDS = 500
M_TOLERANCE = 1e-5
M_FLOOR = 1e-4  # see probabilistic.M_FLOOR: an unseen level is rare, not impossible


def share_with_record(factor_sums: np.ndarray, n_clients: int, pnc_persons: int,
                      start: float = 0.5) -> float:
    """π: the share of clients with a PNC record, from each client's sum of Bayes factors
    over its candidate persons (`factor_sums`, one per client that has candidates; the
    other `n_clients - len(factor_sums)` linkable clients have none): the fixed point of
    π = mean over clients of P(the client has a record)."""
    share = start
    scaled = np.asarray(factor_sums, dtype="float64") / pnc_persons
    for _ in range(MAX_ITERATIONS):
        evidence = share * scaled
        updated = float(np.sum(evidence / (1.0 - share + evidence)) / n_clients)
        updated = min(max(updated, 1e-9), 1 - 1e-9)
        if abs(updated - share) < TOLERANCE:
            return updated
        share = updated
    return share


def _posteriors(client: np.ndarray, factor: np.ndarray, n_linkable: int, pnc_persons: int,
                start: float = 0.5):
    """Per person row: the client-level posterior, and π."""
    sums = np.bincount(client, weights=factor)
    share = share_with_record(sums[sums > 0], max(n_linkable, 1), pnc_persons, start)
    weight = share / pnc_persons
    return weight * factor / (1.0 - share + weight * sums[client]), share


def _best_variants(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each (client, PNC person)'s best-scored variant: a person is linked through its best
    identity, and which one that is does not change as m is refined (they differ by whole
    levels of initials or dates)."""
    person, _ = pd.factorize(pairs["pncid"])
    key = pairs["client"].to_numpy(dtype=np.int64) * (int(person.max(initial=0)) + 1) + person
    order = np.lexsort((-pairs["bayes_factor"].to_numpy(), key))
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    return pairs.iloc[order[first]].reset_index(drop=True)


def client_level_em(
    pairs: pd.DataFrame,
    m: dict[str, np.ndarray],
    n_linkable: int,
    pnc_persons: int,
) -> tuple[pd.DataFrame, float, dict[str, np.ndarray]]:
    """Person-level posteriors, π and the re-estimated m probabilities.

    `pairs`: one row per scored (client, variant): `client` (row position), `pncid`,
    `bayes_factor` (Splink's, under `m`), and for each comparison of `m` a column
    `gamma_<name>` (its level: -1 null, 0 the last level, ...). `m[name][gamma]` is the
    m probability of each level. Returns (`client`, `pncid`, the levels of the person's
    best variant, `match_probability`) per person, π, and m in the same layout.

    EM starts halfway between the block estimates and even odds across levels: from a
    block's near-zero m, EM takes hundreds of rounds to climb (a level's posterior weight
    is small while its m is), and it stops when no m moves by more than `M_TOLERANCE`."""
    persons = _best_variants(pairs)
    client = persons["client"].to_numpy()
    log_base = np.log(persons["bayes_factor"].to_numpy(dtype="float64"))
    # gamma + 1 indexes a level's value with a 0 (no change) in front for the null level
    slots = {name: persons[f"gamma_{name}"].to_numpy(dtype=np.int64) + 1 for name in m}
    start = {name: np.asarray(values, dtype="float64") for name, values in m.items()}
    share = 0.5

    def e_step(m_now, share):
        log_factor = log_base.copy()
        for name, slot in slots.items():
            log_factor += np.r_[0.0, np.log(m_now[name] / start[name])][slot]
        return _posteriors(client, np.exp(log_factor), n_linkable, pnc_persons, share)

    current = {name: 0.5 * values + 0.5 / len(values) for name, values in start.items()}
    for _ in range(MAX_EM_ROUNDS):
        posterior, share = e_step(current, share)
        updated = {name: _m_step(slot, posterior, len(current[name]))
                   for name, slot in slots.items()}
        moved = max(np.abs(updated[name] - current[name]).max() for name in current)
        current = updated
        if moved < M_TOLERANCE:
            break
    posterior, share = e_step(current, share)
    levels = [f"gamma_{name}" for name in m]
    return (persons[["client", "pncid", *levels]].assign(match_probability=posterior),
            share, current)


def _m_step(slot: np.ndarray, posterior: np.ndarray, levels: int) -> np.ndarray:
    weights = np.bincount(slot, weights=posterior, minlength=levels + 1)[1:]
    m = np.maximum(weights / max(weights.sum(), 1e-300), M_FLOOR)
    return m / m.sum()
