"""The probabilistic rule: a Fellegi-Sunter model (Splink 5 on DuckDB), METHOD.md §3.

Exports `probabilistic_links`, `train_and_predict`, `model_parameters_markdown`, `METHOD`.

The model is trained on the delivery itself (no labels exist): the share of pairs that
match from exact agreement on the attributor, u probabilities from random pairs, m
probabilities by expectation maximisation on a few narrow blocks. Pairs scoring at least
the absent floor are kept and resolved to one status per client (`resolve.py`).
Logs carry counts and parameters only, never an identity.
"""

import logging
import tempfile
import time

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker

from dagster_project.linkage.comparisons import (
    PRIOR_RULE,
    PRIOR_RULE_RECALL,
    TRAINING_BLOCKING_RULES,
    settings_creator,
)
from dagster_project.linkage.features import build_features
from dagster_project.linkage.identities import ATTRIBUTOR
from dagster_project.linkage.resolve import resolve_links

METHOD = "probabilistic"
U_MAX_PAIRS = 1e7
EM_MAX_PAIRS = 2e6
MEMORY_LIMIT = "3GB"  # DuckDB spills to disk beyond this (8 GB peak is the target)
logger = logging.getLogger(__name__)


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/reconviction_duckdb'")
    # A fixed insertion order keeps results independent of thread scheduling.
    con.execute("SET preserve_insertion_order = true")
    return con


def _train(linker: Linker, seed: int) -> None:
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [PRIOR_RULE], recall=PRIOR_RULE_RECALL
    )
    training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    for rule in TRAINING_BLOCKING_RULES:
        try:
            training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=EM_MAX_PAIRS
            )
        except ValueError as exc:
            # on a small world a block can hold too few pairs for EM, which then drives a
            # level's m towards 0 until Splink refuses it; the starting values stand instead
            logger.warning("EM session skipped (%s): keeping the starting m values", exc)


def train_and_predict(
    clients: pd.DataFrame,
    variants: pd.DataFrame,
    offences: pd.DataFrame,
    absent_floor: float,
    seed: int = 42,
) -> tuple[pd.DataFrame, dict]:
    """Scored pairs (`client` row position, `variant` row position, `match_probability`)
    at or above the floor, and the trained model as a dict."""
    con = _connection()
    try:
        started = time.perf_counter()
        client_table, variant_table = build_features(con, clients, variants, offences)
        logger.info("linkage features built in %.0f s", time.perf_counter() - started)
        db_api = DuckDBAPI(con)
        inputs = [
            db_api.register(client_table, table_name="a_ndtms_clients"),
            db_api.register(variant_table, table_name="b_pnc_variants"),
        ]
        linker = Linker(inputs, settings_creator(), log_level=logging.WARNING)
        started = time.perf_counter()
        _train(linker, seed)
        logger.info("linkage model trained in %.0f s", time.perf_counter() - started)
        started = time.perf_counter()
        predictions = linker.inference.predict(
            threshold_match_probability=absent_floor, warning_mode="never"
        )
        logger.info("pairs scored in %.0f s", time.perf_counter() - started)
        pairs = con.sql(f"""
            SELECT CASE WHEN source_dataset_l = 'a_ndtms_clients'
                        THEN unique_id_l ELSE unique_id_r END AS client,
                   CASE WHEN source_dataset_l = 'a_ndtms_clients'
                        THEN unique_id_r ELSE unique_id_l END AS variant,
                   match_probability
            FROM {predictions.physical_name}
            ORDER BY client, variant
        """).df()
        model = linker.misc.save_model_to_json()
    finally:
        con.close()
    logger.info("%d scored pairs at or above the absent floor", len(pairs))
    return pairs, model


def probabilistic_links(
    clients: pd.DataFrame,
    variants: pd.DataFrame,
    offences: pd.DataFrame,
    settings,
    seed: int = 42,
) -> tuple[pd.DataFrame, dict]:
    """One row per client (index and attributor of `clients`), like `nta_links`: columns
    `link_status`, `pncid` (missing unless matched), `match_probability` (the client's
    best link; NaN when not linkable), `method` ('probabilistic'); and the trained model.

    `clients` from `client_identities`, `variants` from `pnc_identity_variants` (their
    `postcode` and `force` also give the postcode-to-force map), `offences` the staged
    offences (`pncid`, `offence_start`, `force`), `settings` a `Settings` (thresholds).
    """
    pairs, model = train_and_predict(
        clients, variants, offences, settings.absent_floor, seed=seed
    )
    pairs["pncid"] = variants["pncid"].to_numpy()[pairs["variant"].to_numpy()]
    resolved = resolve_links(
        pairs, clients["linkable"].to_numpy(dtype=bool),
        settings.match_threshold, settings.absent_floor,
    )
    links = clients[ATTRIBUTOR].reset_index(drop=True).join(resolved).assign(method=METHOD)
    counts = links["link_status"].value_counts().to_dict()
    logger.info("probabilistic link statuses: %s", counts)
    return links.set_axis(clients.index), model


def model_parameters_markdown(model: dict) -> str:
    """The trained m and u probabilities per comparison level, as a markdown table (no
    identities: only the model's parameters), for Dagster metadata."""
    lines = ["| comparison | level | m | u | Bayes factor |", "|---|---|---|---|---|"]
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            factor = f"{m / u:,.3g}" if m and u else ""
            lines.append(
                f"| {comparison['output_column_name']} | {level['label_for_charts']} "
                f"| {_fmt(m)} | {_fmt(u)} | {factor} |"
            )
    prior = model.get("probability_two_random_records_match")
    lines.append(f"\nprobability two random records match: {_fmt(prior)}")
    return "\n".join(lines)


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3g}"
