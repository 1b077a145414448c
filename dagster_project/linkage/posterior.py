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

A PNC person has one or more identities (its nominal and its aliases), and a client's
record was taken from one of them. So a person's Bayes factor is the mixture of its
identities' factors, BF_cj = Σ_v w_v·BF_cv, with w_v the chance that identity v is the one
a true link agrees with: 1 − α for the nominal, α shared among the person's aliases (the
nominal alone: 1). The best identity's factor alone gives a person with five aliases six
chances at a chance agreement: on the default national world (seed 7) 916 pairs scored
0.05-0.95 by agreeing with an alias only, 2 of them right; with the mixture, 21. α is
estimated by the same EM.

The m probabilities come first from Splink's EM on narrow blocks, where the "match" class
also takes in the strangers a block gathers (same initials and postcode, say), so that
disagreement among true pairs looks more common than it is. `client_level_em` re-estimates
them, π and α on this one-to-one model: E-step the posteriors above, M-step m of each
level as the share of posterior weight at that level, each identity of a pair weighted by
its part of the pair's factor (u stays the random-pair estimate), and α as the share of
that weight on aliases among persons who have some.
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


def _identity_weights(pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each variant's chance of being the identity the client's record was taken from, given
    the client is its person, as `base + α·slope`: the nominal 1 − α, each of the person's
    alias identities α / aliases, a nominal without aliases 1 (slope 0). Without
    `is_alias` and `aliases` columns every row is a nominal alone."""
    if "is_alias" not in pairs:
        return np.ones(len(pairs)), np.zeros(len(pairs))
    is_alias = pairs["is_alias"].to_numpy(dtype=bool)
    aliases = pairs["aliases"].to_numpy(dtype="float64")
    slope = np.where(is_alias, 1.0 / np.maximum(aliases, 1.0), np.where(aliases > 0, -1.0, 0.0))
    return np.where(is_alias, 0.0, 1.0), slope


def client_level_em(
    pairs: pd.DataFrame,
    m: dict[str, np.ndarray],
    n_linkable: int,
    pnc_persons: int,
) -> tuple[pd.DataFrame, float, dict[str, np.ndarray], float]:
    """Person-level posteriors, π, the re-estimated m probabilities and α.

    `pairs`: one row per scored (client, variant): `client` (row position), `pncid`,
    `bayes_factor` (Splink's, under `m`), for each comparison of `m` a column `gamma_<name>`
    (its level: -1 null, 0 the last level, ...), `is_alias` (the variant is an alias, not
    the nominal) and `aliases` (the person's number of alias identities). `m[name][gamma]`
    is the m probability of each level. Returns (`client`, `pncid`, the levels of the person's
    likeliest variant, `match_probability`) per person, π, m in the same layout, and α,
    the share of true links made through an alias.

    EM starts halfway between the block estimates and even odds across levels: from a
    block's near-zero m, EM takes hundreds of rounds to climb (a level's posterior weight
    is small while its m is), and it stops when no m, nor α, moves by more than
    `M_TOLERANCE`."""
    client = pairs["client"].to_numpy(dtype=np.int64)
    person, _ = pd.factorize(pairs["pncid"])
    # a (client, person) key in one integer: factorising it is far cheaper than the pairs
    pair_of_row, keys = pd.factorize(client * (int(person.max(initial=0)) + 1) + person)
    pair_client = np.empty(len(keys), dtype=np.int64)
    pair_client[pair_of_row] = client
    log_base = np.log(pairs["bayes_factor"].to_numpy(dtype="float64"))
    start = {name: np.asarray(values, dtype="float64") for name, values in m.items()}
    base, slope = _identity_weights(pairs)
    patterns = _Patterns(pairs, start, slope)

    def e_step(m_now, share, alias_share):
        log_factor = log_base + patterns.log_ratios(m_now)
        factor = np.exp(log_factor) * (base + alias_share * slope)
        pair_factor = np.bincount(pair_of_row, weights=factor, minlength=len(keys))
        posterior, share = _posteriors(pair_client, pair_factor, n_linkable, pnc_persons,
                                       share)
        # each row's weight: the pair's posterior times the variant's share of its factor
        weight = posterior[pair_of_row] * factor / np.maximum(pair_factor[pair_of_row],
                                                              1e-300)
        return posterior, share, weight

    current = {name: 0.5 * values + 0.5 / len(values) for name, values in start.items()}
    share, alias_share = 0.5, 0.5
    for _ in range(MAX_EM_ROUNDS):
        _, share, weight = e_step(current, share, alias_share)
        by_level, on_aliases, with_aliases = patterns.sums(weight)
        updated = {name: _m_step(by_level[name]) for name in current}
        moved = max(np.abs(updated[name] - current[name]).max() for name in current)
        if with_aliases > 0:
            # floored like m: a route no link took yet is rare, not impossible
            new_share = min(max(float(on_aliases / with_aliases), M_FLOOR), 1.0 - M_FLOOR)
            moved, alias_share = max(moved, abs(new_share - alias_share)), new_share
        current = updated
        if moved < M_TOLERANCE:
            break
    posterior, share, weight = e_step(current, share, alias_share)
    levels = [f"gamma_{name}" for name in m]
    order = np.lexsort((-weight, pair_of_row))
    likeliest = order[np.r_[True, pair_of_row[order][1:] != pair_of_row[order][:-1]]]
    persons = pairs.iloc[likeliest][["client", "pncid", *levels]].reset_index(drop=True)
    return persons.assign(match_probability=posterior), share, current, alias_share


class _Patterns:
    """Each row's pattern: its level in every comparison and its identity's kind (a
    nominal alone, a nominal with aliases, an alias) as one integer. There are some tens of
    thousands of patterns for millions of pairs, so that an EM round gathers one array and
    sums the weights once, not once per comparison."""

    def __init__(self, pairs: pd.DataFrame, start: dict[str, np.ndarray], slope: np.ndarray):
        # gamma + 1 indexes a level's value with a 0 (no change) in front for the null level
        axes = [pairs[f"gamma_{name}"].to_numpy(dtype=np.int64) + 1 for name in start]
        # the identity's kind: 0 a nominal alone, 1 an alias, 2 a nominal with aliases
        axes.append(np.sign(slope).astype(np.int64) % 3)
        self.log_start = {name: np.log(values) for name, values in start.items()}
        self.shape = tuple(len(values) + 1 for values in start.values()) + (3,)
        self.code = np.ravel_multi_index(axes, self.shape)

    def log_ratios(self, m_now: dict) -> np.ndarray:
        """Per row, the sum over comparisons of log(m now / m at the start) of its level."""
        table = np.zeros(self.shape)
        for axis, (name, log_start) in enumerate(self.log_start.items()):
            ratio = np.r_[0.0, np.log(m_now[name]) - log_start]
            table = table + ratio.reshape([-1 if a == axis else 1
                                           for a in range(len(self.shape))])
        return table.ravel()[self.code]

    def sums(self, weight: np.ndarray) -> tuple[dict[str, np.ndarray], float, float]:
        """Weight per level of each comparison (null level dropped), on alias identities,
        and on persons with aliases."""
        total = np.bincount(self.code, weights=weight,
                            minlength=int(np.prod(self.shape))).reshape(self.shape)
        axes = set(range(len(self.shape)))
        by_level = {name: total.sum(axis=tuple(axes - {axis}))[1:]
                    for axis, name in enumerate(self.log_start)}
        kinds = total.sum(axis=tuple(axes - {len(self.shape) - 1}))
        return by_level, float(kinds[1]), float(kinds[1] + kinds[2])


def _m_step(weights: np.ndarray) -> np.ndarray:
    m = np.maximum(weights / max(weights.sum(), 1e-300), M_FLOOR)
    return m / m.sum()
