"""Predict: score candidate pairs with a trained Splink model on DuckDB.

Owns table `pairs` (record_id_l, record_id_r, match_weight, match_probability and one
`gamma_<comparison>` level per comparison). Before scoring, the blocking rules' pair
count is checked so a loose rule is refused with advice instead of exhausting memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import duckdb

from resolution.db import scalar
from resolution.errors import ResolutionError


@dataclass(frozen=True)
class PredictResult:
    candidate_pairs: int
    pairs_kept: int


def make_linker(con: duckdb.DuckDBPyConnection, table: str, settings: dict[str, Any]):
    """A Splink linker over an existing DuckDB table, quiet unless asked."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register(table)
    linker = Linker(sdf, settings, log_level=None)
    logging.getLogger("splink").setLevel(logging.ERROR)
    return linker


def count_candidate_pairs(
    con: duckdb.DuckDBPyConnection,
    blocking_rules: list[list[str]],
    table: str = "records",
    across_sources_only: bool = False,
) -> list[tuple[str, int]]:
    """Pairs each blocking rule generates on its own: sum of C(n, 2) over its key groups
    (for linking, only pairs across source systems: (n² - sum of n_source²) / 2).

    One GROUP BY per rule, so it is cheap enough to run before every prediction. Pairs
    found by several rules are counted once per rule, so the sum is an upper bound.
    """
    per_rule = []
    for rule in blocking_rules:
        keys = ", ".join(rule)
        not_null = " AND ".join(f"({k}) IS NOT NULL" for k in rule)
        if across_sources_only:
            aliased = ", ".join(f"{k} AS _k{i}" for i, k in enumerate(rule))
            outer = ", ".join(f"_k{i}" for i in range(len(rule)))
            sql = (
                "SELECT coalesce(sum((n * n - s2) // 2), 0) FROM (SELECT sum(ns) AS n, "
                f"sum(ns * ns) AS s2 FROM (SELECT {aliased}, count(*)::HUGEINT AS ns FROM {table} "
                f"WHERE {not_null} GROUP BY {keys}, source_system) GROUP BY {outer})"
            )
        else:
            sql = (
                f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM "
                f"(SELECT count(*)::HUGEINT AS n FROM {table} WHERE {not_null} GROUP BY {keys})"
            )
        per_rule.append((" & ".join(rule), int(scalar(con, sql))))
    return per_rule


def check_blocking_size(
    con: duckdb.DuckDBPyConnection,
    blocking_rules: list[list[str]],
    max_comparisons: float,
    table: str = "records",
    across_sources_only: bool = False,
) -> int:
    """The blocking rules' pair count (upper bound); refused with advice above the limit."""
    per_rule = count_candidate_pairs(con, blocking_rules, table, across_sources_only)
    total = sum(n for _, n in per_rule)
    if total > max_comparisons:
        worst = max(per_rule, key=lambda r: r[1])
        raise ResolutionError(
            f"blocking would score up to {total:,} pairs (limit {max_comparisons:,.0f}); the rule "
            f"'{worst[0]}' alone adds {worst[1]:,}. Tighten it in model.blocking_rules or "
            "raise model.max_comparisons"
        )
    return total


def predict_pairs(
    con: duckdb.DuckDBPyConnection,
    settings: dict[str, Any],
    blocking_rules: list[list[str]],
    keep_threshold: float,
    max_comparisons: float,
    table: str = "records",
    across_sources_only: bool = False,
) -> PredictResult:
    """Score the pairs the job's blocking rules generate with the model's parameters."""
    from training.settings import blocking_rule_sql

    total = check_blocking_size(con, blocking_rules, max_comparisons, table, across_sources_only)
    settings = {
        **settings,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": blocking_rule_sql(r)} for r in blocking_rules
        ],
    }
    # Pass 1 scores every candidate pair the way plain Splink does (narrow output, the
    # threshold applied inside the SQL). Pass 2 computes each comparison's level
    # (gamma_*) and match weight (mw_*) for the kept pairs only, so `pairs` can explain
    # every score: Splink 5 emits them only with both retain flags, which carries every
    # compared column of every candidate pair through the prediction (2.4x slower and
    # most of the memory when done on all candidates).
    narrow = {
        **settings,
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
    }
    linker = make_linker(con, table, narrow)
    scored = linker.inference.predict(threshold_match_probability=keep_threshold or None)
    linked = across_sources_only or settings.get("link_type", "dedupe_only") != "dedupe_only"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE _kept_pairs AS
        SELECT '0' AS match_key, {_join_key("l", linked)} AS join_key_l,
               {_join_key("r", linked)} AS join_key_r
        FROM {scored.physical_name}
        WHERE match_probability >= ?
        """,
        [keep_threshold],
    )
    scored.drop_table_from_database_and_remove_from_cache()
    wide = {
        **settings,
        "retain_intermediate_calculation_columns": True,
        "retain_matching_columns": True,
    }
    explainer = make_linker(con, table, wide)
    from splink import DuckDBAPI

    kept_sdf = DuckDBAPI(connection=con).register("_kept_pairs")
    explainer.table_management.register_blocked_pairs_for_predict(kept_sdf)
    df_pred = explainer.inference.predict()
    gammas = [
        c
        for c in (r[0] for r in con.execute(f"DESCRIBE {df_pred.physical_name}").fetchall())
        if c.startswith(("gamma_", "mw_"))
    ]
    gamma_sql = "".join(f", {g}" for g in gammas)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE pairs AS
        SELECT record_id_l, record_id_r, match_weight, match_probability{gamma_sql}
        FROM {df_pred.physical_name}
        WHERE match_probability >= ?
        ORDER BY record_id_l, record_id_r
        """,
        [keep_threshold],
    )
    df_pred.drop_table_from_database_and_remove_from_cache()
    con.execute("DROP TABLE IF EXISTS _kept_pairs")
    kept = scalar(con, "SELECT count(*) FROM pairs")
    return PredictResult(candidate_pairs=total, pairs_kept=kept)


def _join_key(side: str, linked: bool) -> str:
    """Splink's id of a record in blocked pairs: the unique id, prefixed by the source
    dataset when linking (splink.internals.unique_id_concat)."""
    from splink.internals.unique_id_concat import CONCAT_SEPARATOR

    if linked:
        return f"source_dataset_{side} || '{CONCAT_SEPARATOR}' || record_id_{side}"
    return f"record_id_{side}"
