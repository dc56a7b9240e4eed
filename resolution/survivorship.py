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

Steward pins (`golden_pins`, written by the review app) override a field's value: a pin
names the records its entity had when it was pinned and applies to the entity that now
holds most of them (ties: the smaller entity ID), so it follows a merge and, when the
entity splits, stays with the part holding most of those records while the other parts
go back to the rules; of two pins on one field of one entity the later wins. The
lineage of a pinned field says rule `steward` (no record, no source). `survive` applies
the active pins when its connection has a `golden_pins` table (a job copies the store's
with its constraints); the store commit applies them again (`apply_pins`), for pins set
while the job ran.

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
    if scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'golden_pins' "
                   "AND database_name = current_database()"):
        apply_pins(con)
    return scalar(con, "SELECT count(*) FROM entities")


# The lineage of a pinned field: no record or source supplied it, a steward did.
STEWARD_LINEAGE = "{'record_id': NULL::VARCHAR, 'source_system': NULL::VARCHAR, 'rule': 'steward'}"


def pin_targets_sql(members: str = "clusters", pins: str = "golden_pins") -> str:
    """SQL for the pins in force: (pin_id, entity_id, field, value), one per entity and
    field — each active pin on the entity of `members` (record_id, entity_id) holding
    most of its records, the latest pin where two meet."""
    return f"""
        WITH p AS (SELECT pin_id, field, value, pinned_at, unnest(record_ids) AS record_id
                   FROM {pins} WHERE active),
        hits AS (SELECT p.pin_id, any_value(p.field) AS field, any_value(p.value) AS value,
                        any_value(p.pinned_at) AS pinned_at, m.entity_id, count(*) AS n
                 FROM p JOIN {members} m USING (record_id) GROUP BY p.pin_id, m.entity_id),
        placed AS (SELECT * FROM hits QUALIFY row_number() OVER (
                       PARTITION BY pin_id ORDER BY n DESC, entity_id) = 1)
        SELECT pin_id, entity_id, field, value FROM placed QUALIFY row_number() OVER (
            PARTITION BY entity_id, field ORDER BY pinned_at DESC, pin_id DESC) = 1"""


def apply_pins(con: duckdb.DuckDBPyConnection, entities: str = "entities",
               members: str = "clusters", pins: str = "golden_pins") -> int:
    """Set each pinned field of `entities` to the steward's value, lineage `steward`
    (`pin_targets_sql`); return the number of fields set. Table names may be qualified
    (`st.entities`, the store commit)."""
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {entities}").fetchall()}
    con.execute(f"CREATE OR REPLACE TEMP TABLE _pins AS {pin_targets_sql(members, pins)}")
    try:
        done = 0
        for (field,) in con.execute("SELECT DISTINCT field FROM _pins ORDER BY 1").fetchall():
            if field not in types or field in ("entity_id", "lineage"):
                continue
            f = quote_ident(field)
            con.execute(
                f"""UPDATE {entities} SET {f} = TRY_CAST(p.value AS {types[field]}),
                        lineage = struct_update(lineage, {f} := {STEWARD_LINEAGE})
                    FROM _pins p WHERE p.field = ? AND {entities}.entity_id = p.entity_id""",
                [field],
            )
            done += scalar(con, "SELECT count(*) FROM _pins WHERE field = ?", [field])
        return done
    finally:
        con.execute("DROP TABLE IF EXISTS temp._pins")
