"""Predict: score candidate pairs with a trained Splink model on DuckDB.

Owns table `pairs` (record_id_l, record_id_r, match_weight, match_probability and one
`gamma_<comparison>` level per comparison). Before scoring, the blocking rules' pair
count is checked so a loose rule is refused with advice instead of exhausting memory, and
the key values of capped rules (`model.blocking_caps`) shared by too many records are cut
off (`cap_blocking`).

Term frequencies: a model carries the term-frequency tables of its training records
(`term_frequency_tables` computes them at training); `predict_pairs` scores with those,
so a pair scores the same in a batch of ten records as in one of a million. A value the
training records never had gets no term-frequency adjustment.
"""

from __future__ import annotations

import logging
import math
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


def term_frequency_columns(settings: dict[str, Any]) -> list[str]:
    """The columns the model's levels adjust by term frequency."""
    cols: list[str] = []
    for comp in settings.get("comparisons", []):
        for level in comp.get("comparison_levels", []):
            col = level.get("tf_adjustment_column")
            if col and col not in cols:
                cols.append(col)
    return cols


def term_frequency_tables(
    con: duckdb.DuckDBPyConnection, table: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """Splink's term-frequency table of each adjusted column over `table` (the training
    records), as pyarrow Tables (column, tf_column) the model ships."""
    cols = term_frequency_columns(settings)
    if not cols:
        return {}
    linker = make_linker(con, table, settings)
    out = {}
    for col in cols:
        sdf = linker.table_management.compute_tf_table(col)
        out[col] = con.execute(f"SELECT * FROM {sdf.physical_name} ORDER BY 1").to_arrow_table()
        sdf.drop_table_from_database_and_remove_from_cache()
    return out


def use_tf_tables(con: duckdb.DuckDBPyConnection, linker, settings: dict[str, Any],
                        tf_tables: dict[str, Any] | None) -> None:
    """Make Splink score with the model's term-frequency tables instead of counting
    them in this input (a column the model has no table for is still counted here)."""
    from splink import DuckDBAPI

    for col in term_frequency_columns(settings):
        table = (tf_tables or {}).get(col)
        if table is None:
            continue
        name = f"_model_tf_{col}"
        con.register(f"{name}_arrow", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        con.unregister(f"{name}_arrow")
        linker.table_management.register_term_frequency_lookup(
            DuckDBAPI(connection=con).register(name), col)


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


@dataclass(frozen=True)
class CappedBlocking:
    """Blocking rules with their oversized key groups cut off (`cap_blocking`): score
    `table` with `rules`; `skipped` lists, per capped rule, the key values skipped."""

    table: str
    rules: list[list[str]]
    skipped: list[dict[str, Any]]


def cap_blocking(
    con: duckdb.DuckDBPyConnection,
    table: str,
    blocking_rules: list[list[str]],
    max_block_sizes: list[int | None],
) -> CappedBlocking:
    """Skip the key values of a capped rule (`model.blocking_caps`) shared by more than its
    `max_block_size` records.

    Each capped rule gets one more key, `_block_ok_<i>` of a view over `table`: TRUE where
    the record's key group is small enough, NULL where it is not. Blocking never pairs on
    NULL, so the rule stays an ordinary equi-join, which every consumer of the rules
    handles alike: the pair count (`count_candidate_pairs`), Splink's rule-by-rule
    exclusion of pairs an earlier rule found, and the Spark backend. The oversized keys are
    kept in a small temp table `_big_keys_<i>` the view joins, not counted by a window
    function in the view: Splink reads its input several times, and a window over every
    record each time cost more than the pairs it saved.

    `skipped` per capped rule: the rule, its cap, the key values over the cap, their
    records and the pairs they would have added."""
    capped = [(i, rule, cap) for i, (rule, cap) in enumerate(zip(blocking_rules, max_block_sizes,
                                                                 strict=True)) if cap is not None]
    if not capped:
        return CappedBlocking(table, [list(r) for r in blocking_rules], [])
    skipped, flags, joins = [], [], []
    rules = [list(r) for r in blocking_rules]
    for i, rule, cap in capped:
        keys = ", ".join(f"{k} AS _bk{j}" for j, k in enumerate(rule))
        group = ", ".join(f"_bk{j}" for j in range(len(rule)))
        not_null = " AND ".join(f"({k}) IS NOT NULL" for k in rule)
        big = f"_big_keys_{i}"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {big} AS SELECT {group}, count(*)::HUGEINT AS _bn "
            f"FROM (SELECT {keys} FROM {table} WHERE {not_null}) GROUP BY {group} "
            "HAVING count(*) > ?", [cap])
        keys_over, records_over, pairs_over = con.execute(
            f"SELECT count(*), coalesce(sum(_bn), 0), coalesce(sum(_bn * (_bn - 1) // 2), 0) "
            f"FROM {big}").fetchall()[0]
        skipped.append({"rule": " & ".join(rule), "max_block_size": cap, "keys": int(keys_over),
                        "records": int(records_over), "pairs": int(pairs_over)})
        on = " AND ".join(f"({k}) = {big}._bk{j}" for j, k in enumerate(rule))
        joins.append(f"LEFT JOIN {big} ON {on}")
        flags.append(f"CASE WHEN {big}._bk0 IS NULL THEN TRUE END AS _block_ok_{i}")
        rules[i] = [*rule, f"_block_ok_{i}"]
    view = f"_{table}_capped"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {table}.*, {', '.join(flags)} "
                f"FROM {table} {' '.join(joins)}")
    return CappedBlocking(view, rules, skipped)


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
    chunk_pairs: float | None = None,
    on_chunk=None,
    into: str = "pairs",
    tf_tables: dict[str, Any] | None = None,
) -> PredictResult:
    """Score the pairs the job's blocking rules generate with the model's parameters and
    its term-frequency tables (`tf_tables`, column -> pyarrow Table; see the module doc).

    With `chunk_pairs`, blocking that may yield more candidate pairs than that is scored
    in chunks of about that many (`on_chunk(done, of)` after each). The scored pairs go to
    table `into`."""
    from resolution.model.settings import blocking_rule_sql

    total = check_blocking_size(con, blocking_rules, max_comparisons, table, across_sources_only)
    settings = {
        **settings,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": blocking_rule_sql(r)} for r in blocking_rules
        ],
    }
    # One pass of Splink's own prediction SQL that keeps each comparison's level (gamma_*)
    # and match weight (mw_*) but not the compared columns, with the threshold inside the
    # SQL, so `pairs` can explain every score at about plain Splink's cost. Splink 5's
    # predict() emits gamma_* only with retain_matching_columns, which carries every
    # compared column of every candidate pair through the prediction (2.4x slower than
    # plain Splink and most of the memory at 1M records).
    linker = make_linker(con, table, {
        **settings,
        "retain_intermediate_calculation_columns": True,
        "retain_matching_columns": False,
    })
    use_tf_tables(con, linker, settings, tf_tables)
    # Splink's chunked prediction: the left-hand records in `chunks` hash partitions, each
    # blocked and scored on its own, so the blocked pairs of only one are held at a time
    chunks = max(1, math.ceil(total / chunk_pairs)) if chunk_pairs else 1
    con.execute("DROP TABLE IF EXISTS _pairs_kept")
    for i in range(1, chunks + 1):
        df_pred = _predict_with_levels(linker, keep_threshold or None, (i, chunks))
        if i == 1:
            gammas = [
                c
                for c in (r[0] for r in con.execute(f"DESCRIBE {df_pred.physical_name}").fetchall())
                if c.startswith(("gamma_", "mw_"))
            ]
            cols = "record_id_l, record_id_r, match_weight, match_probability" + "".join(
                f", {g}" for g in gammas)
            con.execute(f"CREATE TEMP TABLE _pairs_kept AS SELECT {cols} FROM "
                        f"{df_pred.physical_name} WHERE match_probability >= ?", [keep_threshold])
        else:
            con.execute(f"INSERT INTO _pairs_kept SELECT {cols} FROM {df_pred.physical_name} "
                        "WHERE match_probability >= ?", [keep_threshold])
        df_pred.drop_table_from_database_and_remove_from_cache()
        if on_chunk is not None:
            on_chunk(i, chunks)
    con.execute(f"CREATE OR REPLACE TABLE {into} AS SELECT * FROM _pairs_kept "
                "ORDER BY record_id_l, record_id_r")
    con.execute("DROP TABLE _pairs_kept")
    kept = scalar(con, f"SELECT count(*) FROM {into}")
    return PredictResult(candidate_pairs=total, pairs_kept=kept)


