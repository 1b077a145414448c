"""Linkage of NDTMS clients to PNC persons: pure functions over DataFrames, no Dagster.

Re-exports the narrow surface other stages use: the identity tables of both sides, the
deterministic NTA rule and the probabilistic rule (with its model's parameter table).
(`dagster_project.linkage.pseudonym` turns an attributor into a `person_key`.)
"""

from dagster_project.linkage.deterministic import nta_links
from dagster_project.linkage.identities import (
    ATTRIBUTOR,
    client_identities,
    is_linkable,
    pnc_identity_variants,
)
from dagster_project.linkage.names import first_forename_initial, initial_of, is_single_letter
from dagster_project.linkage.resolve import resolve_links


def __getattr__(name: str):
    # the probabilistic rule pulls in Splink: imported only when it is asked for
    if name in ("probabilistic_links", "model_parameters_markdown"):
        from dagster_project.linkage import probabilistic

        return getattr(probabilistic, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ATTRIBUTOR",
    "client_identities",
    "first_forename_initial",
    "initial_of",
    "is_linkable",
    "is_single_letter",
    "model_parameters_markdown",
    "nta_links",
    "pnc_identity_variants",
    "probabilistic_links",
    "resolve_links",
]
