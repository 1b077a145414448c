"""The probabilistic rule: a Fellegi-Sunter model (Splink 5 on DuckDB), METHOD.md §3.

Exports `probabilistic_links`, `score_pairs`, `model_parameters_markdown`, `METHOD`.

Every parameter comes from the delivery itself (no labels exist):
- u probabilities: random pairs of clients and PNC persons;
- m probabilities: expectation maximisation on narrow blocks of clients against PNC
  nominals only (an alias is another identity of the same person on purpose, so pairs
  through aliases would teach EM that the same person often has other initials);
- the share of clients with a PNC record (π), which replaces Splink's pairwise prior: the
  fixed point of the client-level posterior (posterior.py).
Pairs are then scored against every variant, and each client's candidates are weighed
against each other (posterior.py) before they are resolved to one status (`resolve.py`).
Logs carry counts and parameters only, never an identity.
"""

import logging
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from splink import DuckDBAPI, Linker
from splink.internals.exceptions import EMTrainingException  # not re-exported by Splink 5

from dagster_project.linkage.blocked_pairs import RECORDS, pair_chunks, scoring_inputs
from dagster_project.linkage.comparisons import (
    PRIOR_RULE,
    PRIOR_RULE_RECALL,
    TRAINING_BLOCKING_RULES,
    rule_sql,
    settings_creator,
)
from dagster_project.linkage.features import VARIANT_PERSONS, Rows, build_features
from dagster_project.linkage.posterior import client_level_em
from dagster_project.linkage.resolve import PROBABILISTIC, links_from_pairs
from dagster_project.linkage.same_age_u import area_u_same_age, with_same_age_area_u
from dagster_project.linkage.term_frequencies import register_initial_term_frequencies
from dagster_project.warehouse.connection import SPILL_PREFIX

METHOD = PROBABILISTIC
U_MAX_PAIRS = 1e7
EM_MAX_PAIRS = 2e6
MEMORY_LIMIT = "3GB"  # DuckDB spills to disk beyond this
# Splink's pairs are kept down to this fraction of the absent floor: they are the weak
# competitors that the client-level posterior weighs against a client's best candidate.
COMPETITOR_FRACTION = 0.01
# the variants one scoring pass joins: their hash table stays within MEMORY_LIMIT
VARIANTS_PER_SCORING_PASS = 1_500_000
NOMINAL_FEATURES = "pnc_nominal_features"
M_FLOOR = 1e-4
logger = logging.getLogger(__name__)


def _connection(spill: Path) -> duckdb.DuckDBPyConnection:
    # a database file in the spill folder: the PNC's variants and offences are copied in
    # and must not have to fit in memory
    con = duckdb.connect(str(spill / "linkage.duckdb"))
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    # a spill folder of this process's own: parallel backfills must not share one
    con.execute(f"SET temp_directory = '{spill}'")
    # A fixed insertion order keeps results independent of thread scheduling.
    con.execute("SET preserve_insertion_order = true")
    # DuckDB draws a bar for queries of some seconds: escape codes in a step's log
    con.execute("SET enable_progress_bar = false")
    return con


def _train(linker: Linker, seed: int, em_rules=TRAINING_BLOCKING_RULES) -> list[str]:
    """Train the model; returns the blocking rules of the EM sessions that ran."""
    training = linker.training
    # a starting value for EM only: the posterior replaces it (posterior.py)
    training.estimate_probability_two_random_records_match(
        [PRIOR_RULE], recall=PRIOR_RULE_RECALL
    )
    training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    sessions = []
    for rule in em_rules:
        try:
            training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=EM_MAX_PAIRS
            )
            sessions.append(rule_sql(rule))
        except (ValueError, EMTrainingException) as exc:
            # a block can hold too few pairs for EM (none at all where a delivery leaves its
            # column empty; so few that EM drives an m towards 0 until Splink refuses it):
            # the starting values stand for that session's comparisons instead
            logger.warning("EM session skipped (%s): keeping the starting m values",
                           str(exc).splitlines()[0])
    return sessions


def _trained_model(con, db_api, client_table: str, variant_table: str, seed: int) -> dict:
    con.execute(f"CREATE OR REPLACE VIEW {NOMINAL_FEATURES} AS "
                f"SELECT * FROM {variant_table} WHERE source = 'nominal'")
    inputs = [db_api.register(client_table, table_name="train_ndtms_clients"),
              db_api.register(NOMINAL_FEATURES, table_name="train_pnc_nominals")]
    trainer = Linker(inputs, settings_creator(), log_level=logging.WARNING)
    sessions = _train(trainer, seed)
    model = _with_floors(trainer.misc.save_model_to_json())
    model["em_sessions"] = sessions
    return with_same_age_area_u(model, area_u_same_age(con, client_table, NOMINAL_FEATURES,
                                                       seed))


