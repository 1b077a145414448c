"""One entry point for both linkage rules, chosen by `Settings.linkage_method`.

Exports `link_clients`, `LinkageResult`.
"""

from dataclasses import dataclass, field

import pandas as pd

from dagster_project.linkage.deterministic import nta_links
from dagster_project.settings import Settings


@dataclass(frozen=True)
class LinkageResult:
    """Per-client links (attributor, link_status, pncid, match_probability, method), the
    trained model where the rule has one, and plain metadata about the run (no identities)."""

    links: pd.DataFrame
    model: dict | None = None
    metadata: dict = field(default_factory=dict)


def link_clients(
    clients: pd.DataFrame, variants: pd.DataFrame, offences: pd.DataFrame, settings: Settings
) -> LinkageResult:
    """Link every client under the configured rule (METHOD.md §3)."""
    if settings.linkage_method == "deterministic":
        return LinkageResult(links=nta_links(clients, variants))
    # Splink and its DuckDB engine are imported only when the model is wanted
    from dagster_project.linkage.probabilistic import (
        model_parameters_markdown,
        probabilistic_links,
    )

    links, model = probabilistic_links(clients, variants, offences, settings)
    return LinkageResult(
        links=links, model=model, metadata={"model_parameters": model_parameters_markdown(model)}
    )
