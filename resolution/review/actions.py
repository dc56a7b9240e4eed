"""Steward decisions, applied to the store at once.

Every action is one transaction that
- checks that each entity it touches is still at the version the steward's page showed
  (`entity_version`); otherwise it is refused with `StaleEntity`, so two stewards never
  lose or double-apply a decision;
- appends one `decisions` row (who, when, action, records, before, after, comment);
- writes the constraints that make the next `er dedup` agree (resolution/cluster.py):
  confirm → must-link among the members and cannot-link to the near misses shown
  (and to the entity the queue says it probably belongs with, `queued_other`);
  split → cannot-link between the parts, must-link inside the new part;
  move → must-link to the target's members, cannot-link to the old mates;
  merge → must-link across the two entities; different → cannot-link;
  a constraint on a pair replaces the pair's earlier one (which undo restores);
- updates the crosswalk, recomputes membership confidence (cluster.py's rule, with the
  steward's cannot-links counting as "not a duplicate") and the golden records of the
  entities involved with `resolution.survivorship.survive` and the job's own rules;
- registers new entity IDs, retires emptied ones and writes `entity_events` (the same
  vocabulary as a job's: create, split, merge, retire, …) with the decision ID as job ID;
- takes the entities it decided out of `review_queue` (undo puts them back), except
  that an entity a partial fix (move, split, merge, different) leaves below
  `thresholds.review` stays in it; a confirm always takes it out.

New entity IDs follow the job's rule (derived from the member record IDs), so splitting
the same records again after an undo brings back the same ID.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import duckdb

from resolution import crypto
from resolution.cluster import REASONS as GUARD_REASONS
from resolution.config import Config, config_from_dict, load_config
from resolution.db import insert_rows, quote_ident, scalar, transaction
from resolution.errors import ResolutionError
from resolution.review import auth
from resolution.store.commit import _events, job_config
from resolution.survivorship import pin_targets_sql, survive

# Confirming an entity larger than this must-links its members to one anchor record
# instead of pairwise (the labels then hold the anchor's pairs only).
PAIRWISE_CONFIRM_LIMIT = 60
# Pairs leaving a confirmed entity at or above this probability are its near misses:
# the page lists them, and confirming says they are different customers.
NEAR_MISS = 0.5
# The longest comment a decision keeps; a longer one is refused, never cut.
COMMENT_LIMIT = 2000


class StaleEntity(ResolutionError):
    """The entity changed since the page was loaded."""


class ActionRefused(ResolutionError):
    """The action does not make sense on the current store (message says why)."""


class ClaimedByOther(ActionRefused):
    """Another steward holds the queued entity (`claim`); its holder or an admin can
    release or reassign it."""


# Decisions that only record who works on an entity: audited like the others, but they
# change no entity, so they are never "the last decision" to undo.
CLAIM_ACTIONS = ("claim", "release")
class OverrideNeeded(ActionRefused):
    """A merge or move would put together records the job's guard keeps apart, and the
    steward has not said (`override`) that they mean to overrule it."""


def load_review_config(con: duckdb.DuckDBPyConnection, fallback: str | Path | None) -> Config:
    """The config the latest job stored in the store; else the `fallback` file."""
    stored = job_config(con)
    if stored is not None:
        return config_from_dict(stored, origin="the store's job config")
    if fallback is None:
        raise ResolutionError("the store keeps no job config; pass --config")
    return load_config(fallback)


def new_decision_id() -> str:
    return f"D{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"


def entity_version(con: duckdb.DuckDBPyConnection, entity_id: str) -> str:
    """A token that changes whenever the entity's members, golden record, member records
    or decisions change (a batch job's commit included)."""
    return entity_versions(con, [entity_id])[entity_id]


def entity_versions(con: duckdb.DuckDBPyConnection, entity_ids: list[str]) -> dict[str, str]:
    """`entity_version` of many entities in one query (a queue page's rows): a hash of
    their member records with confidences, their decision counter and the store's jobs.

    Between two jobs only steward decisions change an entity, and each bumps the counter
    of every entity whose members or golden record it changes (`_apply`); records, and
    golden records otherwise, change only with a `jobs` row (a job's commit, an
    incremental run, a rollback), in the same transaction. So the counter and the list of
    jobs stand for the golden record and the member records, which the token hashed
    before: reading those cost ~4 ms a record (57 columns fetched row by row), most of a
    queue page at 185k records. The price: any job's commit makes every open page stale,
    not only those of the entities it changed."""
    if not entity_ids:
        return {}
    return dict(con.execute(
        """WITH ids AS (SELECT DISTINCT unnest($ids) AS eid_),
           m AS (SELECT entity_id, string_agg(record_id || '=' || round(membership_confidence, 9),
                                              ',' ORDER BY record_id) AS s
                 FROM crosswalk WHERE entity_id IN (SELECT eid_ FROM ids) GROUP BY entity_id),
           v AS (SELECT entity_id, CAST(version AS VARCHAR) AS s FROM entity_versions
                 WHERE entity_id IN (SELECT eid_ FROM ids)),
           j AS (SELECT coalesce(md5(string_agg(job_id, ',' ORDER BY job_id)), '-') AS s
                 FROM jobs)
           SELECT ids.eid_, substr(md5(coalesce(m.s, '-') || '|' || coalesce(v.s, '0') || '|'
                                       || j.s), 1, 16)
           FROM ids CROSS JOIN j LEFT JOIN m ON m.entity_id = ids.eid_
           LEFT JOIN v ON v.entity_id = ids.eid_""",
        {"ids": list(entity_ids)},
    ).fetchall())


def check_versions(con: duckdb.DuckDBPyConnection, expected: dict[str, str]) -> None:
    for entity_id, version in expected.items():
        if entity_version(con, entity_id) != version:
            raise StaleEntity(
                f"实体 {entity_id} 在您打开页面后已被修改（其他管理员的决定或批处理作业），"
                f"本次操作未执行，请刷新后重试。(Entity {entity_id} changed since you opened "
                "the page — another steward's decision or a batch job. Nothing was applied; "
                "reload and try again.)"
            )


def members(con: duckdb.DuckDBPyConnection, entity_id: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT record_id FROM crosswalk WHERE entity_id = ? ORDER BY record_id", [entity_id]
    ).fetchall()]


def _entity_of(con: duckdb.DuckDBPyConnection, record_id: str) -> str:
    found = scalar(con, "SELECT entity_id FROM crosswalk WHERE record_id = ?", [record_id])
    if found is None:
        raise ActionRefused(f"记录 {record_id} 不存在 (record {record_id} is not in the store)")
    return found


def _require_entity(con: duckdb.DuckDBPyConnection, entity_id: str) -> list[str]:
    found = members(con, entity_id)
    if not found:
        raise ActionRefused(
            f"实体 {entity_id} 不存在或已被合并/拆分 (entity {entity_id} no longer exists)"
        )
    return found


def _target(entity_id: str, version: str | None) -> dict[str, str]:
    """The target entity's version as the page showed it, when the page sent one."""
    return {entity_id: version} if version else {}