def _predict_with_levels(
    linker, threshold_match_probability: float | None, chunk: tuple[int, int] = (1, 1)
):
    """Splink 5's predict pipeline (Inference._predict_chunk) for left-hand chunk `chunk`
    (number, of how many) with `training_mode`, which selects gamma_* without the
    compared columns."""
    from splink.internals.comparison_vector_values import (
        compute_comparison_vector_values_from_id_pairs_sqls,
    )
    from splink.internals.dialects import SplinkDialect
    from splink.internals.pipeline import CTEPipeline
    from splink.internals.predict import predict_from_comparison_vectors_sqls
    from splink.internals.vertically_concatenate import enqueue_df_concat_with_tf

    s = linker._settings_obj
    blocked, cached = linker.inference._get_or_compute_blocked_pairs_for_predict_chunk(
        left_chunk=chunk, right_chunk=(1, 1)
    )
    try:
        pipeline = CTEPipeline([blocked])
        enqueue_df_concat_with_tf(linker, pipeline)
        pipeline.enqueue_list_of_sqls(
            compute_comparison_vector_values_from_id_pairs_sqls(
                s._columns_to_select_for_blocking,
                s._columns_to_select_for_comparison_vector_values,
                input_tablename_l="__splink__df_concat_with_tf",
                input_tablename_r="__splink__df_concat_with_tf",
                source_dataset_input_column=s.column_info_settings.source_dataset_input_column,
                unique_id_input_column=s.column_info_settings.unique_id_input_column,
                link_type=s._link_type,
                sql_dialect_str=linker._sql_dialect_str,
            )
        )
        pipeline.enqueue_list_of_sqls(
            predict_from_comparison_vectors_sqls(
                unique_id_input_columns=s.column_info_settings.unique_id_input_columns,
                core_model_settings=s.core_model_settings,
                sql_dialect=SplinkDialect.from_string(s._sql_dialect_str),
                threshold_match_probability=threshold_match_probability,
                retain_matching_columns=False,
                retain_intermediate_calculation_columns=True,
                training_mode=True,
                additional_columns_to_retain=s._additional_columns_to_retain,
            )
        )
        return linker._db_api.sql_pipeline_to_splink_dataframe(pipeline)
    finally:
        if not cached:
            blocked.drop_table_from_database_and_remove_from_cache()


