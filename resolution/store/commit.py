"""A job's commit to the store: stable entity IDs, entity events, history.

Entity IDs are stable across jobs. A job's clusters are mapped onto the IDs their member
records had before, by overlap:
- each (new cluster, old entity) pair is weighted by the number of records they share;
  pairs are taken largest overlap first, and each old ID and each new cluster is used
  at most once;
- ties go to the older entity (created earlier), then to the smaller ID;
- so when two entities merge, the surviving ID is the one holding most of the merged
  records (the older one on a tie); when an entity splits, the part holding most of its
  records keeps the ID and the other parts get new IDs;
- a cluster that overlaps no old entity gets a new ID derived from its member record IDs
  (never from row order), so a first job is reproducible too.
Every change is written to `entity_events`: create, merge, split, retire, records_added,
records_removed. `jobs.settings` keeps the Splink model each job scored with, so the
per-comparison contributions of any stored pair (`pairs.gamma_*`) can be explained later.

A batch `er dedup` resolves its whole input: afterwards the store's crosswalk holds that
input's records. Records that were in the store but are not in the input leave their
entities (`records_removed`). The whole update is one DuckDB transaction, so a crash
leaves the previous store intact.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from resolution.db import insert_rows, scalar, transaction
from resolution.faults import fault_point  # crash-safety tests only (ER_FAULT_AT)
from resolution.store.schema import (
    JOB_COLUMNS,
    JOB_TABLES,
    attach_store,
    connect_store,
    ensure_indexes,
    has_table,
)
from resolution.store.undo import undo_begin, undo_end
from resolution.survivorship import apply_pins


@dataclass(frozen=True)
class IdMapping:
    kept: int
    new: int
    retired: int
    events: int


def load_constraints(work: duckdb.DuckDBPyConnection, store_path: Path) -> int:
    """Copy the store's active constraints into the job's `constraints` table, and its
    active golden-record pins into `golden_pins` (survivorship applies them)."""
    work.execute(
        "CREATE OR REPLACE TABLE constraints (record_id_l VARCHAR, record_id_r VARCHAR, "
        "kind VARCHAR, decision_id VARCHAR)"
    )
    work.execute(
        "CREATE OR REPLACE TABLE golden_pins (pin_id VARCHAR, field VARCHAR, value VARCHAR, "
        "record_ids VARCHAR[], pinned_at TIMESTAMP, active BOOLEAN)"
    )
    if not store_path.exists():
        return 0
    attach_store(work, store_path, read_only=True)
    try:
        has = scalar(
            work,
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'st' "
            "AND table_name = 'constraints'",
        )
        if has:
            work.execute(
                "INSERT INTO constraints SELECT record_id_l, record_id_r, kind, decision_id "
                "FROM st.constraints WHERE active"
            )
        if has_table(work, "golden_pins", "st"):
            work.execute(
                "INSERT INTO golden_pins BY NAME SELECT pin_id, field, value, record_ids, "
                "pinned_at, active FROM st.golden_pins WHERE active"
            )
    finally:
        work.execute("DETACH st")
    return scalar(work, "SELECT count(*) FROM constraints")


def _old_state(work: duckdb.DuckDBPyConnection, store_path: Path) -> bool:
    """Attach the store read-only as `st` when it has a crosswalk; return whether it does."""
    if not store_path.exists():
        return False
    attach_store(work, store_path, read_only=True)
    has = scalar(
        work,
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'st' "
        "AND table_name = 'crosswalk'",
    )
    if not has:
        work.execute("DETACH st")
    return bool(has)


def assign_stable_ids(
    work: duckdb.DuckDBPyConnection, store_path: Path, job_id: str, scope: str | None = None
) -> IdMapping:
    """Rename `clusters.entity_id` (and `cluster_splits`) to the store's stable IDs and
    create `_events` (the job's entity events) and `_registry_new` (new IDs).

    `scope` names a table of record_ids: only their old entities are compared (an
    incremental match re-clusters just the neighbourhood of the new records)."""
    work.execute(
        "CREATE OR REPLACE TABLE _events (event VARCHAR, entity_id VARCHAR, "
        "related_entity_ids VARCHAR[], record_ids VARCHAR[])"
    )
    attached = _old_state(work, store_path)
    if attached:
        where = f" WHERE record_id IN (SELECT record_id FROM {scope})" if scope else ""
        work.execute(
            f"CREATE OR REPLACE TABLE _old AS SELECT record_id, entity_id FROM st.crosswalk{where}"
        )
        work.execute(
            "CREATE OR REPLACE TABLE _old_created AS SELECT entity_id, created_at FROM st.entity_registry"
        )
        work.execute("DETACH st")
    else:
        work.execute("CREATE OR REPLACE TABLE _old (record_id VARCHAR, entity_id VARCHAR)")
        work.execute("CREATE OR REPLACE TABLE _old_created (entity_id VARCHAR, created_at TIMESTAMP)")

    overlaps = work.execute(
        """SELECT c.entity_id AS tmp, o.entity_id AS old, count(*) AS n,
                  coalesce(min(oc.created_at), TIMESTAMP '1970-01-01') AS created
           FROM clusters c JOIN _old o USING (record_id)
           LEFT JOIN _old_created oc ON oc.entity_id = o.entity_id
           GROUP BY c.entity_id, o.entity_id"""
    ).fetchall()
    overlaps.sort(key=lambda r: (-r[2], r[3], r[1], r[0]))
    rename: dict[str, str] = {}
    used_old: set[str] = set()
    for tmp, old, _n, _c in overlaps:
        if tmp in rename or old in used_old:
            continue
        rename[tmp] = old
        used_old.add(old)
    all_tmp = [r[0] for r in work.execute("SELECT DISTINCT entity_id FROM clusters").fetchall()]
    old_ids = {r[0] for r in work.execute("SELECT DISTINCT entity_id FROM _old").fetchall()}
    new_ids = []
    for tmp in all_tmp:
        if tmp not in rename:
            fresh = tmp if tmp not in old_ids else f"{tmp}-{job_id[-8:]}"
            rename[tmp] = fresh
            new_ids.append(fresh)

    work.execute("CREATE OR REPLACE TEMP TABLE _rename (tmp VARCHAR, entity_id VARCHAR)")
    insert_rows(work, "_rename", ["tmp", "entity_id"], list(rename.items()))
    work.execute(
        "UPDATE clusters SET entity_id = r.entity_id FROM _rename r WHERE clusters.entity_id = r.tmp"
    )
    work.execute(
        """CREATE OR REPLACE TABLE cluster_splits AS
           SELECT s.component_entity_id,
                  list(coalesce(r.entity_id, u.e) ORDER BY coalesce(r.entity_id, u.e)) AS entity_ids,
                  any_value(s.records) AS records, any_value(s.reason) AS reason
           FROM cluster_splits s, unnest(s.entity_ids) AS u(e)
           LEFT JOIN _rename r ON r.tmp = u.e
           GROUP BY s.component_entity_id"""
    )
    work.execute("CREATE OR REPLACE TABLE _registry_new (entity_id VARCHAR)")
    if new_ids:
        insert_rows(work, "_registry_new", ["entity_id"], [(i,) for i in new_ids])

    work.execute(f"INSERT INTO _events {_events_query('_registry_new')}")
    retired = len(old_ids - used_old)
    work.execute("DROP TABLE _old_created; DROP TABLE _rename")
    return IdMapping(kept=len(used_old), new=len(new_ids), retired=retired,
                     events=scalar(work, "SELECT count(*) FROM _events"))


EVENTS_SQL = """
WITH moved AS (        -- records whose entity changed (or that are new)
    SELECT c.entity_id AS new, o.entity_id AS old, c.record_id
    FROM clusters c LEFT JOIN _old o USING (record_id)
    WHERE o.entity_id IS DISTINCT FROM c.entity_id
),
per_new AS (
    SELECT new, new IN (SELECT entity_id FROM {new_ids}) AS is_new,
           coalesce(list(DISTINCT old ORDER BY old) FILTER (WHERE old IS NOT NULL), []) AS olds,
           coalesce(list(record_id ORDER BY record_id) FILTER (WHERE old IS NOT NULL), [])
               AS from_old,
           coalesce(list(record_id ORDER BY record_id) FILTER (WHERE old IS NULL), []) AS fresh
    FROM moved GROUP BY new
),
ev AS (
    SELECT 0 AS part, new AS k, 0 AS sub, 'create' AS event, new AS entity_id,
           []::VARCHAR[] AS related_entity_ids, fresh AS record_ids
    FROM per_new WHERE is_new AND len(olds) = 0
    UNION ALL
    SELECT 0, new, 0, CASE WHEN is_new THEN 'split' ELSE 'merge' END, new, olds, from_old
    FROM per_new WHERE len(olds) > 0
    UNION ALL
    SELECT 0, new, 1, 'records_added', new, []::VARCHAR[], fresh
    FROM per_new WHERE len(fresh) > 0 AND len(olds) > 0 OR len(fresh) > 0 AND NOT is_new
    UNION ALL
    SELECT 1, entity_id, 0, 'records_removed', entity_id, []::VARCHAR[],
           list(record_id ORDER BY record_id)
    FROM _old WHERE record_id NOT IN (SELECT record_id FROM clusters) GROUP BY entity_id
    UNION ALL
    SELECT 2, o.entity_id, 0, 'retire', o.entity_id,
           coalesce(list(DISTINCT m.new ORDER BY m.new) FILTER (WHERE m.new IS NOT NULL), []),
           []::VARCHAR[]
    FROM (SELECT DISTINCT entity_id FROM _old
          WHERE entity_id NOT IN (SELECT entity_id FROM clusters)) o
    LEFT JOIN (SELECT DISTINCT new, old FROM moved) m ON m.old = o.entity_id
    GROUP BY o.entity_id
)
SELECT event, entity_id, related_entity_ids, record_ids FROM ev ORDER BY part, k, sub
"""


def _events_query(new_ids: str) -> str:
    """Compare the old (`_old`) and new (`clusters`) membership; one event per change, in a
    fixed order: per entity (create, or merge/split then records_added), then
    records_removed, then retire. `new_ids` names a table of the entity IDs new here."""
    return EVENTS_SQL.format(new_ids=new_ids)


def _events(work: duckdb.DuckDBPyConnection, new_ids: set[str]) -> list[tuple]:
    """The events of `_events_query` as rows (a steward decision's or a rollback's few)."""
    work.execute("CREATE OR REPLACE TEMP TABLE _new_ids (entity_id VARCHAR)")
    insert_rows(work, "_new_ids", ["entity_id"], [(i,) for i in sorted(new_ids)])
    try:
        return work.execute(_events_query("_new_ids")).fetchall()
    finally:
        work.execute("DROP TABLE IF EXISTS temp._new_ids")


def write_history(work: duckdb.DuckDBPyConnection, job_id: str, now: str) -> None:
    """Append the job's `_events` to `st.entity_events` and its new and retired IDs to
    `st.entity_registry`; the caller holds the store's transaction."""
    at = [job_id, now]
    work.execute(
        """INSERT INTO st.entity_events
           SELECT CAST($1 AS VARCHAR) || '-' || row_number() OVER (), $1, CAST($2 AS TIMESTAMP),
                  event, entity_id, related_entity_ids, record_ids FROM _events""",
        at,
    )
    work.execute(
        """INSERT INTO st.entity_registry
           SELECT entity_id, CAST($2 AS TIMESTAMP), $1, NULL, NULL FROM _registry_new
           WHERE entity_id NOT IN (SELECT entity_id FROM st.entity_registry)""",
        at,
    )
    work.execute(
        """UPDATE st.entity_registry SET retired_at = CAST($2 AS TIMESTAMP), retired_job = $1
           WHERE entity_id IN (SELECT entity_id FROM _events WHERE event = 'retire')""",
        at,
    )

def commit_job(
    work: duckdb.DuckDBPyConnection,
    store_path: Path,
    job_id: str,
    summary: dict,
    kind: str = "dedup",
    settings: dict | None = None,
    config: dict | None = None,
) -> None:
    """Write the job's tables, events and registry changes to the store in one transaction.

    `config` (the job's config as a dict) is kept in `job_configs`, so the review app
    recomputes golden records with the job's own survivorship rules."""
    store = connect_store(store_path)
    store.close()
    attach_store(work, store_path)
    with transaction(work, detach="st"):
        undo_begin(work, "st")
        for t in JOB_TABLES:
            work.execute(f"DROP TABLE IF EXISTS st.{t}")
            work.execute(f"CREATE TABLE st.{t} AS SELECT * FROM {t}")
        ensure_indexes(work, "st")
        # the store's pins as they are now: a pin set while the job ran applies at once
        apply_pins(work, "st.entities", "st.crosswalk", "st.golden_pins")
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        write_history(work, job_id, now)
        work.execute(
            f"INSERT INTO st.jobs ({JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                job_id, kind, summary.get("started_at"), now, summary.get("model"),
                json.dumps(summary.get("inputs", []), ensure_ascii=False),
                summary.get("accepted"), summary.get("entities"),
                json.dumps(summary, ensure_ascii=False, default=str),
                json.dumps(settings, ensure_ascii=False) if settings else None,
                summary.get("model_name"), summary.get("model_version"),
                summary.get("model_run_id"), summary.get("threshold"),
            ],
        )
        if config is not None:
            work.execute(
                "INSERT INTO st.job_configs VALUES (?, ?)",
                [job_id, json.dumps(config, ensure_ascii=False, default=str)],
            )
        undo_end(work, "st", job_id)
        fault_point("commit")  # last in the block: the crash tests kill here, before COMMIT


def job_config(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The config (as a dict) of the latest job that stored one, else None."""
    found = scalar(
        con,
        "SELECT c.config FROM job_configs c JOIN jobs j USING (job_id) "
        "ORDER BY j.finished_at DESC LIMIT 1",
    )
    return json.loads(found) if found else None