def _pairs(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    return [tuple(sorted((x, y))) for x in a for y in b if x != y]


def _within(records: list[str]) -> list[tuple[str, str]]:
    records = sorted(records)
    if len(records) <= PAIRWISE_CONFIRM_LIMIT:
        return list(combinations(records, 2))
    return [(records[0], r) for r in records[1:]]


@dataclass
class _Change:
    action: str
    who: str
    entity_id: str | None
    target_entity_id: str | None = None
    record_ids: list[str] = field(default_factory=list)
    comment: str | None = None
    new_map: dict[str, str] = field(default_factory=dict)  # record -> entity, after
    new_ids: set[str] = field(default_factory=set)  # entity IDs created or brought back
    constraints: list[tuple[str, str, str]] = field(default_factory=list)  # (l, r, kind)
    reviewed: set[str] = field(default_factory=set)  # entities taken out of the queue
    undoes: dict | None = None  # the decision row an undo reverts
    golden: set[str] = field(default_factory=set)  # golden records recomputed, not decided
    pin: dict | None = None  # a new `golden_pins` row (pin)
    pins_active: dict[str, bool] = field(default_factory=dict)  # pin_id -> active (unpin, undo)
    override: list[dict] | None = None  # the guard's reasons a merge or move overrode


def _fresh_id(con: duckdb.DuckDBPyConnection, records: list[str], decision_id: str) -> str:
    from resolution.cluster import _members_id

    eid = _members_id(records)
    if scalar(con, "SELECT count(*) FROM crosswalk WHERE entity_id = ?", [eid]):
        eid = f"{eid}-{decision_id[-8:]}"
    return eid


def _apply(con: duckdb.DuckDBPyConnection, cfg: Config, ch: _Change, decision_id: str) -> str:
    """Write one decision and its effects in one transaction."""
    if ch.comment and len(ch.comment) > COMMENT_LIMIT:
        raise ActionRefused(
            f"备注最长 {COMMENT_LIMIT} 字，本次为 {len(ch.comment)} 字，未保存任何内容 (a comment "
            f"may be at most {COMMENT_LIMIT} characters; this one has {len(ch.comment):,}; "
            "nothing was saved)"
        )
    records = sorted(ch.new_map)
    old_rows = con.execute(
        "SELECT record_id, entity_id FROM crosswalk WHERE record_id IN (SELECT unnest(?))", [records]
    ).fetchall()
    old_map = dict(old_rows)
    old_entities = sorted(set(old_map.values()))
    new_entities = sorted(set(ch.new_map.values()))
    if old_entities:
        outside = scalar(
            con,
            "SELECT count(*) FROM crosswalk WHERE entity_id IN (SELECT unnest(?)) "
            "AND NOT list_contains(?, record_id)",
            [old_entities, records],
        )
        assert not outside, "a change must cover every member of the entities it touches"
    touched = sorted(set(old_entities) | set(new_entities) | {ch.entity_id} - {None}
                     | ({ch.target_entity_id} - {None}))
    involved = sorted({str(e) for e in touched} | ch.golden)
    # a decision that moves no record and changes no pin (a confirm, a mark-different
    # between two entities) leaves every golden value as it was (they follow from the
    # members' records, the pins on them and the job's rules): only the confidence and
    # whether the entity is queued change. Survivorship, the golden values before and
    # after, the membership events and the crosswalk update are then skipped; they were
    # most of a confirm's time, and decisions wait for each other.
    unmoved = old_map == ch.new_map and not ch.new_ids
    same = (unmoved and ch.pin is None and not ch.pins_active and not ch.golden
            and ch.undoes is None)
    golden_before = {} if same else _golden_values(con, involved)
    queue_cols = [r[0] for r in con.execute("DESCRIBE review_queue").fetchall()]
    queue_before = [
        dict(zip(queue_cols, row))
        for row in con.execute(
            "SELECT * FROM review_queue WHERE entity_id IN (SELECT unnest(?))", [touched]
        ).fetchall()
    ]

    # constraints: the new ones, and the active ones they replace
    seen: dict[tuple[str, str], str] = {}
    for a, b, kind in ch.constraints:
        seen[tuple(sorted((a, b)))] = kind
    con.execute("CREATE OR REPLACE TEMP TABLE _newk (a VARCHAR, b VARCHAR, kind VARCHAR)")
    insert_rows(con, "_newk", ["a", "b", "kind"], [(a, b, k) for (a, b), k in sorted(seen.items())])
    superseded = con.execute(
        """SELECT k.record_id_l, k.record_id_r, k.kind, k.decision_id FROM constraints k
           JOIN _newk n ON least(k.record_id_l, k.record_id_r) = n.a
                       AND greatest(k.record_id_l, k.record_id_r) = n.b
           WHERE k.active"""
    ).fetchall()

    # entity events: the store's own diff of old and new membership (none when no record
    # moves)
    events = []
    if ch.new_map and not unmoved:
        con.execute("CREATE OR REPLACE TEMP TABLE _old (record_id VARCHAR, entity_id VARCHAR)")
        con.execute("CREATE OR REPLACE TEMP TABLE clusters (record_id VARCHAR, entity_id VARCHAR)")
        insert_rows(con, "_old", ["record_id", "entity_id"], sorted(old_map.items()))
        insert_rows(con, "clusters", ["record_id", "entity_id"], sorted(ch.new_map.items()))
        events = _events(con, set(ch.new_ids))
    retired = sorted(set(old_entities) - set(new_entities))

    before = {
        "membership": old_map,
        "review_queue": queue_before,
        "superseded_constraints": [list(r) for r in superseded],
    }
    after: dict = {
        "membership": dict(ch.new_map),
        "new_entities": sorted(ch.new_ids),
        "retired_entities": retired,
        "constraints": [[a, b, k] for (a, b), k in sorted(seen.items())],
    }
    if ch.undoes is not None:
        after["undoes"] = ch.undoes["decision_id"]
    if ch.override:
        after["override"] = ch.override
    if ch.pin is not None:
        after["pin"] = {k: ch.pin[k] for k in ("field", "value", "reason")}
    if ch.pins_active:
        after["pins_active"] = ch.pins_active

    try:
        with transaction(con):
            con.execute(
                "INSERT INTO decisions VALUES (?, now(), ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [decision_id, ch.who, ch.action, ch.record_ids, ch.entity_id, ch.target_entity_id,
                 json.dumps(before, ensure_ascii=False, default=str),
                 json.dumps(after, ensure_ascii=False, default=str), ch.comment],
            )
            if ch.undoes is not None:
                _revert_constraints(con, ch.undoes, decision_id)
            if seen:
                con.execute(
                    """UPDATE constraints SET active = false FROM _newk n
                       WHERE least(constraints.record_id_l, constraints.record_id_r) = n.a
                         AND greatest(constraints.record_id_l, constraints.record_id_r) = n.b
                         AND constraints.active"""
                )
                con.execute("INSERT INTO constraints SELECT a, b, kind, ?, true FROM _newk",
                            [decision_id])
            if ch.new_map:
                if not unmoved:
                    con.execute(
                        "UPDATE crosswalk SET entity_id = c.entity_id FROM clusters c "
                        "WHERE crosswalk.record_id = c.record_id"
                    )
                _recompute_confidence(con, new_entities)
            con.execute("DELETE FROM review_queue WHERE entity_id IN (SELECT unnest(?))",
                        [sorted(set(retired) | ch.reviewed)])
            if ch.action != "confirm":
                _requeue_uncertain(con, cfg, sorted((ch.reviewed & set(new_entities))
                                                    - set(retired)))
            if ch.pin is not None:
                con.execute(
                    "INSERT INTO golden_pins BY NAME SELECT ? AS pin_id, ? AS field, "
                    "? AS value, ? AS record_ids, ? AS pinned_by, now() AS pinned_at, "
                    "? AS reason, true AS active",
                    [decision_id, ch.pin["field"], ch.pin["value"], ch.pin["record_ids"], ch.who,
                     ch.pin["reason"]],
                )
            for pin_id, on in sorted(ch.pins_active.items()):
                con.execute("UPDATE golden_pins SET active = ?, unpinned_by = ? WHERE pin_id = ?",
                            [on, None if on else decision_id, pin_id])
            golden = set(new_entities) | (ch.reviewed - set(retired)) | ch.golden
            if ch.undoes is not None:
                golden |= set(_restore_queue(con, ch.undoes))
            if golden or retired:
                # (survivorship need not run again when the values stay: `same` above;
                # no entity retires when no record moves)
                _survive(con, cfg, sorted(golden), retired, values_kept=same)
            _registry(con, decision_id, ch.new_ids, retired)
            if events:
                insert_rows(
                    con, "entity_events",
                    ["event_id", "job_id", "happened_at", "event", "entity_id",
                     "related_entity_ids", "record_ids"],
                    [(f"{decision_id}-{i + 1}", decision_id, None, e, eid, rel, recs)
                     for i, (e, eid, rel, recs) in enumerate(events)],
                )
                con.execute("UPDATE entity_events SET happened_at = now() WHERE job_id = ?",
                            [decision_id])
            if ch.action != "comment":
                # every entity whose members or golden record changed: the version token
                # stands for both (`entity_versions`)
                for eid in sorted({str(e) for e in touched} | golden):
                    con.execute(
                        """INSERT INTO entity_versions VALUES (?, 1, ?)
                           ON CONFLICT (entity_id) DO UPDATE
                           SET version = entity_versions.version + 1, decision_id = excluded.decision_id""",
                        [eid, decision_id],
                    )
            if ch.undoes is not None:
                con.execute("UPDATE decisions SET undone_by = ? WHERE decision_id = ?",
                            [decision_id, ch.undoes["decision_id"]])
            if ch.action != "comment":
                # the golden values the decision changed, before and after (the audit page)
                changed_before, changed_after = ({}, {}) if same else _golden_changes(
                    golden_before, _golden_values(con, sorted(set(involved) | golden)))
                con.execute(
                    "UPDATE decisions SET before = ?, after = ? WHERE decision_id = ?",
                    [json.dumps(before | {"golden": changed_before}, ensure_ascii=False,
                                default=str),
                     json.dumps(after | {"golden": changed_after}, ensure_ascii=False,
                                default=str), decision_id],
                )
    finally:
        con.execute("DROP TABLE IF EXISTS _newk; DROP TABLE IF EXISTS _old; "
                    "DROP TABLE IF EXISTS clusters")
    return decision_id