def score_within_groups(
    con: duckdb.DuckDBPyConnection,
    settings: dict[str, Any],
    groups: str,
    table: str = "records",
    across_sources_only: bool = False,
    tf_tables: dict[str, Any] | None = None,
) -> None:
    """Score every pair of records that share a `_component` in table `groups`
    (record_id, _component) into table `_within_pairs` (record_id_l, record_id_r, evidence),
    the evidence being the pair's log2 Bayes factor (match weight without the prior).

    Scored by `predict_pairs` with the same model and term-frequency tables as the job's
    pairs."""
    lam = float(settings["probability_two_random_records_match"])
    prior_bits = math.log2(lam / (1 - lam))
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _within_records AS SELECT t.*, g._component "
        f"FROM {table} t LEFT JOIN {groups} g USING (record_id)"
    )
    predict_pairs(
        con, settings, [["_component"]], keep_threshold=0.0, max_comparisons=math.inf,
        table="_within_records", across_sources_only=across_sources_only, into="_within_scored",
        tf_tables=tf_tables,
    )
    con.execute(
        f"CREATE OR REPLACE TABLE _within_pairs AS SELECT record_id_l, record_id_r, "
        f"match_weight - ({prior_bits!r}) AS evidence FROM _within_scored"
    )
    con.execute("DROP TABLE _within_scored; DROP VIEW _within_records")
