"""Survive: compute one golden record per entity from its member records and the rules.

Golden records are computed at read time from the kept source values (nothing is
overwritten), so a split or unmerge only recomputes. Per field, a rule picks the record
that supplies the value, tie-breakers order the rest, and the record ID is the last,
deterministic tie-breaker. Every picked value carries its lineage: the record, its
source system and the rule.

Rules: `source_priority` (the config's trust order of source systems), `most_recent`
(`updated_at`), `most_frequent` (value held by most member records), `longest` (most
complete text), `fixed_source` (only the named source supplies it), `aggregate` (all
distinct values as a list). `valid_only` names a boolean column: only records where it is
true may supply the value (an invalid mobile loses to a valid one from anywhere).

Owns table `entities`.
"""

from __future__ import annotations

import duckdb

from resolution.config import SurvivorshipConfig
from resolution.db import columns, quote_ident, quote_literal, scalar
from resolution.errors import ConfigError


def _priority_sql(source_priority: list[str]) -> str:
    if not source_priority:
        return "0"
    items = ", ".join(quote_literal(s) for s in source_priority)
    return f"coalesce(list_position([{items}], r.source_system), {len(source_priority) + 1})"


def _key_sql(rule: str, value: str, freq: str, priority: str) -> str:
    """A sort key (smaller wins) for one rule."""
    if rule == "source_priority" or rule == "fixed_source":
        return priority
    if rule == "most_recent":
        return "coalesce(-epoch(r.updated_at_ts), 1e18)"
    if rule == "most_frequent":
        return f"-{freq}"
    if rule == "longest":
        return f"-length(CAST({value} AS VARCHAR))"
    raise ValueError(rule)


def survive(con: duckdb.DuckDBPyConnection, config: SurvivorshipConfig) -> int:
    """Create `entities` from `records`, `clusters` and `review_queue`; return its row count."""
    available = set(columns(con, "records"))
    priority = _priority_sql(config.source_priority)
    freq_cols: list[str] = []
    selects: list[str] = []
    picks: list[str] = []
    singles: list[str] = []  # the same columns for an entity of one record, without grouping
    lineage: list[str] = []
    for i, (field, fr) in enumerate(config.fields.items()):
        col = fr.column or field
        for needed in filter(None, (col, fr.valid_only)):
            if needed not in available:
                raise ConfigError(
                    f"survivorship.fields.{field}: column '{needed}' is not a record column; "
                    f"choose one of: {', '.join(sorted(available))}"
                )
        value = f"r.{quote_ident(col)}"
        cond = f"{value} IS NOT NULL"
        if fr.valid_only:
            cond += f" AND coalesce(r.{quote_ident(fr.valid_only)}, false)"
        if fr.rule == "fixed_source":
            cond += f" AND r.source_system = {quote_literal(fr.source or '')}"
        fname = quote_ident(field)
        if fr.rule == "aggregate":
            picks.append(
                f"list(DISTINCT {value} ORDER BY {value}) FILTER (WHERE {cond}) AS _pick{i}"
            )
            singles.append(f"CASE WHEN {cond} THEN [{value}] END AS _pick{i}")
            singles.append(f"CASE WHEN {cond} THEN CAST(r.record_id AS VARCHAR) END AS _rids{i}")
            singles.append(
                f"CASE WHEN {cond} THEN CAST(r.source_system AS VARCHAR) END AS _srcs{i}"
            )
            picks.append(
                f"array_to_string(list(r.record_id ORDER BY r.record_id) FILTER (WHERE {cond}), "
                f"',') AS _rids{i}"
            )
            picks.append(
                f"array_to_string(list(DISTINCT r.source_system ORDER BY r.source_system) "
                f"FILTER (WHERE {cond}), ',') AS _srcs{i}"
            )
            selects.append(f"_pick{i} AS {fname}")
            lineage.append(
                f"{fname}: {{'record_id': _rids{i}, 'source_system': _srcs{i}, "
                f"'rule': 'aggregate'}}"
            )
            continue
        freq = f"_freq{i}"
        if "most_frequent" in (fr.rule, *fr.tie_breakers):
            freq_cols.append(
                f"count(*) OVER (PARTITION BY b.entity_id, b.{quote_ident(col)}) AS {freq}"
            )
        keys = [_key_sql(k, value, f"r.{freq}", priority) for k in (fr.rule, *fr.tie_breakers)]
        key = "[" + ", ".join(f"CAST({k} AS DOUBLE)" for k in keys) + "]"
        chosen = f"{{'v': {value}, 'rid': r.record_id, 'src': r.source_system}}"
        pick = f"arg_min({chosen}, ({key}, r.record_id)) FILTER (WHERE {cond})"
        singles.append(f"CASE WHEN {cond} THEN {chosen} END AS _pick{i}")
        # each pick is aggregated once; the outer query takes its value and lineage
        picks.append(f"{pick} AS _pick{i}")
        selects.append(f"_pick{i}.v AS {fname}")
        lineage.append(
            f"{fname}: {{'record_id': _pick{i}.rid, 'source_system': _pick{i}.src, "
            f"'rule': {quote_literal(fr.rule)}}}"
        )
    base_extra = "".join(f", {f}" for f in freq_cols)
    pick_sql = "".join(f"{p},\n" for p in picks)
    single_sql = "".join(f"{p},\n" for p in singles)
    lineage_sql = ", ".join(lineage) if lineage else "'none': NULL"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE entities AS
        WITH base AS (
            SELECT r.*, c.entity_id, c.cluster_confidence, n.n AS _members
            FROM records r JOIN clusters c USING (record_id)
            JOIN (SELECT entity_id, count(*) AS n FROM clusters GROUP BY entity_id) n
              USING (entity_id)
        ),
        r AS (
            SELECT b.*{base_extra} FROM base b WHERE b._members > 1
        ),
        agg AS (
            SELECT r.entity_id,
                   {pick_sql}
                   count(*) AS record_count,
                   list(DISTINCT r.source_system ORDER BY r.source_system) AS source_systems,
                   min(r.cluster_confidence) AS cluster_confidence
            FROM r
            GROUP BY r.entity_id
            UNION ALL
            -- an entity of one record (a third of them, typically): its values as they are,
            -- the same columns as above without the grouping and frequency windows
            SELECT r.entity_id,
                   {single_sql}
                   CAST(1 AS BIGINT) AS record_count,
                   [r.source_system] AS source_systems,
                   r.cluster_confidence
            FROM base r WHERE r._members = 1
        )
        SELECT entity_id,
               {"".join(f"{s}, " for s in selects)}
               record_count, source_systems, cluster_confidence,
               entity_id IN (SELECT entity_id FROM review_queue) AS needs_review,
               {{{lineage_sql}}} AS lineage
        FROM agg
        ORDER BY entity_id
        """
    )
    return scalar(con, "SELECT count(*) FROM entities")