def _requeue_uncertain(con: duckdb.DuckDBPyConnection, cfg: Config, entity_ids: list[str]) -> None:
    """Queue again those of `entity_ids` (just decided, membership recomputed) whose
    confidence is still below `thresholds.review`: a partial fix (a record moved out or
    split off) leaves an entity the job would queue. Only a confirm says it is right.
    The reasons are the job's words for a low confidence, and its ranking from the
    weakest membership confidence (cluster.build_review_queue; a record alone's likely
    duplicate is not looked up here, the entity page shows it)."""
    if not entity_ids:
        return
    con.execute(
        """INSERT INTO review_queue BY NAME
           SELECT entity_id, count(*) AS record_count,
                  min(membership_confidence) AS cluster_confidence,
                  1 - min(membership_confidence) AS priority,  -- one record would move
                  1 - min(membership_confidence) AS wrong_probability,
                  CASE WHEN count(*) > 1 THEN 'possible_false_merge'
                       ELSE 'possible_missed_merge' END AS kind,
                  CASE WHEN count(*) > 1 THEN
                      '最弱关联置信度 ' || round(min(membership_confidence), 3)
                      || '，低于复核阈值 (weakest link below review threshold)'
                  ELSE '存在可能重复的记录（匹配概率 ' || round(1 - min(membership_confidence), 3)
                      || '），未合并 (possible duplicate not merged)' END AS reason
           FROM crosswalk WHERE entity_id IN (SELECT unnest(?))
           GROUP BY entity_id HAVING min(membership_confidence) < ?""",
        [entity_ids, cfg.thresholds.review],
    )


def _revert_constraints(con: duckdb.DuckDBPyConnection, undone: dict, decision_id: str) -> None:
    """Deactivate the undone decision's constraints and bring back the ones it replaced
    (unless a later decision has put its own on the pair)."""
    con.execute("UPDATE constraints SET active = false WHERE decision_id = ?",
                [undone["decision_id"]])
    before = json.loads(undone["before"] or "{}")
    for l, r, kind, did in before.get("superseded_constraints", []):
        busy = scalar(
            con,
            "SELECT count(*) FROM constraints WHERE active AND least(record_id_l, record_id_r) = "
            "least(?, ?) AND greatest(record_id_l, record_id_r) = greatest(?, ?)",
            [l, r, l, r],
        )
        if not busy:
            con.execute(
                "UPDATE constraints SET active = true WHERE record_id_l = ? AND record_id_r = ? "
                "AND kind = ? AND decision_id = ?",
                [l, r, kind, did],
            )


def _restore_queue(con: duckdb.DuckDBPyConnection, undone: dict) -> list[str]:
    """Put back the queue rows the undone decision removed (for entities that exist)."""
    before = json.loads(undone["before"] or "{}")
    alive = {r[0] for r in con.execute(
        "SELECT DISTINCT entity_id FROM crosswalk WHERE list_contains(?, entity_id)",
        [[q["entity_id"] for q in before.get("review_queue", [])]],
    ).fetchall()}
    rows = [q for q in before.get("review_queue", []) if q["entity_id"] in alive]
    if rows:
        cols = list(rows[0])
        con.execute("DELETE FROM review_queue WHERE list_contains(?, entity_id)",
                    [[q["entity_id"] for q in rows]])
        insert_rows(con, "review_queue", cols, [tuple(q[c] for c in cols) for q in rows])
    return sorted(alive)