def _with_floors(model: dict) -> dict:
    """m probabilities no smaller than `M_FLOOR` (then renormalised). EM on blocks of some
    thousands of true pairs cannot tell an m of 1e-60 from one of 1e-4: a level it never
    saw among matches is rare, not impossible, and the floor keeps one unusual slip from
    vetoing a person who agrees on everything else. A level random sampling never met (a
    delivery that never leaves a postcode empty, say) gets u = m: it weighs nothing either
    way, rather than Splink's 1e-6, which would make a chance occurrence strong evidence."""
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        m = [max(lv.get("m_probability") or M_FLOOR, M_FLOOR) for lv in levels]
        for level, value in zip(levels, m, strict=True):
            level["m_probability"] = value / sum(m)
            if not isinstance(level.get("u_probability"), float | int):
                level["u_probability"] = level["m_probability"]
    return model


def _levels(comparison: dict) -> list[dict]:
    """A comparison's non-null levels, indexed as Splink's gamma (the last level is 0)."""
    return [lv for lv in reversed(comparison["comparison_levels"]) if not lv.get("is_null_level")]


def _m_by_gamma(model: dict) -> dict[str, np.ndarray]:
    """Each comparison's m probabilities indexed by gamma."""
    return {c["output_column_name"]: np.array([lv["m_probability"] for lv in _levels(c)])
            for c in model["comparisons"]}


def _gammas(pairs: pd.DataFrame, model: dict) -> pd.DataFrame:
    """The level of each comparison (`gamma_<name>`, -1 null) from its match weight
    (`mw_<name>`, log2 m/u of the level): Splink 5's predictions carry the weights but not
    the levels, and distinct levels have distinct weights."""
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        weights = np.array([math.log2(lv["m_probability"] / lv["u_probability"])
                            for lv in _levels(comparison)])
        observed = pairs.pop(f"mw_{name}").to_numpy(dtype="float64")
        # the nearest level (the first of equals), one level at a time: a pairs × levels
        # matrix of distances is gigabytes for ten million pairs
        nearest, gamma = np.full(len(observed), np.inf), np.zeros(len(observed), np.int64)
        for level, weight in enumerate(weights):
            distance = np.abs(observed - weight)
            closer = distance < nearest
            nearest[closer], gamma[closer] = distance[closer], level
        # the null level weighs 0 (a Bayes factor of 1) and matches no level's weight
        pairs[f"gamma_{name}"] = np.where(nearest < 1e-9, gamma, -1)
    return pairs


def _set_m(model: dict, m: dict[str, np.ndarray]) -> dict:
    for comparison in model["comparisons"]:
        levels = _levels(comparison)
        for level, value in zip(levels, m[comparison["output_column_name"]], strict=True):
            level["m_probability"] = float(value)
    return model


def _scored_variant_pairs(con, db_api, client_table, variant_table, model, absent_floor):
    """Every blocked (client, variant) pair down to a small fraction of the floor, with
    its Bayes factor and each comparison's level."""
    offset = scoring_inputs(con, client_table, variant_table)
    # one table of disjoint integer ids and our own pairs (blocked_pairs.py): a "dedupe"
    # of it scores exactly the registered pairs, client on the left, on integer keys
    linker = Linker(db_api.register(RECORDS, table_name="scoring_records"),
                    {**model, "link_type": "dedupe_only",
                     "retain_intermediate_calculation_columns": True},
                    log_level=logging.WARNING)
    tables = register_initial_term_frequencies(con, db_api, linker, client_table,
                                               variant_table)
    model["initial_u"] = {column: {
        row[column]: (float(row["national"]), float(row[f"tf_{column}"]))
        for _, row in table.iterrows()} for column, table in tables.items()}
    variants = con.execute(
        f"SELECT coalesce(max(unique_id), -1) + 1 FROM {variant_table}").fetchall()[0][0]
    predictions = []
    for chunk in pair_chunks(con, offset, variants, VARIANTS_PER_SCORING_PASS):
        # a registration replaces the one before; each pass's predictions stay
        linker.table_management.register_blocked_pairs_for_predict(
            db_api.register(chunk, table_name=chunk.lstrip("_")))
        predictions.append(linker.inference.predict(
            threshold_match_probability=absent_floor * COMPETITOR_FRACTION,
            warning_mode="never").physical_name)
    prior = model["probability_two_random_records_match"]
    log2_prior_odds = math.log2(prior / (1 - prior))
    weights = ", ".join(f"mw_{name}" for name in _m_by_gamma(model))
    return _gammas(con.sql(f"""
        WITH pairs AS (
            SELECT unique_id_l AS client, unique_id_r - {offset} AS variant,
                   pow(2.0, match_weight - {log2_prior_odds}) AS bayes_factor, {weights}
            FROM ({" UNION ALL ".join(f"SELECT * FROM {p}" for p in predictions)})
        )
        SELECT pairs.*, persons.pncid, persons.source = 'alias' AS is_alias, persons.aliases
        FROM pairs JOIN {VARIANT_PERSONS} persons ON persons.unique_id = pairs.variant
        ORDER BY client, variant
    """).df(), model)


