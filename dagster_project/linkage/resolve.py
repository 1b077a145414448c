"""From scored pairs to one link status per client (METHOD.md §3, probabilistic rule).

Exports `resolve_links`, `links_from_pairs`, `PROBABILISTIC`.

A client is `matched` to a PNC person when their link reaches the match threshold and is
the single best link on both sides: the client's best person is that person and no other
person ties with it, and that person's best client is that client and no other client ties
with it. A client is `absent` when no candidate reaches the absent floor, `ambiguous`
otherwise. Clients that are not linkable take no part (they have no pairs) and are
`ambiguous` with no probability.
"""

import numpy as np
import pandas as pd

from dagster_project.linkage.identities import ATTRIBUTOR
from dagster_project.vocabulary.link_status import ABSENT, AMBIGUOUS, MATCHED

PROBABILISTIC = "probabilistic"

# Probabilities equal to this many decimals are ties: the same evidence summed in another
# order must not break a tie by rounding noise.
TIE_DECIMALS = 12


def resolve_links(
    pair_probabilities: pd.DataFrame,
    linkable: pd.Series | np.ndarray,
    match_threshold: float,
    absent_floor: float,
) -> pd.DataFrame:
    """One row per client (index 0..n-1, n = len(linkable)).

    `pair_probabilities`: columns `client` (row position of the client), `pncid` and
    `match_probability`, any number of rows per pair (the variants of a person; the best
    counts). Returns columns `link_status`, `pncid` (missing unless matched) and
    `match_probability` (the client's best; 0.0 when absent with no scored pair, NaN when
    not linkable).
    """
    linkable = np.asarray(linkable, dtype=bool)
    n = len(linkable)
    pairs = pair_probabilities[["client", "pncid", "match_probability"]]
    pairs = pairs[linkable[pairs["client"].to_numpy()]]
    persons = (
        pairs.groupby(["client", "pncid"], sort=False)["match_probability"].max().reset_index()
    )
    persons["p"] = persons["match_probability"].round(TIE_DECIMALS)
    client_best = persons.groupby("client")["p"].transform("max")
    person_best = persons.groupby("pncid")["p"].transform("max")
    best_of_client = persons[persons["p"].eq(client_best)]
    best_of_person = persons[persons["p"].eq(person_best)]
    sole_for_client = best_of_client.groupby("client")["pncid"].transform("size").eq(1)
    sole_for_person = best_of_person.groupby("pncid")["client"].transform("size").eq(1)

    mutual = best_of_client[sole_for_client].merge(
        best_of_person[sole_for_person][["client", "pncid"]], on=["client", "pncid"]
    )
    matched = mutual[mutual["match_probability"].ge(match_threshold)].set_index("client")

    best = persons.groupby("client")["match_probability"].max().reindex(range(n))
    status = np.where(best.ge(absent_floor).fillna(False), AMBIGUOUS, ABSENT)
    status = status.astype(object)
    status[matched.index.to_numpy()] = MATCHED
    status[~linkable] = AMBIGUOUS
    pncid = pd.Series(pd.NA, index=range(n), dtype="str")
    pncid.loc[matched.index.to_numpy()] = matched["pncid"].to_numpy()
    probability = best.fillna(0.0).to_numpy(copy=True)
    probability[~linkable] = np.nan
    return pd.DataFrame({
        "link_status": pd.Series(status, dtype="str"),
        "pncid": pncid,
        "match_probability": probability,
    })


def links_from_pairs(
    clients: pd.DataFrame, pairs: pd.DataFrame, match_threshold: float, absent_floor: float
) -> pd.DataFrame:
    """One row per client (index and attributor of `clients`): `link_status`, `pncid`,
    `match_probability`, `method`, from scored pairs (`client` row position, `pncid`,
    `match_probability`) at a given threshold. Cheap, so that the thresholds of the
    sensitivity analysis (METHOD.md §7) need the model only once."""
    resolved = resolve_links(
        pairs, clients["linkable"].to_numpy(dtype=bool), match_threshold, absent_floor
    )
    links = clients[ATTRIBUTOR].reset_index(drop=True).join(resolved)
    return links.assign(method=PROBABILISTIC).set_axis(clients.index)