def _recompute_confidence(con: duckdb.DuckDBPyConnection, entity_ids: list[str]) -> None:
    """cluster.py's membership confidence for the members of `entity_ids`: the strongest
    link inside the entity (1.0 for a must-link), or for a record alone one minus its
    strongest link to any record — where a steward's cannot-link means no link."""
    # the members' pairs through the pairs' indexes (one side, then the other: duplicates
    # do not change a maximum); `l IN m OR r IN m` scanned every pair
    recs = [r[0] for r in con.execute(
        "SELECT record_id FROM crosswalk WHERE entity_id IN (SELECT unnest(?))", [entity_ids]
    ).fetchall()]
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _conf AS
        WITH m AS (
            SELECT record_id, entity_id, count(*) OVER (PARTITION BY entity_id) AS n
            FROM crosswalk WHERE entity_id IN (SELECT unnest($ids))
        ),
        k AS (
            SELECT least(record_id_l, record_id_r) AS a, greatest(record_id_l, record_id_r) AS b, kind
            FROM constraints WHERE active
        ),
        e AS (
            SELECT record_id_l AS a, record_id_r AS b, match_probability AS p FROM pairs
            WHERE record_id_l IN (SELECT unnest($recs))
            UNION ALL
            SELECT record_id_l, record_id_r, match_probability FROM pairs
            WHERE record_id_r IN (SELECT unnest($recs))
            UNION ALL
            SELECT a, b, 1.0 FROM k WHERE kind = 'must_link'
              AND (a IN (SELECT record_id FROM m) OR b IN (SELECT record_id FROM m))
        ),
        kept AS (
            SELECT e.* FROM e WHERE NOT EXISTS (
                SELECT 1 FROM k WHERE k.kind = 'cannot_link'
                AND k.a = least(e.a, e.b) AND k.b = greatest(e.a, e.b))
        ),
        x AS (SELECT a AS rid, b AS other, p FROM kept UNION ALL SELECT b, a, p FROM kept)
        SELECT m.record_id,
               CASE WHEN m.n > 1 THEN coalesce(max(x.p) FILTER (WHERE o.entity_id = m.entity_id), 0)
                    ELSE 1 - coalesce(max(x.p), 0) END AS membership_confidence
        FROM m LEFT JOIN x ON x.rid = m.record_id LEFT JOIN crosswalk o ON o.record_id = x.other
        GROUP BY m.record_id, m.entity_id, m.n
        """,
        {"ids": entity_ids, "recs": recs},
    )
    con.execute(
        "UPDATE crosswalk SET membership_confidence = c.membership_confidence FROM _conf c "
        "WHERE crosswalk.record_id = c.record_id"
    )
    con.execute("DROP TABLE _conf")


def _survive(
    con: duckdb.DuckDBPyConnection, cfg: Config, entity_ids: list[str], gone: list[str],
    values_kept: bool = False,
) -> None:
    """Recompute the golden records of `entity_ids` with the job's survivorship rules and
    drop those of the `gone` entities; with `values_kept` (their members and pins are as
    they were) only what survivorship takes from the crosswalk and the queue: the
    cluster confidence (the members' lowest) and `needs_review`."""
    if values_kept:
        con.execute(
            """UPDATE entities SET cluster_confidence = c.confidence,
                      needs_review = entities.entity_id IN (SELECT entity_id FROM review_queue)
               FROM (SELECT entity_id, min(membership_confidence) AS confidence FROM crosswalk
                     WHERE entity_id IN (SELECT unnest($ids)) GROUP BY entity_id) c
               WHERE entities.entity_id = c.entity_id""", {"ids": entity_ids})
        return
    con.execute("DELETE FROM entities WHERE entity_id IN (SELECT unnest(?))",
                [sorted(set(entity_ids) | set(gone))])
    if not entity_ids:
        return
    golden = _golden_for(con, cfg, entity_ids)
    con.register("_golden", golden)
    try:
        con.execute("INSERT INTO entities BY NAME SELECT * FROM _golden")
    finally:
        con.unregister("_golden")


def _golden_for(con: duckdb.DuckDBPyConnection, cfg: Config, entity_ids: list[str],
                members: str = "crosswalk"):
    """The golden records (an Arrow table) of `entity_ids` with the job's survivorship
    rules and the steward pins placed on them, the membership being `members` (a relation
    of record_id, entity_id over all records: the crosswalk, or a merge's preview of it)."""
    ids = {"ids": entity_ids}
    # the member records through the indexes: joining `records` (~60 columns) or the
    # crosswalk with the members read every row of them, most of a decision's time
    rids = {"rids": [r[0] for r in con.execute(
        f"SELECT record_id FROM {members} WHERE entity_id IN (SELECT unnest($ids))", ids
    ).fetchall()]}
    recs = con.sql(
        "SELECT r.* FROM records r WHERE r.record_id IN (SELECT unnest($rids))", params=rids,
    ).to_arrow_table()
    clus = con.sql(
        f"SELECT m.record_id, m.entity_id, min(x.membership_confidence) OVER "
        f"(PARTITION BY m.entity_id) AS cluster_confidence FROM {members} m "
        "JOIN (SELECT record_id, membership_confidence FROM crosswalk "
        "      WHERE record_id IN (SELECT unnest($rids))) x USING (record_id) "
        "WHERE m.record_id IN (SELECT unnest($rids))", params=rids,
    ).to_arrow_table()
    queue = con.sql(
        "SELECT * FROM review_queue WHERE entity_id IN (SELECT unnest($ids))", params=ids,
    ).to_arrow_table()
    # the pins in force on these entities, judged on the whole membership (a pin whose
    # records are mostly elsewhere belongs elsewhere)
    pins = con.sql(
        f"""SELECT p.pin_id, p.field, p.value, p.record_ids, p.pinned_at, p.active
            FROM golden_pins p JOIN ({pin_targets_sql(members, "golden_pins")}) t USING (pin_id)
            WHERE list_contains($ids, t.entity_id)""", params=ids,
    ).to_arrow_table()
    with _SCRATCH.lock:
        mem = _scratch()
        failed = True
        try:
            for name, table in (("records", recs), ("clusters", clus),
                                ("review_queue", queue), ("golden_pins", pins)):
                mem.register(f"_{name}", table)
                mem.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
                mem.unregister(f"_{name}")
            survive(mem, cfg.survivorship)
            golden = mem.sql("SELECT * FROM entities").to_arrow_table()
            failed = False
            return golden
        finally:
            _scratch_done(mem, failed)


class _Scratch:
    """The in-memory database golden records are recomputed in, kept between decisions:
    opening one (`crypto.connect`) cost ~7 ms a decision (~20 ms on a busy machine), more
    than recomputing a small entity's golden record, and a decision holds up the next.
    One decision at a time uses it (`lock`); it is emptied after each, and opened afresh
    after a failure or when the encryption key changed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.con: duckdb.DuckDBPyConnection | None = None
        self.key: str | None = None


_SCRATCH = _Scratch()


def _scratch() -> duckdb.DuckDBPyConnection:
    """The scratch database (with `_SCRATCH.lock` held): empty, and ready for personal
    data (what it spills is encrypted, `crypto.connect`)."""
    if _SCRATCH.con is not None and _SCRATCH.key != crypto.key():
        _SCRATCH.con.close()
        _SCRATCH.con = None
    if _SCRATCH.con is None:
        _SCRATCH.con, _SCRATCH.key = crypto.connect(), crypto.key()
    return _SCRATCH.con


def _scratch_done(mem: duckdb.DuckDBPyConnection, failed: bool) -> None:
    """Empty the scratch database for the next decision (close it after a failure)."""
    try:
        if not failed:
            for db, schema, name in mem.execute(
                    "SELECT database_name, schema_name, table_name FROM duckdb_tables() "
                    "WHERE NOT internal").fetchall():
                mem.execute(f"DROP TABLE {quote_ident(db)}.{quote_ident(schema)}."
                            f"{quote_ident(name)}")
            return
    except duckdb.Error:
        pass
    mem.close()
    _SCRATCH.con = None


# Entity columns that are not golden-record fields.
ENTITY_META = ("entity_id", "record_count", "source_systems", "cluster_confidence",
               "needs_review", "lineage")


def _golden_values(con: duckdb.DuckDBPyConnection, entity_ids: list[str]) -> dict[str, dict]:
    """{entity: {field: value}} of the golden records, JSON-ready."""
    found = con.execute("SELECT * FROM entities WHERE entity_id IN (SELECT unnest(?))",
                        [entity_ids])
    cols = [d[0] for d in found.description]
    out = {}
    for row in found.fetchall():
        rec = dict(zip(cols, row))
        out[rec["entity_id"]] = json.loads(json.dumps(
            {k: v for k, v in rec.items() if k not in ENTITY_META}, ensure_ascii=False,
            default=str))
    return out


def _golden_changes(old: dict[str, dict], new: dict[str, dict]) -> tuple[dict, dict]:
    """The fields whose golden value a decision changed, as ({entity: {field: before}},
    {entity: {field: after}}); a new entity's fields count from nothing, a retired one's
    are left out (its retirement says it)."""
    before: dict[str, dict] = {}
    after: dict[str, dict] = {}
    for eid in sorted(new):
        was = old.get(eid, {})
        diff = [f for f, v in new[eid].items() if v != was.get(f) and (v is not None or f in was)]
        if diff:
            before[eid] = {f: was.get(f) for f in diff}
            after[eid] = {f: new[eid][f] for f in diff}
    return before, after


def _registry(
    con: duckdb.DuckDBPyConnection, decision_id: str, new_ids: set[str], retired: list[str]
) -> None:
    for eid in sorted(new_ids):
        if scalar(con, "SELECT count(*) FROM entity_registry WHERE entity_id = ?", [eid]):
            con.execute("UPDATE entity_registry SET retired_at = NULL, retired_job = NULL "
                        "WHERE entity_id = ?", [eid])
        else:
            con.execute("INSERT INTO entity_registry VALUES (?, now(), ?, NULL, NULL)",
                        [eid, decision_id])
    if retired:
        con.execute(
            "UPDATE entity_registry SET retired_at = now(), retired_job = ? "
            "WHERE list_contains(?, entity_id)",
            [decision_id, retired],
        )


# --- the actions -------------------------------------------------------------------


def confirm(con, cfg: Config, who: str, entity_id: str, version: str,
            comment: str | None = None) -> str:
    """The entity is right as it is: its members are one customer, and the near misses
    listed on its page are other customers."""
    check_versions(con, {entity_id: version})
    recs = _require_entity(con, entity_id)
    # with the entity the queue says it probably belongs with, at any probability: a
    # record alone queued for a possible duplicate scored below NEAR_MISS would
    # otherwise be confirmed without a single label
    near = [(p["record_id_l"], p["record_id_r"])
            for p in near_misses(con, recs, queued_other(con, entity_id))]
    ch = _Change(
        "confirm", who, entity_id, record_ids=recs, comment=comment,
        new_map={r: entity_id for r in recs},
        constraints=[(a, b, "must_link") for a, b in _within(recs)]
        + [(a, b, "cannot_link") for a, b in near],
        reviewed={entity_id},
    )
    return _apply(con, cfg, ch, new_decision_id())


def queued_other(con: duckdb.DuckDBPyConnection, entity_id: str) -> list[str]:
    """The entity the review queue says `entity_id` probably belongs with (a possible
    missed merge's `other_entity_id`), as a list of none or one: its page lists the
    pairs to it as possible duplicates, and a confirm says they are other customers."""
    cols = {r[0] for r in con.execute("DESCRIBE review_queue").fetchall()}
    if "other_entity_id" not in cols:  # a queue written before it named the other
        return []
    return [r[0] for r in con.execute(
        "SELECT other_entity_id FROM review_queue WHERE entity_id = ? "
        "AND other_entity_id IS NOT NULL AND other_entity_id <> entity_id", [entity_id],
    ).fetchall()]


def pairs_touching(con: duckdb.DuckDBPyConnection, recs: list[str]) -> list[dict]:
    """The stored pairs with one of `recs` on either side (a pair with both there once per
    side), as dicts of the pair's columns.

    Only the records are asked of DuckDB, through the pairs' indexes (one side at a time);
    what else the caller wants of a pair is decided here, in Python: any further condition
    in the query (`NOT list_contains(...)`, a probability) made DuckDB scan all the pairs
    instead, ~10 ms an entity page at 185k records."""
    if not recs:
        return []
    cur = con.execute(
        "SELECT * FROM pairs WHERE record_id_l IN (SELECT unnest($m)) "
        "UNION ALL SELECT * FROM pairs WHERE record_id_r IN (SELECT unnest($m))",
        {"m": list(recs)})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def near_misses(con: duckdb.DuckDBPyConnection, recs: list[str],
                other_entities: list[str] | None = None,
                limit: int | None = None, touching: list[dict] | None = None) -> list[dict]:
    """The stored pairs joining one of `recs` (an entity's members) to a record of another
    entity, at or above NEAR_MISS, or at any probability when that record is in one of
    `other_entities`; strongest first, at most `limit`. Each is the pair's row with
    `own_record`, `other_record` and `other_entity`. What the entity page lists as
    possible duplicates and what a confirm cannot-links. `touching` is
    `pairs_touching(con, recs)` when the caller read it already.

    The pairs touching the members first (`pairs_touching`), then the other ends'
    entities: joining every pair with the whole crosswalk twice cost ~0.2 s a confirm at
    185k records."""
    other_ids = {r[0] for r in con.execute(
        "SELECT record_id FROM crosswalk WHERE entity_id IN (SELECT unnest($e))",
        {"e": other_entities},
    ).fetchall()} if other_entities else set()
    mine = set(recs)
    found = []
    for p in pairs_touching(con, recs) if touching is None else touching:
        for own, other in (("record_id_l", "record_id_r"), ("record_id_r", "record_id_l")):
            if p[own] in mine and p[other] not in mine and (
                    (p["match_probability"] is not None and p["match_probability"] >= NEAR_MISS)
                    or p[other] in other_ids):
                found.append({**p, "own_record": p[own], "other_record": p[other]})
    # strongest first (NULLs last, as DuckDB orders them), then by the pair's records
    found.sort(key=lambda p: (p["match_probability"] is None, -(p["match_probability"] or 0),
                              p["record_id_l"], p["record_id_r"]))
    if not found:
        return []
    entity_of = dict(con.execute(
        "SELECT record_id, entity_id FROM crosswalk WHERE record_id IN (SELECT unnest($o))",
        {"o": sorted({p["other_record"] for p in found})},
    ).fetchall())
    out = [{**p, "other_entity": entity_of[p["other_record"]]}
           for p in found if p["other_record"] in entity_of]
    return out[:limit] if limit is not None else out


def split(con, cfg: Config, who: str, entity_id: str, version: str, record_ids: list[str],
          comment: str | None = None) -> str:
    """The chosen records are another customer: they become a new entity."""
    check_versions(con, {entity_id: version})
    recs = _require_entity(con, entity_id)
    chosen = sorted(set(record_ids))
    if not chosen or not set(chosen) <= set(recs):
        raise ActionRefused("请选择本实体中的记录 (choose records of this entity)")
    rest = [r for r in recs if r not in set(chosen)]
    if not rest:
        raise ActionRefused("不能拆出全部记录 (a split must leave at least one record)")
    decision_id = new_decision_id()
    new_id = _fresh_id(con, chosen, decision_id)
    new_map = {r: entity_id for r in rest} | {r: new_id for r in chosen}
    ch = _Change(
        "split", who, entity_id, new_id, chosen, comment, new_map, {new_id},
        [(a, b, "cannot_link") for a, b in _pairs(chosen, rest)]
        + [(a, b, "must_link") for a, b in _within(chosen)],
        reviewed={entity_id, new_id},
    )
    return _apply(con, cfg, ch, decision_id)


def move(con, cfg: Config, who: str, entity_id: str, version: str, record_id: str,
         target_entity_id: str, comment: str | None = None,
         target_version: str | None = None, override: bool = False) -> str:
    """A record of this entity belongs to another entity. When the guard keeps the record
    apart from the target's (`guard_conflicts`), `override` must say so; it is audited."""
    check_versions(con, {entity_id: version} | _target(target_entity_id, target_version))
    recs, target = _move_sides(con, entity_id, record_id, target_entity_id)
    conflicts = _overriding(con, cfg, [record_id], target, override)
    mates = [r for r in recs if r != record_id]
    new_map = {r: entity_id for r in mates} | {r: target_entity_id for r in target}
    new_map[record_id] = target_entity_id
    ch = _Change(
        "move", who, entity_id, target_entity_id, [record_id], comment, new_map, set(),
        [(a, b, "must_link") for a, b in _pairs([record_id], target)]
        + [(a, b, "cannot_link") for a, b in _pairs([record_id], mates)],
        reviewed={entity_id, target_entity_id}, override=conflicts or None,
    )
    return _apply(con, cfg, ch, new_decision_id())


def _move_sides(con, entity_id: str, record_id: str, target_entity_id: str
                ) -> tuple[list[str], list[str]]:
    recs = _require_entity(con, entity_id)
    if record_id not in recs:
        raise ActionRefused(f"记录 {record_id} 不属于本实体 (record {record_id} is not in this entity)")
    if target_entity_id == entity_id:
        raise ActionRefused("目标实体与当前实体相同 (the target is this entity)")
    return recs, _require_entity(con, target_entity_id)


def merge(con, cfg: Config, who: str, entity_id: str, version: str, other_entity_id: str,
          comment: str | None = None, target_version: str | None = None,
          override: bool = False) -> str:
    """Two entities are one customer. The surviving ID is the store's choice for a merge:
    the entity with more records, then the older one, then the smaller ID. When the guard
    keeps them apart (`guard_conflicts`), `override` must say so; it is audited."""
    check_versions(con, {entity_id: version} | _target(other_entity_id, target_version))
    a, b, survivor = _merge_sides(con, entity_id, other_entity_id)
    conflicts = _overriding(con, cfg, a, b, override)
    ch = _Change(
        "merge", who, entity_id, other_entity_id, sorted(b if survivor == entity_id else a),
        comment, {r: survivor for r in a + b}, set(),
        [(x, y, "must_link") for x, y in _pairs(a, b)],
        reviewed={survivor}, override=conflicts or None,
    )
    return _apply(con, cfg, ch, new_decision_id())


def _merge_sides(con, entity_id: str, other_entity_id: str) -> tuple[list[str], list[str], str]:
    """The two entities' records and the ID that survives their merge."""
    if other_entity_id == entity_id:
        raise ActionRefused("不能与自身合并 (an entity cannot merge with itself)")
    a = _require_entity(con, entity_id)
    b = _require_entity(con, other_entity_id)
    created = dict(con.execute(
        "SELECT entity_id, created_at FROM entity_registry WHERE list_contains(?, entity_id)",
        [[entity_id, other_entity_id]],
    ).fetchall())
    import datetime as _dt

    far = _dt.datetime(9999, 1, 1)
    survivor = min(
        (entity_id, other_entity_id),
        key=lambda e: (-len(a if e == entity_id else b), created.get(e) or far, e),
    )
    return a, b, survivor


def guard_conflicts(con: duckdb.DuckDBPyConnection, cfg: Config, a: list[str],
                    b: list[str]) -> list[dict]:
    """Why the job's guard keeps records `a` apart from records `b` (cluster.py): each
    conflict column on which both sides have values and they differ (different valid
    USCCs or ID cards, different branches), as {"kind", "left", "right"} (the values).
    A steward's earlier "different" is not the engine's split: a later decision replaces
    it without an override, as before."""
    have = {r[0] for r in con.execute("DESCRIBE records").fetchall()}
    cols = [c for c in cfg.clustering.conflict_columns if c in have]
    found: list[dict] = []
    if cols:
        rows = con.execute(
            "SELECT record_id, " + ", ".join(quote_ident(c) for c in cols)
            + " FROM records WHERE record_id IN (SELECT unnest(?))", [sorted(set(a) | set(b))],
        ).fetchall()
        side_a = set(a)
        for i, col in enumerate(cols, start=1):
            va = {str(r[i]) for r in rows if r[0] in side_a and r[i] is not None}
            vb = {str(r[i]) for r in rows if r[0] not in side_a and r[i] is not None}
            if va and vb and va != vb:
                found.append({"kind": col, "left": sorted(va), "right": sorted(vb)})
    return found


def _overriding(con, cfg: Config, a: list[str], b: list[str], override: bool) -> list[dict]:
    """The guard's reasons against joining `a` and `b`; refused unless `override`."""
    conflicts = guard_conflicts(con, cfg, a, b)
    if conflicts and not override:
        why = "；".join(GUARD_REASONS.get(c["kind"], c["kind"]) for c in conflicts)
        raise OverrideNeeded(
            f"系统因以下原因将这些记录分开：{why}。如确认是同一客户，请在预览页勾选“推翻系统拆分”后"
            f"再提交 (the guard keeps these records apart; tick the override box on the preview "
            f"page to overrule it)"
        )
    return conflicts


def preview(con: duckdb.DuckDBPyConnection, cfg: Config, kind: str, entity_id: str,
            target_entity_id: str, record_id: str | None = None) -> dict:
    """What a merge or move would make, without writing anything: the entity that results
    (`result`: its ID and golden record as an Arrow-free dict with lineage), the records
    that join it (`joining`) and those already there (`staying`), and the guard's
    reasons against it (`conflicts`)."""
    if kind == "merge":
        a, b, survivor = _merge_sides(con, entity_id, target_entity_id)
        joining, staying = (b, a) if survivor == entity_id else (a, b)
        new_map = {r: survivor for r in a + b}
    elif kind == "move":
        if not record_id:
            raise ActionRefused("请选择要移动的记录 (choose the record to move)")
        _, staying = _move_sides(con, entity_id, record_id, target_entity_id)
        joining, survivor = [record_id], target_entity_id
        new_map = {record_id: target_entity_id}
    else:
        raise ActionRefused(f"没有 {kind} 的预览 (no preview for {kind})")
    con.execute("CREATE OR REPLACE TEMP TABLE _preview AS "
                "SELECT record_id, entity_id FROM crosswalk")
    con.execute("CREATE OR REPLACE TEMP TABLE _preview_new (record_id VARCHAR, entity_id VARCHAR)")
    try:
        insert_rows(con, "_preview_new", ["record_id", "entity_id"], sorted(new_map.items()))
        con.execute("UPDATE _preview SET entity_id = n.entity_id FROM _preview_new n "
                    "WHERE _preview.record_id = n.record_id")
        table = _golden_for(con, cfg, [survivor], "temp._preview")
    finally:
        con.execute("DROP TABLE IF EXISTS temp._preview; DROP TABLE IF EXISTS temp._preview_new")
    rows = table.to_pylist()
    return {
        "kind": kind, "result_id": survivor, "golden": rows[0] if rows else {},
        "joining": sorted(joining), "staying": sorted(staying),
        "conflicts": guard_conflicts(con, cfg, joining, staying),
    }


def different(con, cfg: Config, who: str, entity_id: str, version: str, record_a: str,
              record_b: str, comment: str | None = None) -> str:
    """Two records are different customers. In one entity, the entity is re-clustered the
    way the job's guard would with this cannot-link (cluster.py), so they part."""
    from resolution.cluster import _split_component

    check_versions(con, {entity_id: version})
    _require_entity(con, entity_id)
    if record_a == record_b:
        raise ActionRefused("请选择两条不同的记录 (choose two different records)")
    ea, eb = _entity_of(con, record_a), _entity_of(con, record_b)
    if entity_id not in (ea, eb):
        raise ActionRefused("至少一条记录须属于本实体 (one of the records must be in this entity)")
    decision_id = new_decision_id()
    pair = [(record_a, record_b, "cannot_link")]
    if ea != eb:
        ch = _Change("different", who, entity_id, eb if ea == entity_id else ea,
                     sorted((record_a, record_b)), comment, {}, set(), pair, {entity_id})
        return _apply(con, cfg, ch, decision_id)

    recs = members(con, entity_id)
    have = {r[0] for r in con.execute("DESCRIBE records").fetchall()}
    cols = [c for c in cfg.clustering.conflict_columns if c in have]
    col_sql = "".join(f", {quote_ident(c)}" for c in cols)
    nodes = {
        row[0]: dict(zip(cols, row[1:]))
        for row in con.execute(
            f"SELECT record_id{col_sql} FROM records WHERE record_id IN (SELECT unnest(?))", [recs]
        ).fetchall()
    }
    edges = [
        (l, r, float(p)) for l, r, p in con.execute(
            "SELECT record_id_l, record_id_r, match_probability FROM pairs "
            "WHERE list_contains($m, record_id_l) AND list_contains($m, record_id_r) "
            "AND match_probability >= $t",
            {"m": recs, "t": cfg.thresholds.match},
        ).fetchall()
    ]
    active = con.execute(
        "SELECT record_id_l, record_id_r, kind FROM constraints WHERE active "
        "AND list_contains($m, record_id_l) AND list_contains($m, record_id_r)",
        {"m": recs},
    ).fetchall()
    target = frozenset((record_a, record_b))
    must = {frozenset((l, r)) for l, r, k in active if k == "must_link" and {l, r} != target}
    cannot = {frozenset((l, r)) for l, r, k in active if k == "cannot_link"} | {target}
    edges = [e for e in edges if frozenset(e[:2]) not in cannot]
    parts, _ = _split_component(nodes, edges, must, cannot, cfg.clustering.bridge_threshold)
    where = {r: i for i, part in enumerate(parts) for r in part}
    if where[record_a] == where[record_b]:
        raise ActionRefused(
            "这两条记录被之前的“同一客户”决定连在一起，请先撤销或拆分 (earlier must-link decisions "
            "tie these records together; undo them or split first)"
        )
    parts.sort(key=lambda p: (-len(p), min(p)))
    new_map: dict[str, str] = {}
    new_ids: set[str] = set()
    for i, part in enumerate(parts):
        eid = entity_id if i == 0 else _fresh_id(con, sorted(part), decision_id)
        if i:
            new_ids.add(eid)
        new_map.update({r: eid for r in part})
    ch = _Change("different", who, entity_id, new_map[record_b] if new_map[record_b] != entity_id
                 else new_map[record_a], sorted((record_a, record_b)), comment, new_map, new_ids,
                 pair, set(new_map.values()))
    return _apply(con, cfg, ch, decision_id)


def comment(con, cfg: Config, who: str, entity_id: str, text: str) -> str:
    """A note on the entity; changes nothing else."""
    _require_entity(con, entity_id)
    text = (text or "").strip()
    if not text:
        raise ActionRefused("备注不能为空 (the comment is empty)")
    ch = _Change("comment", who, entity_id, comment=text)
    return _apply(con, cfg, ch, new_decision_id())


def last_undoable(con: duckdb.DuckDBPyConnection, entity_id: str) -> dict | None:
    """The latest decision on this entity that is not undone and is not itself an undo."""
    found = con.execute(
        """SELECT * FROM decisions
           WHERE undone_by IS NULL AND action <> 'undo' AND NOT list_contains($claims, action)
             AND (entity_id = $e OR target_entity_id = $e
                  OR list_contains(json_extract_string(after, '$.membership.*'), $e))
           ORDER BY decided_at DESC, decision_id DESC LIMIT 1""",
        {"e": entity_id, "claims": list(CLAIM_ACTIONS)},
    )
    cols = [d[0] for d in found.description]
    rows = found.fetchall()
    return dict(zip(cols, rows[0])) if rows else None


def undo(con, cfg: Config, who: str, entity_id: str, version: str, decision_id: str,
         comment: str | None = None) -> str:
    """Revert a decision: membership, golden records, queue and constraints go back to
    what they were before it. Refused when a later decision changed the same entities."""
    check_versions(con, {entity_id: version})
    found = con.execute("SELECT * FROM decisions WHERE decision_id = ?", [decision_id])
    cols = [d[0] for d in found.description]
    rows = found.fetchall()
    if not rows:
        raise ActionRefused(f"没有编号为 {decision_id} 的决定 (no decision {decision_id})")
    d = dict(zip(cols, rows[0]))
    if d["undone_by"]:
        raise ActionRefused(f"决定 {decision_id} 已被撤销 (decision {decision_id} is already undone "
                            f"by {d['undone_by']})")
    if d["action"] in CLAIM_ACTIONS:
        raise ActionRefused("认领记录不能撤销，请释放或重新分配 (a claim is not undone; release or "
                            "reassign it instead)")
    if d["action"] == "undo":
        raise ActionRefused("撤销操作本身不能再撤销，请重新执行原操作 (an undo cannot be undone; "
                            "repeat the original action instead)")
    before = json.loads(d["before"] or "{}").get("membership") or {}
    after = json.loads(d["after"] or "{}").get("membership") or {}
    # the undo is posted from one entity's page (whose version was checked): the decision
    # must be one that concerns that entity, not any decision whose ID is known
    concerned = {d["entity_id"], d["target_entity_id"], *before.values(), *after.values()}
    if entity_id not in concerned:
        raise ActionRefused(f"决定 {decision_id} 与实体 {entity_id} 无关 (decision {decision_id} "
                            f"does not concern entity {entity_id})")
    if after:
        now = dict(con.execute(
            "SELECT record_id, entity_id FROM crosswalk WHERE list_contains(?, record_id)",
            [sorted(after)],
        ).fetchall())
        extra = scalar(
            con,
            "SELECT count(*) FROM crosswalk WHERE entity_id IN (SELECT unnest(?)) "
            "AND NOT list_contains(?, record_id)",
            [sorted(set(after.values())), sorted(after)],
        )
        if now != after or extra:
            raise ActionRefused(
                f"决定 {decision_id} 之后这些实体又有变动，请先撤销后来的决定 (the entities changed "
                f"after decision {decision_id}; undo the later decisions first)"
            )
    active = {r[0] for r in con.execute(
        "SELECT DISTINCT entity_id FROM crosswalk WHERE list_contains(?, entity_id)",
        [sorted(set(before.values()))],
    ).fetchall()}
    revived = set(before.values()) - active
    pins_active, golden = _pins_undone(con, d) if d["action"] in ("pin", "unpin") else ({}, set())
    # no `reviewed`: the queue rows the decision removed come back from its `before`
    ch = _Change(
        "undo", who, d["entity_id"], d["target_entity_id"], list(d["record_ids"] or []),
        comment or f"撤销 {decision_id} (undo {decision_id})", dict(before), revived, [],
        undoes=d, golden=golden, pins_active=pins_active,
    )
    return _apply(con, cfg, ch, new_decision_id())


# --- claims: who works on a queued entity ---------------------------------------------------


def claim_holder(con: duckdb.DuckDBPyConnection, entity_id: str) -> str | None:
    """The steward holding the entity, while it is in the review queue."""
    return scalar(
        con,
        "SELECT c.who FROM claims c JOIN review_queue q USING (entity_id) WHERE c.entity_id = ?",
        [entity_id],
    )


def check_claim(con: duckdb.DuckDBPyConnection, who: str | None, entity_id: str) -> None:
    """Refuse a decision on an entity another steward holds (the holder's work would be
    overtaken); viewing it is never refused."""
    holder = claim_holder(con, entity_id)
    if holder is not None and holder != who:
        raise ClaimedByOther(
            f"实体 {entity_id} 已由 {holder} 认领，本次操作未执行；请联系 {holder} 或管理员释放或"
            f"重新分配 (entity {entity_id} is claimed by {holder}; nothing was applied. Ask "
            f"{holder} or an admin to release or reassign it)"
        )


def claim(con, who: str, entity_id: str, holder: str | None, is_admin: bool = False) -> str:
    """`who` claims a queued entity for `holder` (themselves; an admin may name any
    steward) or, with `holder` None, releases it. Only the holder or an admin may take a
    claim away from its holder. One `decisions` row (action claim/release) audits it."""
    if not scalar(con, "SELECT count(*) FROM review_queue WHERE entity_id = ?", [entity_id]):
        raise ActionRefused(f"实体 {entity_id} 不在待复核队列中 (entity {entity_id} is not in the "
                            "review queue)")
    if holder is not None and holder != who and not is_admin:
        raise ActionRefused("只有管理员可以把实体分配给他人 (only an admin assigns an entity to "
                            "someone else)")
    if holder is not None:
        if not auth.allows(auth.current_role(con, holder), "steward"):
            raise ActionRefused(f"{holder} 不是可用的复核员账号 (user {holder} is not an active "
                                "steward)")
    current = claim_holder(con, entity_id)
    if current is not None and current != who and not is_admin:
        raise ClaimedByOther(
            f"实体 {entity_id} 已由 {current} 认领 (entity {entity_id} is already claimed by "
            f"{current})"
        )
    if current == holder:
        return ""  # nothing changes; nothing to audit
    decision_id = new_decision_id()
    action = "claim" if holder is not None else "release"
    note = None if holder in (None, who) else f"分配给 {holder} (assigned to {holder})"
    with transaction(con):
        con.execute("DELETE FROM claims WHERE entity_id = ?", [entity_id])
        if holder is not None:
            con.execute("INSERT INTO claims VALUES (?, ?, now(), ?)", [entity_id, holder, who])
        con.execute(
            "INSERT INTO decisions VALUES (?, now(), ?, ?, [], ?, NULL, ?, ?, ?, NULL)",
            [decision_id, who, action, entity_id, json.dumps({"claimed_by": current}),
             json.dumps({"claimed_by": holder}), note],
        )
    return decision_id
# --- golden-record pins ---------------------------------------------------------------
# A pin is a decision too (action `pin`, its ID the pin's ID): audited with the golden
# value before and after, undone like any other; `unpin` ends it, audited the same way.


def pin(con, cfg: Config, who: str, entity_id: str, version: str, field_name: str,
        value: str, reason: str) -> str:
    """The steward's value for one field of the entity's golden record, with a reason. It
    stays, through later decisions and `er dedup` runs, on the entity holding most of the
    entity's present records (survivorship.py) until unpinned."""
    check_versions(con, {entity_id: version})
    recs = _require_entity(con, entity_id)
    types = {r[0]: r[1] for r in con.execute("DESCRIBE entities").fetchall()}
    if field_name not in cfg.survivorship.fields or field_name not in types:
        raise ActionRefused(f"没有字段 {field_name} (no golden-record field {field_name})")
    if types[field_name].endswith("[]"):
        raise ActionRefused(f"{field_name} 汇总全部记录的值，不能固定为一个值 ({field_name} "
                            "lists every record's values and cannot be pinned)")
    value, reason = (value or "").strip(), (reason or "").strip()
    if not value:
        raise ActionRefused("请填写要固定的值 (the value is empty)")
    if not reason:
        raise ActionRefused("请填写固定的原因 (give the reason for the pin)")
    # kept as the column's own text form, so the store can compare it (er store verify)
    canonical = scalar(con, f"SELECT CAST(TRY_CAST(? AS {types[field_name]}) AS VARCHAR)",
                       [value])
    if canonical is None:
        raise ActionRefused(f"“{value[:40]}” 不是 {field_name} 的有效值 (not a valid "
                            f"{types[field_name]} value)")
    ch = _Change("pin", who, entity_id, comment=reason, golden={entity_id},
                 pin={"field": field_name, "value": canonical, "record_ids": recs,
                      "reason": reason})
    return _apply(con, cfg, ch, new_decision_id())


def unpin(con, cfg: Config, who: str, entity_id: str, version: str, pin_id: str,
          reason: str | None = None) -> str:
    """End a pin on this entity's golden record: the field follows the rules again."""
    check_versions(con, {entity_id: version})
    _require_entity(con, entity_id)
    if pin_entity(con, pin_id, active_only=True) != entity_id:
        raise ActionRefused(f"实体 {entity_id} 没有编号为 {pin_id} 的固定值 (entity {entity_id} "
                            f"has no pin {pin_id} in force)")
    ch = _Change("unpin", who, entity_id, comment=reason, golden={entity_id},
                 pins_active={pin_id: False})
    return _apply(con, cfg, ch, new_decision_id())


def pin_entity(con: duckdb.DuckDBPyConnection, pin_id: str, active_only: bool = False) -> str | None:
    """The entity a pin applies to (the one holding most of its records), or None."""
    return scalar(
        con,
        """SELECT c.entity_id FROM golden_pins p, unnest(p.record_ids) AS u(record_id)
           JOIN crosswalk c ON c.record_id = u.record_id
           WHERE p.pin_id = ? AND (p.active OR NOT ?)
           GROUP BY c.entity_id ORDER BY count(*) DESC, c.entity_id LIMIT 1""",
        [pin_id, active_only],
    )


def pins_on(con: duckdb.DuckDBPyConnection, entity_id: str,
            members: list[str] | None = None) -> list[dict]:
    """The pins in force on an entity's golden record, latest first (`members`: its
    records, when the caller has them)."""
    # a pin is placed on the entity holding most of its records, so only a pin with a
    # record in this entity can be; when none has, the placement of every pin against the
    # whole crosswalk (~3-10 ms an entity page at 185k records) is not needed
    if members is None:
        members = [r[0] for r in con.execute(
            "SELECT record_id FROM crosswalk WHERE entity_id = ?", [entity_id]).fetchall()]
    if not scalar(
        con,
        "SELECT count(*) FROM golden_pins WHERE active AND len(list_intersect(record_ids, ?)) > 0",
        [members],
    ):
        return []
    found = con.execute(
        f"""SELECT p.pin_id, p.field, p.value, p.pinned_by, p.pinned_at, p.reason
            FROM ({pin_targets_sql("crosswalk", "golden_pins")}) t
            JOIN golden_pins p USING (pin_id) WHERE t.entity_id = ?
            ORDER BY p.pinned_at DESC""", [entity_id])
    cols = [c[0] for c in found.description]
    return [dict(zip(cols, r)) for r in found.fetchall()]


def _pins_undone(con: duckdb.DuckDBPyConnection, d: dict) -> tuple[dict[str, bool], set[str]]:
    """Undoing a pin ends it; undoing an unpin brings it back — unless a later decision
    did that already. Returns the pin's new state and the entity to recompute."""
    if d["action"] == "pin":
        pin_id, now_active = d["decision_id"], False
    else:
        pin_id, now_active = next(iter(json.loads(d["after"] or "{}").get("pins_active", {}))), True
    state = con.execute("SELECT active FROM golden_pins WHERE pin_id = ?", [pin_id]).fetchall()
    if not state or state[0][0] == now_active:
        raise ActionRefused(
            f"固定值 {pin_id} 之后又有变动，请先撤销后来的决定 (pin {pin_id} changed after decision "
            f"{d['decision_id']}; undo the later decisions first)")
    target = pin_entity(con, pin_id)
    return {pin_id: now_active}, {target} if target else set()
