"""Every linkage rule's links, made once per delivery and handed over pseudonymised: what
the sensitivity analysis (METHOD.md §7) and the replication compare, so that no cohort
year runs a linkage again.

Exports `alternative_links`, `alternative_offences`, `links_under`, `ALTERNATIVE_COLUMNS`.

A rule is the NTA rule (`deterministic`, no threshold) or the probabilistic rule at one
match threshold; its links are re-resolved from the model's scored pairs
(`client_link_candidates`), never re-scored. PNC persons are keyed by `pnc_key`, a
pseudonym of the PNCID, so the PNCID stays in the linkage stage.
"""

from collections.abc import Iterator

import numpy as np
import pandas as pd

from dagster_project.linkage.deterministic import nta_links
from dagster_project.linkage.handover import OFFENCE_COLUMNS, client_keys, offences_of
from dagster_project.linkage.pseudonym import pnc_key
from dagster_project.linkage.resolve import PROBABILISTIC, links_from_pairs
from dagster_project.vocabulary.link_status import MATCHED
from dagster_project.warehouse.engine import Warehouse

DETERMINISTIC = "deterministic"
ALTERNATIVE_COLUMNS = ["method", "match_threshold", "person_key", "link_status", "pnc_key"]


def alternative_links(
    clients: pd.DataFrame,
    variants: pd.DataFrame,
    candidates: pd.DataFrame,
    thresholds: tuple[float, ...],
    absent_floor: float,
    key: str,
) -> pd.DataFrame:
    """Per rule and client: `ALTERNATIVE_COLUMNS` (`pnc_key` empty unless matched).

    `candidates`: the model's scored pairs (`person_key`, `pncid`, `match_probability`)."""
    keys = client_keys(clients, key).to_numpy()
    pairs = candidates.assign(client=pd.Index(keys).get_indexer(candidates["person_key"]))
    if (pairs["client"] < 0).any():
        raise ValueError("scored pairs name clients that client_identities does not hold")
    rules = [(DETERMINISTIC, np.nan, nta_links(clients, variants))]
    rules += [(PROBABILISTIC, threshold, links_from_pairs(clients, pairs, threshold,
                                                          absent_floor))
              for threshold in thresholds]
    # all rules' PNCIDs in one call: `pnc_key` takes one HMAC per distinct PNCID, and the
    # rules mostly match the same persons (nationally 1.66M HMACs became some 0.3M)
    pncids = pd.concat([links["pncid"] for *_, links in rules], ignore_index=True)
    return pd.DataFrame({
        "method": np.repeat([method for method, *_ in rules], len(keys)),
        "match_threshold": np.repeat([threshold for _, threshold, _ in rules], len(keys)),
        "person_key": np.tile(keys, len(rules)),
        "link_status": np.concatenate([links["link_status"].to_numpy() for *_, links in rules]),
        "pnc_key": pnc_key(pncids, key).to_numpy(),
    })[ALTERNATIVE_COLUMNS]


def alternative_offences(alternatives: pd.DataFrame, candidates: pd.Series, wh: Warehouse,
                         key: str) -> Iterator[pd.DataFrame]:
    """The offences of every PNC person some rule matched, keyed by `pnc_key` (no PNCID,
    no ASN): one copy however many rules matched the person. `candidates`: the PNCIDs any
    rule could have matched (the model's scored persons and the NTA rule's candidates);
    only these are pseudonymised to find the matched ones, not every nominal's. Their
    offences are joined in the warehouse and returned in slices (`offences_of`)."""
    matched = alternatives.loc[alternatives["link_status"].eq(MATCHED), "pnc_key"].unique()
    pncids = pd.Series(pd.unique(candidates.dropna().astype("str")), dtype="str")
    keys = pnc_key(pncids, key)
    wanted = keys.isin(matched).to_numpy()
    if wanted.sum() < len(matched):
        raise ValueError("a matched person is not among the candidates given")
    persons = pd.DataFrame({"pncid": pncids[wanted].to_numpy(), "pnc_key": keys[wanted].to_numpy()})
    return offences_of(wh, persons, "pnc_key")


def links_under(
    alternatives: pd.DataFrame, offences: pd.DataFrame, method: str, threshold: float | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One rule's `client_link_status` and `linked_offences`, shaped as the hand-over's."""
    rows = alternatives["method"].eq(method)
    if threshold is not None:
        rows &= np.isclose(alternatives["match_threshold"].astype("float64"), threshold)
    links = alternatives[rows]
    status = links[["person_key", "link_status"]].assign(method=method).reset_index(drop=True)
    matched = links.loc[links["link_status"].eq(MATCHED), ["pnc_key", "person_key"]]
    linked = offences.merge(matched, on="pnc_key", how="inner")
    return status, linked[["person_key", *OFFENCE_COLUMNS]].reset_index(drop=True)