def score_pairs(
    clients: pd.DataFrame,
    variants: Rows,
    offences: Rows,
    absent_floor: float,
    seed: int = 42,
    with_levels: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """Per (client row position, PNC person) with a posterior at or above the floor:
    `client`, `pncid`, `match_probability` (with `with_levels`, also the comparison levels
    of the person's likeliest variant, `gamma_<comparison>`, to study the model); and the
    trained model as a dict. `variants` and `offences` as `build_features` takes them: a
    DataFrame, or Arrow slices streamed from the warehouse."""
    spill = Path(tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-"))
    con = _connection(spill)
    try:
        started = time.perf_counter()
        client_table, variant_table = build_features(con, clients, variants, offences)
        logger.info("linkage features built in %.0f s", time.perf_counter() - started)
        db_api = DuckDBAPI(con)
        started = time.perf_counter()
        model = _trained_model(con, db_api, client_table, variant_table, seed)
        sessions, same_age = model.pop("em_sessions"), model.pop("same_age_area_u")
        logger.info("linkage model trained in %.0f s", time.perf_counter() - started)
        started = time.perf_counter()
        pairs = _scored_variant_pairs(con, db_api, client_table, variant_table, model,
                                      absent_floor)
        logger.info("%d pairs scored in %.0f s", len(pairs), time.perf_counter() - started)
        persons = con.execute(f"SELECT count(DISTINCT pncid) FROM {VARIANT_PERSONS}").fetchone()[0]
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    scored, share, m, alias_share = client_level_em(
        pairs, _m_by_gamma(model), int(clients["linkable"].sum()), persons)
    model = _set_m(model, m)
    model["client_level"] = {"share_of_clients_with_a_record": share,
                             "share_of_links_through_an_alias": alias_share,
                             "pnc_persons": persons, "em_sessions": sessions,
                             "same_age_area_u": same_age,
                             "initial_u": model.pop("initial_u")}
    logger.info("share of clients with a PNC record (estimated): %.3f", share)
    if not with_levels:
        scored = scored[["client", "pncid", "match_probability"]]
    return scored[scored["match_probability"].ge(absent_floor)].reset_index(drop=True), model


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
    pairs, model = score_pairs(clients, variants, offences, settings.absent_floor, seed=seed)
    links = links_from_pairs(clients, pairs, settings.match_threshold, settings.absent_floor)
    logger.info("probabilistic link statuses: %s", links["link_status"].value_counts().to_dict())
    return links, model


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
    lines += ["", "Where each parameter comes from (all from this delivery):",
              f"- u: random pairs of clients and PNC nominals (up to {U_MAX_PAIRS:,.0f}, seeded);"
              " the area levels' u from random pairs of the same birth year and sex "
              "(same_age_u.py)",
              "- m: expectation maximisation, clients against PNC nominals, on the blocks "
              + "; ".join(f"`{rule}`" for rule in model.get("client_level", {}).get(
                  "em_sessions", [])),
              "  (each session trains the comparisons that do not read its block's columns),",
              "  then refined with the share below by EM over every scored pair, a client's "
              "candidates competing (posterior.py): the values in the table"]
    level = model.get("client_level")
    for column, values in (level or {}).get("initial_u", {}).items():
        raised = {v: pair for v, pair in values.items() if pair[1] > pair[0] * 1.05}
        lines.append(
            f"- u of agreeing on {column} = v: the larger of v's national frequency and its"
            f" frequency among same-postcode PNC nominals (term_frequencies.py); raised"
            f" above the national frequency by the neighbours for "
            f"{len(raised)} of {len(values)} values"
            + (": " + ", ".join(f"{v} {n:.4f}→{u:.4f}" for v, (n, u) in sorted(
                raised.items(), key=lambda item: item[1][1] / item[1][0], reverse=True)[:5])
               if raised else ""))
    if level:
        lines.append(
            f"- share of clients with a PNC record: {level['share_of_clients_with_a_record']:.3f},"
            f" the fixed point of the client-level posterior over {level['pnc_persons']:,}"
            " PNC persons")
        lines.append(
            f"- share of links made through an alias identity (α): "
            f"{level['share_of_links_through_an_alias']:.3g}, from the same EM; a person's "
            "alias identities share it, the nominal keeps the rest (posterior.py)")
    return "\n".join(lines)


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3g}"
