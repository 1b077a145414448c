"""Linkage of NDTMS clients to PNC persons: pure functions over DataFrames, no Dagster.

Re-exports the narrow surface other stages use: the identity tables of both sides and the
deterministic NTA rule. (`dagster_project.pseudonym` turns an attributor into a
`person_key`.)
"""

from dagster_project.linkage.deterministic import LINK_STATUSES, nta_links
from dagster_project.linkage.identities import (
    ATTRIBUTOR,
    client_identities,
    is_linkable,
    pnc_identity_variants,
)
from dagster_project.linkage.names import first_forename_initial, initial_of, is_single_letter

__all__ = [
    "ATTRIBUTOR",
    "LINK_STATUSES",
    "client_identities",
    "first_forename_initial",
    "initial_of",
    "is_linkable",
    "is_single_letter",
    "nta_links",
    "pnc_identity_variants",
]
