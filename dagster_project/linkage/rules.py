"""One entry point for both linkage rules, chosen by `Settings.linkage_method`.

Exports `link_clients`, `links_from_candidates`, `candidate_pairs`, `LinkageResult`.
"""

from dataclasses import dataclass, field

import pandas as pd

from dagster_project.linkage.deterministic import nta_links
from dagster_project.linkage.resolve import links_from_pairs
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
    from dagster_project.linkage.probabilistic import model_parameters_markdown, probabilistic_links

    links, model = probabilistic_links(clients, variants, offences, settings)
    return LinkageResult(
        links=links, model=model, metadata={"model_parameters": model_parameters_markdown(model)}
    )


def candidate_pairs(
    clients: pd.DataFrame, variants: pd.DataFrame, offences: pd.DataFrame, settings: Settings
) -> LinkageResult:
    """The probabilistic model's scored pairs at or above the absent floor (`links` holds
    them: `client` row position, `pncid`, `match_probability`), with the trained model."""
    from dagster_project.linkage.probabilistic import model_parameters_markdown, score_pairs

    pairs, model = score_pairs(clients, variants, offences, settings.absent_floor)
    return LinkageResult(
        links=pairs, model=model,
        metadata={"model_parameters": model_parameters_markdown(model)},
    )


def links_from_candidates(
    clients: pd.DataFrame, variants: pd.DataFrame, pairs: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """Per-client links under the configured rule: the NTA rule, or the probabilistic rule
    resolved from the model's scored pairs (`client` row position, `pncid`, probability)."""
    if settings.linkage_method == "deterministic":
        return nta_links(clients, variants)
    return links_from_pairs(clients, pairs, settings.match_threshold, settings.absent_floor)
