"""The NTA rule: deterministic linkage on the exact attributor (METHOD.md §3).

Exports `nta_links`.

A PNC person is a candidate for a linkable client when its nominal or any alias has the
client's first initial, surname initial, date of birth and sex. The client is `matched`
when it has exactly one candidate and that person is the candidate of no other client in
the whole extract, `absent` when it has none, `ambiguous` otherwise. Clients that are not
linkable (sex 9, an initial missing or not a single letter) are `ambiguous` and take no
part in deciding other clients' candidates.
"""

import numpy as np
import pandas as pd

from dagster_project.linkage.identities import ATTRIBUTOR
from dagster_project.vocabulary.link_status import ABSENT, AMBIGUOUS, MATCHED

METHOD = "deterministic"


def nta_links(clients: pd.DataFrame, variants: pd.DataFrame) -> pd.DataFrame:
    """One row per client (in the order of `clients`), from `client_identities` and
    `pnc_identity_variants`.

    Columns: the attributor, `link_status`, `pncid` (missing unless matched),
    `candidates` (distinct candidate PNC persons; missing for clients not linkable),
    `match_probability` (1.0 matched, 0.0 absent, NaN ambiguous: the rule gives no
    probability to an undecided link) and `method` ('deterministic').
    """
    usable = clients["linkable"].to_numpy(dtype=bool)
    linkable = clients.loc[usable, ATTRIBUTOR].assign(client_row=np.flatnonzero(usable))
    # Missing keys would join missing to missing; a linkable client has none, so dropping
    # such variants only saves work.
    identities = variants[["pncid", *ATTRIBUTOR]].dropna()

    candidates = linkable.merge(identities, on=ATTRIBUTOR, how="inner")[
        ["client_row", "pncid"]
    ].drop_duplicates()
    persons_per_client = candidates.groupby("client_row")["pncid"].nunique()
    clients_per_person = candidates.groupby("pncid")["client_row"].nunique()

    sole = candidates[candidates["client_row"].map(persons_per_client).eq(1)]
    matched = sole[sole["pncid"].map(clients_per_person).eq(1)].set_index("client_row")["pncid"]

    n = len(clients)
    counts = pd.Series(pd.NA, index=range(n), dtype="Int64")
    counts.loc[linkable["client_row"].to_numpy()] = 0
    counts.loc[persons_per_client.index.to_numpy()] = persons_per_client.to_numpy()

    status = np.where(counts.eq(0).fillna(False), ABSENT, AMBIGUOUS).astype(object)
    status[matched.index.to_numpy()] = MATCHED
    pncid = pd.Series(pd.NA, index=range(n), dtype="str")
    pncid.loc[matched.index.to_numpy()] = matched.to_numpy()

    links = clients[ATTRIBUTOR].reset_index(drop=True).assign(
        link_status=pd.Series(status, dtype="str"),
        pncid=pncid,
        candidates=counts,
        match_probability=pd.Series(status).map({MATCHED: 1.0, ABSENT: 0.0}).astype(
            "float64"
        ),
        method=METHOD,
    )
    return links.set_axis(clients.index)
