"""The persistent store: one DuckDB file (`store.duckdb`) that keeps entities, the
crosswalk, member records, history and steward constraints across jobs.

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

Steward constraints (must-link, cannot-link; a move is stored as both) live in
`constraints` and always win over the model on the next run (see resolution/cluster.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb

from resolution import crypto
from resolution.db import insert_rows, scalar
from resolution.errors import ResolutionError
from resolution.faults import fault_point  # crash-safety tests only (ER_FAULT_AT)
from resolution.locks import job_locks

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id VARCHAR PRIMARY KEY, kind VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
    model VARCHAR, inputs VARCHAR, records BIGINT, entities BIGINT, summary JSON,
    settings JSON
);
CREATE TABLE IF NOT EXISTS entity_registry (
    entity_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, created_job VARCHAR,
    retired_at TIMESTAMP, retired_job VARCHAR
);
CREATE TABLE IF NOT EXISTS entity_events (
    event_id VARCHAR, job_id VARCHAR, happened_at TIMESTAMP, event VARCHAR, entity_id VARCHAR,
    related_entity_ids VARCHAR[], record_ids VARCHAR[]
);
CREATE TABLE IF NOT EXISTS decisions (
    decision_id VARCHAR PRIMARY KEY, decided_at TIMESTAMP, who VARCHAR, action VARCHAR,
    record_ids VARCHAR[], entity_id VARCHAR, target_entity_id VARCHAR,
    before JSON, after JSON, comment VARCHAR, undone_by VARCHAR
);
CREATE TABLE IF NOT EXISTS constraints (
    record_id_l VARCHAR, record_id_r VARCHAR, kind VARCHAR, decision_id VARCHAR,
    active BOOLEAN DEFAULT true
);
CREATE TABLE IF NOT EXISTS job_configs (job_id VARCHAR, config JSON);
CREATE TABLE IF NOT EXISTS undo_log (
    job_id VARCHAR, seq BIGINT, table_name VARCHAR, mode VARCHAR, removed BIGINT, added BIGINT
);
-- a table the job created or replaced whole is not copied again: its row count and this
-- order-independent hash of its rows show whether it is still as the job wrote it
ALTER TABLE undo_log ADD COLUMN IF NOT EXISTS added_hash HUGEINT;
CREATE SCHEMA IF NOT EXISTS undo;
"""

# Tables a job replaces wholesale (their columns follow the job's records).
JOB_TABLES = ("records", "pairs", "crosswalk", "entities", "review_queue", "cluster_splits")
# What a job changes and `er store rollback` puts back (see `undo_begin`).
UNDO_TABLES = JOB_TABLES + ("entity_registry",)


# Point lookups by ID (the review app's pages, `er check`'s candidates) use these ART
# indexes instead of scanning the tables: at 185k records an entity page went from ~1.2 s
# to well under 0.1 s of queries. A job that replaces a table creates them again.
INDEXES = (
    ("records", "record_id"), ("crosswalk", "record_id"), ("crosswalk", "entity_id"),
    ("entities", "entity_id"), ("review_queue", "entity_id"),
)


def ensure_indexes(con: duckdb.DuckDBPyConnection, db: str | None = None) -> None:
    """Create the lookup indexes that are missing (on the attached store `db`, else the
    connection's own database)."""
    where = db or scalar(con, "SELECT current_database()")
    for table, column in INDEXES:
        if _columns(con, where, "main", table):
            con.execute(f"CREATE INDEX IF NOT EXISTS idx_{table}_{column} "
                        f'ON "{where}".main.{table} ({column})')


@dataclass(frozen=True)
class IdMapping:
    kept: int
    new: int
    retired: int
    events: int


# How long a job or the review app waits for the other to release the store file.
LOCK_WAIT_SECONDS = 30.0


def _locked(exc: Exception) -> bool:
    return "lock" in str(exc).lower() or "in use" in str(exc).lower()


# A process waiting for the store leaves a marker `STORE.wanted-PID` beside it while it
# waits; a review app that keeps its connection open between requests (`er review serve
# --hold-store`) closes it as soon as it sees one, so a job is never locked out.
def _want_marker(path: str | Path) -> Path:
    p = Path(path)
    marker = p.with_name(f"{p.name}.wanted-{os.getpid()}")
    try:
        marker.touch()
    except OSError:
        pass
    return marker


def others_waiting(path: str | Path) -> bool:
    """Whether another live process waits for the store (see `_want_marker`)."""
    p = Path(path)
    prefix = f"{p.name}.wanted-"
    try:
        names = [n for n in os.listdir(p.parent or ".") if n.startswith(prefix)]
    except OSError:
        return False
    for n in names:
        pid = n[len(prefix):]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            return True
        except ProcessLookupError:  # left by a killed process
            (p.parent / n).unlink(missing_ok=True)
        except PermissionError:
            return True
    return False


def connect_store(
    path: str | Path, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS
) -> duckdb.DuckDBPyConnection:
    """`open_store`, retrying for up to `wait` seconds while another process holds the file.

    DuckDB lets one process write a file at a time. The batch job holds the store only
    while it reads the constraints and while it commits (one transaction); the review
    app holds it only for one request. Each side waits briefly for the other instead of
    failing.
    """
    return _while_locked(path, wait, lambda: open_store(path, read_only))


def _while_locked(path: str | Path, wait: float, attempt):
    """`attempt()`, retried with backoff for up to `wait` seconds while the store file is
    locked by another process, leaving a `wanted` marker while it waits."""
    deadline = time.monotonic() + wait
    delay = 0.02
    marker = None
    try:
        while True:
            try:
                return attempt()
            except (ResolutionError, duckdb.IOException) as exc:
                if not _locked(exc) or time.monotonic() >= deadline:
                    raise
            marker = marker or _want_marker(path)
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)


def attach_store(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    alias: str = "st",
    read_only: bool = False,
    wait: float = LOCK_WAIT_SECONDS,
) -> None:
    """ATTACH the store as `alias` (with the encryption key when one is set, see
    resolution.crypto), retrying while another process holds the file."""
    crypto.require()
    try:
        _while_locked(path, wait, lambda: crypto.attach(con, path, alias, read_only))
    except duckdb.IOException as exc:
        raise ResolutionError(
            f"store {path} is in use by another process (a job or the review app) "
            f"for more than {wait:.0f}s; try again when it finishes"
        ) from exc


def _owner_only(path: Path) -> None:
    """The store holds personal data: readable and writable by its owner only."""
    for f in (path, path.with_name(path.name + ".wal")):
        if f.exists():
            os.chmod(f, 0o600)


def open_store(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    crypto.require()
    p = Path(path)
    if read_only and not p.exists():
        raise ResolutionError(f"store not found: {p} (run `er dedup` first)")
    try:
        con = crypto.open_file(p, read_only=read_only)
    except duckdb.IOException as exc:
        raise ResolutionError(
            f"store {p} is in use by another process (a job or the review app); "
            f"try again when it finishes ({str(exc).splitlines()[0][:120]})"
        )
    if not read_only:
        con.execute(SCHEMA)
        _owner_only(p)
    return con


def load_constraints(work: duckdb.DuckDBPyConnection, store_path: Path) -> int:
    """Copy the store's active constraints into the job's `constraints` table."""
    work.execute(
        "CREATE OR REPLACE TABLE constraints (record_id_l VARCHAR, record_id_r VARCHAR, "
        "kind VARCHAR, decision_id VARCHAR)"
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
    work.execute(
        f"""INSERT INTO st.entity_events
            SELECT '{job_id}-' || row_number() OVER (), '{job_id}', TIMESTAMP '{now}', event,
                   entity_id, related_entity_ids, record_ids FROM _events"""
    )
    work.execute(
        f"""INSERT INTO st.entity_registry
            SELECT entity_id, TIMESTAMP '{now}', '{job_id}', NULL, NULL FROM _registry_new
            WHERE entity_id NOT IN (SELECT entity_id FROM st.entity_registry)"""
    )
    work.execute(
        f"""UPDATE st.entity_registry SET retired_at = TIMESTAMP '{now}', retired_job = '{job_id}'
            WHERE entity_id IN (SELECT entity_id FROM _events WHERE event = 'retire')"""
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
    try:
        work.execute("BEGIN TRANSACTION")
        undo_begin(work, "st")
        for t in JOB_TABLES:
            work.execute(f"DROP TABLE IF EXISTS st.{t}")
            work.execute(f"CREATE TABLE st.{t} AS SELECT * FROM {t}")
        ensure_indexes(work, "st")
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        write_history(work, job_id, now)
        work.execute(
            "INSERT INTO st.jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                job_id, kind, summary.get("started_at"), now, summary.get("model"),
                json.dumps(summary.get("inputs", []), ensure_ascii=False),
                summary.get("accepted"), summary.get("entities"),
                json.dumps(summary, ensure_ascii=False, default=str),
                json.dumps(settings, ensure_ascii=False) if settings else None,
            ],
        )
        if config is not None:
            work.execute(
                "INSERT INTO st.job_configs VALUES (?, ?)",
                [job_id, json.dumps(config, ensure_ascii=False, default=str)],
            )
        undo_end(work, "st", job_id)
        fault_point("commit")
        work.execute("COMMIT")
    except Exception:
        work.execute("ROLLBACK")
        raise
    finally:
        work.execute("DETACH st")


def add_constraint(
    store_path: str | Path,
    kind: str,
    record_a: str,
    record_b: str,
    who: str = "cli",
    comment: str | None = None,
) -> str:
    """Record a steward decision that two records are (must_link) or are not
    (cannot_link) the same customer. The latest decision on a pair wins."""
    if kind not in ("must_link", "cannot_link"):
        raise ResolutionError(f"unknown constraint kind '{kind}'; use must_link or cannot_link")
    if record_a == record_b:
        raise ResolutionError("a constraint needs two different record IDs")
    con = connect_store(store_path)
    try:
        _require_records(con, [record_a, record_b])
        decision_id = f"D{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        a, b = sorted((record_a, record_b))
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "UPDATE constraints SET active = false WHERE record_id_l = ? AND record_id_r = ? AND active",
            [a, b],
        )
        con.execute("INSERT INTO constraints VALUES (?, ?, ?, ?, true)", [a, b, kind, decision_id])
        con.execute(
            "INSERT INTO decisions VALUES (?, now(), ?, ?, ?, NULL, NULL, NULL, NULL, ?, NULL)",
            [decision_id, who, kind, [a, b], comment],
        )
        con.execute("COMMIT")
        return decision_id
    finally:
        con.close()


def move_record(
    store_path: str | Path, record_id: str, target_entity: str, who: str = "cli",
    comment: str | None = None,
) -> str:
    """Record that `record_id` belongs to `target_entity`: must-link it to the target's
    members and cannot-link it to the other members of its current entity."""
    con = connect_store(store_path)
    try:
        _require_records(con, [record_id])
        current = scalar(con, "SELECT entity_id FROM crosswalk WHERE record_id = ?", [record_id])
        target = [r[0] for r in con.execute(
            "SELECT record_id FROM crosswalk WHERE entity_id = ? AND record_id <> ?",
            [target_entity, record_id]).fetchall()]
        if not target:
            raise ResolutionError(f"entity {target_entity} not found in the store (or has no other records)")
        mates = [r[0] for r in con.execute(
            "SELECT record_id FROM crosswalk WHERE entity_id = ? AND record_id <> ?",
            [current, record_id]).fetchall()]
        decision_id = f"D{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        con.execute("BEGIN TRANSACTION")
        for other, kind in [(t, "must_link") for t in target] + [(m, "cannot_link") for m in mates]:
            a, b = sorted((record_id, other))
            con.execute(
                "UPDATE constraints SET active = false WHERE record_id_l = ? AND record_id_r = ? AND active",
                [a, b],
            )
            con.execute("INSERT INTO constraints VALUES (?, ?, ?, ?, true)", [a, b, kind, decision_id])
        con.execute(
            "INSERT INTO decisions VALUES (?, now(), ?, 'move', ?, ?, ?, ?, ?, ?, NULL)",
            [decision_id, who, [record_id], current, target_entity,
             json.dumps({"entity_id": current}), json.dumps({"entity_id": target_entity}), comment],
        )
        con.execute("COMMIT")
        return decision_id
    finally:
        con.close()


def _require_records(con: duckdb.DuckDBPyConnection, record_ids: list[str]) -> None:
    has = scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'crosswalk'")
    if not has:
        raise ResolutionError("the store has no entities yet; run `er dedup` first")
    for rid in record_ids:
        if not scalar(con, "SELECT count(*) FROM crosswalk WHERE record_id = ?", [rid]):
            raise ResolutionError(f"record {rid} is not in the store")


def job_config(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The config (as a dict) of the latest job that stored one, else None."""
    found = scalar(
        con,
        "SELECT c.config FROM job_configs c JOIN jobs j USING (job_id) "
        "ORDER BY j.finished_at DESC LIMIT 1",
    )
    return json.loads(found) if found else None


def labelled_pairs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """Steward decisions as labelled pairs: each pair's active constraint (the latest
    decision on it; undone decisions are inactive), must_link = 1, cannot_link = 0."""
    return [
        (a, b, int(m))
        for a, b, m in con.execute(
            """SELECT least(record_id_l, record_id_r) AS l, greatest(record_id_l, record_id_r) AS r,
                      arg_max(kind = 'must_link', d.decided_at) AS is_match
               FROM constraints k LEFT JOIN decisions d USING (decision_id)
               WHERE k.active GROUP BY 1, 2 ORDER BY 1, 2"""
        ).fetchall()
    ]


def export_labels(store_path: str | Path, out: str | Path) -> int:
    """Write `labelled_pairs` as CSV (record_id_l,record_id_r,is_match), the format
    `er train --labels-pairs` reads; return the number of pairs."""
    import csv

    con = connect_store(store_path)
    try:
        pairs = labelled_pairs(con)
    finally:
        con.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["record_id_l", "record_id_r", "is_match"])
        w.writerows(pairs)
    return len(pairs)


# --- Trust: verify, backup, restore (`er store verify|backup|restore`) ---------------------

def _has_table(con: duckdb.DuckDBPyConnection, table: str, db: str | None = None) -> bool:
    where = f" AND database_name = '{db}'" if db else ""
    return bool(scalar(
        con, f"SELECT count(*) FROM duckdb_tables() WHERE table_name = ?{where}", [table]
    ))


def verify_connection(con: duckdb.DuckDBPyConnection) -> tuple[list[str], dict]:
    """Check the store's invariants on an open connection; return (breaches, facts).

    Each breach is one line naming the rule and up to five examples. Constraints are
    checked when they must already hold: decided before the latest `er dedup` started
    (a batch run applies every active constraint), or applied at once by the review app
    (its decisions write entity events under the decision ID, or confirm members that are
    already together). CLI decisions made since the latest batch are `pending` facts."""
    breaches: list[str] = []

    def rule(name: str, sql: str, show=lambda r: ", ".join(map(str, r))) -> None:
        found = con.execute(sql).fetchall()
        if found:
            examples = "; ".join(show(r) for r in found[:5])
            more = f" (+{len(found) - 5} more)" if len(found) > 5 else ""
            breaches.append(f"{name}: {len(found)} — {examples}{more}")

    facts: dict = {}
    if not _has_table(con, "crosswalk"):
        facts["empty"] = True
        return breaches, facts
    for t in ("records", "crosswalk", "entities", "entity_registry", "constraints", "decisions", "jobs"):
        facts[t] = scalar(con, f"SELECT count(*) FROM {t}") if _has_table(con, t) else None
    rule("record in more than one entity",
         "SELECT record_id, count(*) FROM crosswalk GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("crosswalk row with empty record_id or entity_id",
         "SELECT record_id, entity_id FROM crosswalk WHERE record_id IS NULL OR entity_id IS NULL")
    rule("crosswalk record missing from records",
         "SELECT record_id FROM crosswalk WHERE record_id NOT IN (SELECT record_id FROM records) ORDER BY 1")
    rule("record missing from crosswalk",
         "SELECT record_id FROM records WHERE record_id NOT IN (SELECT record_id FROM crosswalk "
         "WHERE record_id IS NOT NULL) ORDER BY 1")
    rule("record duplicated in records",
         "SELECT record_id, count(*) FROM records GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("entity without members",
         "SELECT entity_id FROM entities WHERE entity_id NOT IN (SELECT entity_id FROM crosswalk "
         "WHERE entity_id IS NOT NULL) ORDER BY 1")
    rule("entity duplicated in entities",
         "SELECT entity_id, count(*) FROM entities GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("entity record_count differs from its crosswalk members",
         """SELECT e.entity_id, e.record_count, count(x.record_id) FROM entities e
            JOIN crosswalk x USING (entity_id) GROUP BY e.entity_id, e.record_count
            HAVING e.record_count <> count(x.record_id) ORDER BY 1""",
         lambda r: f"{r[0]} says {r[1]}, has {r[2]}")
    rule("crosswalk entity missing from entities",
         "SELECT DISTINCT entity_id FROM crosswalk WHERE entity_id NOT IN "
         "(SELECT entity_id FROM entities) ORDER BY 1")
    rule("live entity missing from entity_registry",
         "SELECT DISTINCT entity_id FROM crosswalk WHERE entity_id NOT IN "
         "(SELECT entity_id FROM entity_registry) ORDER BY 1")
    rule("live entity marked retired in entity_registry",
         "SELECT DISTINCT x.entity_id, r.retired_job FROM crosswalk x JOIN entity_registry r "
         "USING (entity_id) WHERE r.retired_at IS NOT NULL ORDER BY 1")
    # The latest batch still in force: a rolled-back job no longer applies its constraints.
    last_batch = scalar(
        con,
        "SELECT max(started_at) FROM jobs WHERE kind = 'dedup' AND job_id NOT IN "
        "(SELECT json_extract_string(summary, '$.rolls_back') FROM jobs WHERE kind = 'rollback')",
    )
    due = (
        "(d.decided_at < TIMESTAMP '{t}' OR d.action = 'confirm' OR d.decision_id IN "
        "(SELECT job_id FROM entity_events))"
    ).format(t=last_batch or "1970-01-01")
    base = (
        """FROM constraints k LEFT JOIN decisions d USING (decision_id)
           JOIN crosswalk a ON a.record_id = k.record_id_l
           JOIN crosswalk b ON b.record_id = k.record_id_r
           WHERE k.active AND {kind} AND {cond}"""
    )
    rule("must-link not honoured (records in different entities)",
         "SELECT k.record_id_l, k.record_id_r, k.decision_id "
         + base.format(kind="k.kind = 'must_link'", cond=f"a.entity_id <> b.entity_id AND {due}") + " ORDER BY 1, 2",
         lambda r: f"{r[0]}~{r[1]} ({r[2]})")
    rule("cannot-link not honoured (records in one entity)",
         "SELECT k.record_id_l, k.record_id_r, k.decision_id "
         + base.format(kind="k.kind = 'cannot_link'", cond=f"a.entity_id = b.entity_id AND {due}") + " ORDER BY 1, 2",
         lambda r: f"{r[0]}~{r[1]} ({r[2]})")
    facts["pending_constraints"] = scalar(
        con,
        "SELECT count(*) " + base.format(
            kind="k.kind IN ('must_link', 'cannot_link')",
            cond=f"NOT {due} AND ((k.kind = 'must_link') = (a.entity_id <> b.entity_id))",
        ),
    )
    rule("active constraint without its decision",
         "SELECT k.record_id_l, k.record_id_r, k.decision_id FROM constraints k WHERE k.active "
         "AND k.decision_id NOT IN (SELECT decision_id FROM decisions) ORDER BY 1, 2")
    rule("decision undone by an unknown decision",
         "SELECT d.decision_id, d.undone_by FROM decisions d WHERE d.undone_by IS NOT NULL "
         "AND d.undone_by NOT IN (SELECT decision_id FROM decisions) ORDER BY 1")
    rule("decision undone by a decision that is not an undo",
         "SELECT d.decision_id, d.undone_by, u.action FROM decisions d JOIN decisions u "
         "ON u.decision_id = d.undone_by WHERE u.action <> 'undo' ORDER BY 1")
    rule("decision undone before it was made",
         "SELECT d.decision_id, d.undone_by FROM decisions d JOIN decisions u "
         "ON u.decision_id = d.undone_by WHERE u.decided_at < d.decided_at ORDER BY 1")
    rule("undo decision that undid two decisions",
         "SELECT undone_by, count(*) FROM decisions WHERE undone_by IS NOT NULL "
         "GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("undone decision still has active constraints",
         "SELECT k.decision_id, k.record_id_l, k.record_id_r FROM constraints k "
         "JOIN decisions d USING (decision_id) WHERE k.active AND d.undone_by IS NOT NULL ORDER BY 1")
    rule("job rolled back more than once",
         "SELECT json_extract_string(summary, '$.rolls_back'), count(*) FROM jobs "
         "WHERE kind = 'rollback' GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("rollback of a job that is not in jobs",
         "SELECT job_id, json_extract_string(summary, '$.rolls_back') FROM jobs WHERE kind = 'rollback' "
         "AND json_extract_string(summary, '$.rolls_back') NOT IN (SELECT job_id FROM jobs) ORDER BY 1")
    rule("pair with more than one active constraint",
         "SELECT record_id_l, record_id_r, count(*) FROM constraints WHERE active "
         "GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2")
    return breaches, facts


def verify_store(path: str | Path) -> tuple[list[str], dict]:
    """`verify_connection` on the store file, opened read-only (waits for a writer)."""
    p = Path(path)
    if not p.exists():
        raise ResolutionError(f"store not found: {p}")
    con = crypto.connect()
    try:
        attach_store(con, p, alias="vs", read_only=True)
        con.execute("USE vs")
        return verify_connection(con)
    finally:
        con.close()


def _snapshot_facts(con: duckdb.DuckDBPyConnection, hashes: bool = False) -> dict:
    """Row counts per table and the jobs; with `hashes`, each table's order-independent
    content hash too (`_fingerprint`, kept as text: JSON readers lose big integers)."""
    counts, content = {}, {}
    for (sch, t) in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() ORDER BY 1, 2"
    ).fetchall():
        key = t if sch == "main" else f"{sch}.{t}"  # rollback records live in schema `undo`
        if hashes:
            counts[key], h = _fingerprint(con, f'"{sch}"."{t}"')
            content[key] = str(h)
        else:
            counts[key] = scalar(con, f'SELECT count(*) FROM "{sch}"."{t}"')
    jobs = []
    if "jobs" in counts:
        jobs = [
            {"job_id": j, "kind": k, "finished_at": str(f) if f else None}
            for j, k, f in con.execute(
                "SELECT job_id, kind, finished_at FROM jobs ORDER BY finished_at, job_id"
            ).fetchall()
        ]
    return {"counts": counts, **({"hashes": content} if hashes else {}), "jobs": jobs}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def backup_store(store_path: str | Path, to_dir: str | Path) -> dict:
    """Copy the store into `to_dir/store.duckdb` with a `manifest.json`: time, jobs, row
    counts and content hash per table, the file's SHA-256 and the DuckDB version (table
    hashes are DuckDB's `hash()`, comparable within one version only).

    The store is attached read-only for the whole copy (DuckDB then refuses writers, and
    `attach_store` waits for a running writer to finish), so the copy is one consistent
    snapshot even while a job or the review app runs. The copy is written beside its
    final name and moved into place last."""
    crypto.require()  # before the backup folder is made
    src = Path(store_path)
    if not src.exists():
        raise ResolutionError(f"store not found: {src}")
    out = Path(to_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResolutionError(f"cannot back up into {out}: {exc.strerror or exc} "
                              f"({exc.filename or out})")
    dest = out / "store.duckdb"
    if dest.exists():
        raise ResolutionError(f"{dest} already exists; back up into an empty folder")
    tmp = out / f".store-{uuid.uuid4().hex[:8]}.duckdb"
    con = crypto.connect()  # a backup is encrypted with the store's key
    try:
        attach_store(con, src, alias="src", read_only=True)
        try:
            crypto.attach(con, tmp, "bk")
        except duckdb.IOException as exc:  # a read-only folder, no space
            raise ResolutionError(f"cannot back up into {out}: {str(exc).splitlines()[0][:160]}")
        con.execute("COPY FROM DATABASE src TO bk")
        con.execute("USE src")
        facts = _snapshot_facts(con, hashes=True)
        con.execute("USE memory")
        con.execute("DETACH src")
        con.execute("DETACH bk")
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    check = crypto.open_file(tmp, read_only=True)
    try:
        copied = _snapshot_facts(check, hashes=True)
    finally:
        check.close()
    if (copied["counts"], copied["hashes"]) != (facts["counts"], facts["hashes"]):
        tmp.unlink(missing_ok=True)
        raise ResolutionError(f"backup of {src} does not match the store's content; nothing written")
    os.chmod(tmp, 0o600)
    digest = _sha256(tmp)  # after the last connection: the bytes restore will check
    os.replace(tmp, dest)
    manifest = {
        "store": str(src.resolve()),
        "backed_up_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "file": dest.name,
        "sha256": digest,
        "duckdb_version": duckdb.__version__,
        **facts,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    os.chmod(out / "manifest.json", 0o600)
    return manifest


def restore_store(from_dir: str | Path, store_path: str | Path, lock_wait: float = 0.0) -> dict:
    """`_restore_store` while holding the store's job lock: a job running on the store
    would otherwise commit into the restored file a change computed against the old one."""
    with job_locks("restore", "restore", store=store_path, wait=lock_wait):
        return _restore_store(from_dir, store_path)


def _restore_store(from_dir: str | Path, store_path: str | Path) -> dict:
    """Bring a backup back: copy it beside the store, check the copy (`_check_backup`:
    manifest checksums, then `verify_connection`), then `os.replace` it over the store in
    one step. The replaced file is kept as `STORE.replaced-<time>`. A refused backup
    leaves the store untouched and no copy behind. Returns the jobs and counts before
    and after, and warnings (what could not be checked)."""
    import shutil

    crypto.require()
    src_dir = Path(from_dir)
    manifest_path = src_dir / "manifest.json"
    backup = src_dir / "store.duckdb"
    if not manifest_path.exists() or not backup.exists():
        raise ResolutionError(f"{src_dir} is not a backup (needs manifest.json and store.duckdb)")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ResolutionError(f"{manifest_path} is unreadable: {exc}")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("counts"), dict):
        raise ResolutionError(f"{manifest_path} is not a backup manifest (no table counts)")
    store = Path(store_path)
    tmp = store.with_name(f".{store.name}.restore-{uuid.uuid4().hex[:8]}")
    before = None
    kept = None
    try:
        try:
            store.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(backup, tmp)
            os.chmod(tmp, 0o600)
        except OSError as exc:
            raise ResolutionError(f"cannot restore into {store}: {exc.strerror or exc} "
                                  f"({exc.filename or store.parent}); the store is untouched")
        # the copy is what replaces the store, so the copy is what is checked
        after, warnings = _check_backup(tmp, backup, manifest)
        if store.exists():
            # Wait for writers, fold the WAL into the file, so no stale WAL outlives it.
            con = connect_store(store)
            try:
                con.execute("CHECKPOINT")
                before = _snapshot_facts(con)
            finally:
                con.close()
            kept = store.with_name(f"{store.name}.replaced-{time.strftime('%Y%m%dT%H%M%S')}")
            if kept.exists():  # a second restore within the same second
                kept = kept.with_name(f"{kept.name}-{uuid.uuid4().hex[:4]}")
        wal = store.with_name(store.name + ".wal")
        if wal.exists():
            raise ResolutionError(f"{wal} exists after a checkpoint; stop the process using the store")
        linked = False
        try:
            if kept:
                os.link(store, kept)
                linked = True
            os.replace(tmp, store)
        except OSError as exc:
            if linked:
                kept.unlink(missing_ok=True)
            raise ResolutionError(f"cannot restore into {store}: {exc.strerror or exc} "
                                  f"({exc.filename or store}); the store is untouched")
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # its folder is not a folder: nothing was written
            pass
    return {"before": before, "after": after, "kept": str(kept) if kept else None,
            "backed_up_at": manifest.get("backed_up_at"), "warnings": warnings}


def _check_backup(copy: Path, backup: Path, manifest: dict) -> tuple[dict, list[str]]:
    """Check a copy of `backup` against its manifest, then the store's invariants on it.

    Refused (one line naming what differs): a table whose row count or content hash
    differs, a file whose SHA-256 differs, a breach of `verify_connection` (which also
    catches a manifest re-written to match edited content). A manifest of a version
    before checksums is checked by its counts only, and one from another DuckDB version
    without the table hashes (DuckDB's `hash()` may change between versions); both say
    so in the returned warnings."""
    warnings: list[str] = []
    refused = f"backup {backup} does not match its manifest"
    untouched = "not restored, the store is untouched"
    digest = _sha256(copy)
    compare_hashes = "hashes" in manifest
    if compare_hashes and manifest.get("duckdb_version") != duckdb.__version__:
        compare_hashes = False
        warnings.append(
            f"the backup's table hashes were made with DuckDB {manifest.get('duckdb_version')} "
            f"and this is {duckdb.__version__}: checked by its file checksum, row counts and "
            "`er store verify` only")
    if "sha256" not in manifest:
        warnings.append(
            f"backup {backup} was made by an older version and has no checksums: checked by "
            "its row counts and `er store verify` only")
    try:
        con = crypto.open_file(copy, read_only=True)
    except duckdb.Error as exc:
        raise ResolutionError(f"backup {backup} cannot be opened "
                              f"({str(exc).splitlines()[0][:120]}); {untouched}")
    try:
        facts = _snapshot_facts(con, hashes=compare_hashes)
        counts, want = facts["counts"], manifest["counts"]
        differ = [f"{t} (manifest {want.get(t, 'none')}, file {counts.get(t, 'none')})"
                  for t in sorted(set(counts) | set(want)) if counts.get(t) != want.get(t)]
        if differ:
            raise ResolutionError(f"{refused}: row counts of {', '.join(differ[:5])} differ; {untouched}")
        if compare_hashes:
            differ = [t for t in sorted(counts) if facts["hashes"][t] != manifest["hashes"].get(t)]
            if differ:
                raise ResolutionError(
                    f"{refused}: the content of {', '.join(differ[:5])} differs (same row "
                    f"counts, other rows); {untouched}")
        if "sha256" in manifest and digest != manifest["sha256"]:
            raise ResolutionError(
                f"{refused}: the file's SHA-256 differs ({digest[:12]}…, manifest "
                f"{str(manifest['sha256'])[:12]}…) though its tables match; {untouched}")
        breaches, _ = verify_connection(con)
    finally:
        con.close()
    if breaches:
        raise ResolutionError(
            f"backup {backup} breaks the store's invariants ({len(breaches)} breach(es), the "
            f"first: {breaches[0]}); {untouched}; see `er store verify --store {backup}`")
    facts.pop("hashes", None)
    return facts, warnings


# --- Trust: rollback (`er store rollback JOB_ID`) ------------------------------------------
#
# Every job that writes the store records, in the same transaction as its change, what it
# changed: for each of UNDO_TABLES the rows it removed and the rows it added (a multiset
# difference of the table before and after), kept in the store's schema `undo` and listed
# in `undo_log`. When a job changes a table's columns (another input layout, another
# model), the whole old and new table are kept instead (mode `replace`); a table the job
# created is kept as added rows only (mode `created`).
#
# `rollback_job` puts back exactly what one job changed: current rows minus the job's
# added rows plus its removed rows, so steward decisions on entities the job did not
# touch stay as they are. It refuses, naming what blocks it, when
# - a later job that writes the store (dedup, match) is still in force: roll that back first;
# - rows the job wrote were changed since (a steward's decision in the review app on an
#   entity the job merged, split or re-survived): undo that decision first;
# - the job was already rolled back, is itself a rollback, or predates rollback records.
# Constraints and decisions are never touched: CLI decisions made since stay active and
# apply on the next run. The rollback is one transaction that also writes the entity
# events of the change (merge, split, create, retire, ... under the rollback's job ID),
# a `jobs` row (kind `rollback`, summary.rolls_back = JOB_ID) and is checked with
# `verify_connection` before it commits.

# Rollback records are kept for this many of the latest store-writing jobs; older jobs
# are undone by restoring a backup.
UNDO_KEEP = 3


def _columns(con: duckdb.DuckDBPyConnection, db: str, schema: str, table: str) -> list[tuple]:
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [db, schema, table],
    ).fetchall()


def _undo_name(job_id: str, table: str, part: str) -> str:
    return f'undo."{job_id}__{table}__{part}"'


def _fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Rows and an order-independent hash of a table's rows (a sum, so duplicate rows
    count, unlike a xor)."""
    n, h = con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {table} t").fetchall()[0]
    return int(n), int(h)


def undo_begin(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """Inside a job's store transaction, before it writes: copy each of UNDO_TABLES as it
    is now (`db` is the attached store's alias) so `undo_end` can diff against it."""
    for t in UNDO_TABLES:
        con.execute(f'DROP TABLE IF EXISTS temp."_undo_before_{t}"')
        if _columns(con, db, "main", t):
            con.execute(f'CREATE TEMP TABLE "_undo_before_{t}" AS SELECT * FROM {db}.main.{t}')


def undo_end(con: duckdb.DuckDBPyConnection, db: str, job_id: str) -> None:
    """Inside the same transaction, after the job wrote: keep what it removed and added."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {db}.undo")
    seq = scalar(con, f"SELECT coalesce(max(seq), 0) + 1 FROM {db}.undo_log")
    for t in UNDO_TABLES:
        before = _columns(con, "temp", "main", f"_undo_before_{t}")
        after = _columns(con, db, "main", t)
        if not after:
            continue
        b, a = f'temp."_undo_before_{t}"', f"{db}.main.{t}"
        rem, add = f"{db}.{_undo_name(job_id, t, 'removed')}", f"{db}.{_undo_name(job_id, t, 'added')}"
        added_hash = None
        if before == after:
            mode = "diff"
            con.execute(f"CREATE TABLE {rem} AS SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a}")
            con.execute(f"CREATE TABLE {add} AS SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}")
            n_add = scalar(con, f"SELECT count(*) FROM {add}")
        else:  # the whole table is the job's: keep what it replaced, fingerprint what it wrote
            mode = "replace" if before else "created"
            if before:
                con.execute(f"CREATE TABLE {rem} AS SELECT * FROM {b}")
            n_add, added_hash = _fingerprint(con, a)
        n_rem = scalar(con, f"SELECT count(*) FROM {rem}") if mode != "created" else 0
        con.execute(f"INSERT INTO {db}.undo_log (job_id, seq, table_name, mode, removed, added, "
                    "added_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [job_id, seq, t, mode, n_rem, n_add, added_hash])
        con.execute(f'DROP TABLE IF EXISTS temp."_undo_before_{t}"')
    # keep the records of the latest UNDO_KEEP jobs only (a re-run rewrites most rows)
    for (old,) in con.execute(
        f"SELECT DISTINCT job_id FROM {db}.undo_log WHERE seq <= ?", [seq - UNDO_KEEP]
    ).fetchall():
        for t in UNDO_TABLES:
            for part in ("removed", "added"):
                con.execute(f"DROP TABLE IF EXISTS {db}.{_undo_name(old, t, part)}")
        con.execute(f"DELETE FROM {db}.undo_log WHERE job_id = ?", [old])


@dataclass
class RollbackResult:
    job_id: str
    kind: str
    rollback_id: str | None  # None on a dry run
    tables: dict[str, tuple[int, int]]  # table -> (rows put back, rows taken out)
    events: dict[str, int]
    kept_decisions: int  # steward decisions made since the job, kept
    breaches: list[str]
    output_mark: str | None = None  # what became of the job's output folder (`_mark_outputs`)


def _job_row(con: duckdb.DuckDBPyConnection, job_id: str) -> dict | None:
    cur = con.execute("SELECT * FROM jobs WHERE job_id = ?", [job_id])
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return dict(zip(cols, rows[0])) if rows else None


def _rolled_back_by(con: duckdb.DuckDBPyConnection, job_id: str) -> tuple | None:
    found = con.execute(
        "SELECT job_id, finished_at FROM jobs WHERE kind = 'rollback' "
        "AND json_extract_string(summary, '$.rolls_back') = ?", [job_id]
    ).fetchall()
    return found[0] if found else None


def _blocking_decision(
    con: duckdb.DuckDBPyConnection, since, entity_ids: list[str] | None
) -> tuple | None:
    """The latest steward decision in force made since `since` on one of `entity_ids`
    (or, when none names them, the latest one that changed entities at all; with
    `entity_ids` None, when the changed rows are not known, the latest one at all)."""
    base = ("SELECT decision_id, action, who, decided_at FROM decisions WHERE decided_at >= ? "
            "AND undone_by IS NULL AND action <> 'comment' ")
    order = "ORDER BY decided_at DESC, decision_id DESC LIMIT 1"
    if entity_ids is None:
        found = con.execute(base + order, [since]).fetchall()
        return found[0] if found else None
    on = ("AND (list_has_any(?, [entity_id, target_entity_id]) OR list_has_any(?, "
          "json_extract_string(after, '$.membership.*')) OR list_has_any(?, "
          "json_extract_string(before, '$.membership.*'))) ")
    found = con.execute(base + on + order, [since, entity_ids, entity_ids, entity_ids]).fetchall()
    if not found:
        found = con.execute(
            base + "AND decision_id IN (SELECT job_id FROM entity_events) " + order, [since]
        ).fetchall()
    return found[0] if found else None


def rollback_job(
    store_path: str | Path, job_id: str, dry_run: bool = False, lock_wait: float = 0.0
) -> RollbackResult:
    """Undo one job's changes to the store (see the section comment above). A rollback is a
    job of its own: it waits up to `lock_wait` seconds for a running job on the store."""
    p = Path(store_path)
    if not p.exists():
        raise ResolutionError(f"store not found: {p}")
    with ExitStack() as stack:
        if not dry_run:
            stack.enter_context(job_locks(f"rollback of {job_id}", "rollback", store=p,
                                          wait=lock_wait))
        con = connect_store(p)
        try:
            result = _rollback(con, job_id, dry_run)
            job = None if dry_run else _job_row(con, job_id)
        finally:
            con.close()
        if job is not None:  # after the commit: the store is the truth, the folder a courtesy
            result.output_mark = _mark_outputs(job, result.rollback_id, p)
    return result


def _mark_outputs(job: dict, rollback_id: str, store: Path) -> str | None:
    """Mark a rolled-back job's output folder: `ROLLED_BACK.json` (job, time, rollback
    job, store) beside its outputs and the same under `rolled_back` in its summary.json,
    each written whole and renamed into place. The folder is found through OUT/summary.json
    (in the run folder OUT/current points to, or a plain file of an older version); a
    folder moved, removed or showing a later job is named and left alone, never an error
    (a later job in OUT replaces the marked run anyway). None for a job without an output
    folder (`er match`)."""
    try:
        out_dir = json.loads(job["summary"] or "{}").get("out_dir")
    except (TypeError, ValueError):
        out_dir = None
    if not out_dir:
        return None
    where = f"output folder {out_dir}"
    try:
        summary_file = (Path(out_dir) / "summary.json").resolve(strict=True)
        shown = json.loads(summary_file.read_text("utf-8"))
    except (OSError, RuntimeError, ValueError):
        return f"{where} not marked: not found (moved or removed)"
    if not isinstance(shown, dict) or shown.get("job_id") != job["job_id"]:
        other = shown.get("job_id") if isinstance(shown, dict) else None
        return f"{where} not marked: it now shows job {other}, not {job['job_id']}"
    mark = {"job_id": job["job_id"], "rolled_back_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rollback_job_id": rollback_id, "store": str(store.resolve())}
    flag = summary_file.with_name("ROLLED_BACK.json")
    try:
        _write_json_whole(flag, mark)
        _write_json_whole(summary_file, {**shown, "rolled_back": mark})
    except OSError as exc:
        return f"{where} not marked: {exc.strerror or exc} ({exc.filename or summary_file.parent})"
    return f"{where} marked as rolled back ({flag.name}, summary.json rolled_back)"


def _write_json_whole(path: Path, data: dict) -> None:
    """Write beside `path` and rename over it: a reader sees the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
        os.chmod(tmp, 0o600)  # job outputs hold personal data: owner only
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _rollback(con: duckdb.DuckDBPyConnection, job_id: str, dry_run: bool) -> RollbackResult:
    job = _job_row(con, job_id)
    if job is None:
        latest = con.execute(
            "SELECT job_id || ' (' || kind || ')' FROM jobs ORDER BY finished_at DESC, job_id DESC "
            "LIMIT 3").fetchall()
        hint = ", ".join(r[0] for r in latest) or "none"
        raise ResolutionError(f"no job {job_id} in the store; its latest jobs are: {hint}")
    if job["kind"] == "rollback":
        raise ResolutionError(
            f"job {job_id} is itself a rollback (of {json.loads(job['summary'])['rolls_back']}) "
            "and cannot be rolled back; run that job again instead")
    done = _rolled_back_by(con, job_id)
    if done:
        raise ResolutionError(f"job {job_id} was already rolled back by {done[0]} at {done[1]}; "
                              "nothing to do")
    log = con.execute(
        "SELECT table_name, mode, seq, added, added_hash FROM undo_log WHERE job_id = ? "
        "ORDER BY table_name", [job_id]
    ).fetchall()
    written = {r[0]: (r[3], r[4]) for r in log}  # rows the job wrote, and their hash
    if not log:
        raise ResolutionError(
            f"job {job_id} has no rollback record (they are kept for the latest {UNDO_KEEP} "
            "jobs, and jobs of older versions left none); restore a backup taken before it "
            "instead (`er store restore`)")
    seq = log[0][2]
    later = con.execute(
        "SELECT DISTINCT u.job_id, j.kind, j.finished_at FROM undo_log u JOIN jobs j USING (job_id) "
        "WHERE u.seq > ? AND u.job_id NOT IN (SELECT json_extract_string(summary, '$.rolls_back') "
        "FROM jobs WHERE kind = 'rollback') ORDER BY j.finished_at DESC, u.job_id DESC",
        [seq],
    ).fetchall()
    if later:
        k = later[0]
        raise ResolutionError(
            f"job {k[0]} ({k[1]}, finished {k[2]}) changed the store after job {job_id}; "
            f"roll back {k[0]} first (`er store rollback {k[0]}`), then {job_id}")

    # Every row the job added must still be there as the job wrote it.
    db = scalar(con, "SELECT current_database()")
    changed: dict[str, int] = {}
    for t, mode, *_ in log:
        add = _undo_name(job_id, t, "added")
        n_added, added_hash = written[t]
        if added_hash is not None:  # created or replaced whole: compare the fingerprint
            if not _has_table(con, t) or _fingerprint(con, t) != (n_added, added_hash):
                changed[t] = -1  # which rows changed is not known: any decision since blocks
            continue
        if _columns(con, db, "main", t) != _columns(con, db, "undo", f"{job_id}__{t}__added"):
            changed[t] = -1
            continue
        gone = scalar(con, f"SELECT count(*) FROM (SELECT * FROM {add} EXCEPT ALL SELECT * FROM {t})")
        extra = 0
        if mode != "diff":
            extra = scalar(con, f"SELECT count(*) FROM (SELECT * FROM {t} EXCEPT ALL SELECT * FROM {add})")
        if gone or extra:
            changed[t] = gone + extra
    if changed:
        ents: set[str] = set()
        for t, n in changed.items():
            if n > 0 and "entity_id" in {c for c, _ in _columns(con, db, "main", t)}:
                ents |= {r[0] for r in con.execute(
                    f"SELECT DISTINCT entity_id FROM (SELECT * FROM {_undo_name(job_id, t, 'added')} "
                    f"EXCEPT ALL SELECT * FROM {t})").fetchall()}
        unknown = any(n < 0 and written[t][1] is not None for t, n in changed.items())
        d = _blocking_decision(con, job["finished_at"], None if unknown else sorted(ents))
        tables = ", ".join(sorted(changed))
        if d:
            raise ResolutionError(
                f"steward decision {d[0]} ({d[1]} by {d[2]} at {d[3]}) changed what job {job_id} "
                f"wrote ({tables}); undo it in the review app first (and any later decision on "
                "those entities), then roll back")
        raise ResolutionError(
            f"{tables} changed since job {job_id} outside any recorded decision; "
            "restore a backup taken before it instead (`er store restore`)")

    kept = scalar(con, "SELECT count(*) FROM decisions WHERE decided_at >= ? AND undone_by IS NULL",
                  [job["finished_at"]])
    rollback_id = "R" + time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    has_xw = bool(_columns(con, db, "main", "crosswalk"))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _old AS SELECT record_id, entity_id FROM "
                    + ("crosswalk" if has_xw else "(SELECT NULL::VARCHAR AS record_id, "
                       "NULL::VARCHAR AS entity_id WHERE false)"))
        tables: dict[str, tuple[int, int]] = {}
        for t, mode, *_ in log:
            rem, add = _undo_name(job_id, t, "removed"), _undo_name(job_id, t, "added")
            n_add = written[t][0]
            if mode == "diff":
                n_rem = scalar(con, f"SELECT count(*) FROM {rem}")
                con.execute(f'CREATE OR REPLACE TEMP TABLE "_rb_{t}" AS (SELECT * FROM {t} EXCEPT ALL '
                            f"SELECT * FROM {add}) UNION ALL SELECT * FROM {rem}")
                con.execute(f"DELETE FROM {t}")
                con.execute(f'INSERT INTO {t} SELECT * FROM temp."_rb_{t}"')
                con.execute(f'DROP TABLE temp."_rb_{t}"')
            elif mode == "replace":
                n_rem = scalar(con, f"SELECT count(*) FROM {rem}")
                con.execute(f"DROP TABLE {t}")
                con.execute(f"CREATE TABLE {t} AS SELECT * FROM {rem}")
            else:
                n_rem = 0
                con.execute(f"DROP TABLE {t}")
            tables[t] = (n_rem, n_add)
        ensure_indexes(con)
        # the rollback's own entity events: the store's diff of membership before and after
        con.execute("CREATE OR REPLACE TEMP TABLE clusters AS SELECT record_id, entity_id FROM "
                    + ("crosswalk" if _columns(con, db, "main", "crosswalk") else "_old WHERE false"))
        revived = {r[0] for r in con.execute(
            "SELECT DISTINCT entity_id FROM clusters WHERE entity_id NOT IN "
            "(SELECT entity_id FROM _old)").fetchall()}
        events = _events(con, revived)
        if events:
            insert_rows(con, "entity_events",
                        ["event_id", "job_id", "happened_at", "event", "entity_id",
                         "related_entity_ids", "record_ids"],
                        [(f"{rollback_id}-{i + 1}", rollback_id, None, e, eid, rel, recs)
                         for i, (e, eid, rel, recs) in enumerate(events)])
            con.execute("UPDATE entity_events SET happened_at = now() WHERE job_id = ?", [rollback_id])
        counts = defaultdict(int)
        for e in events:
            counts[e[0]] += 1
        prev = con.execute(
            "SELECT j.job_id, j.model, j.settings FROM jobs j WHERE j.kind IN ('dedup', 'match') "
            "AND j.job_id <> ? AND j.finished_at <= ? AND j.job_id NOT IN "
            "(SELECT json_extract_string(summary, '$.rolls_back') FROM jobs WHERE kind = 'rollback') "
            "ORDER BY j.finished_at DESC, j.job_id DESC LIMIT 1",
            [job_id, job["finished_at"]],
        ).fetchall()
        n_rec = scalar(con, "SELECT count(*) FROM crosswalk") if _has_table(con, "crosswalk") else 0
        n_ent = scalar(con, "SELECT count(*) FROM entities") if _has_table(con, "entities") else 0
        summary = {"rolls_back": job_id, "rolled_back_kind": job["kind"],
                   "tables": {t: {"put_back": a, "taken_out": b} for t, (a, b) in tables.items()},
                   "events": dict(counts), "kept_decisions": kept,
                   "in_force": prev[0][0] if prev else None}
        con.execute(
            "INSERT INTO jobs VALUES (?, 'rollback', now(), now(), ?, ?, ?, ?, ?, ?)",
            [rollback_id, prev[0][1] if prev else None, json.dumps([job_id]), n_rec, n_ent,
             json.dumps(summary, ensure_ascii=False), prev[0][2] if prev else None],
        )
        if prev:  # the review app recomputes golden records with the job now in force
            con.execute("INSERT INTO job_configs SELECT ?, config FROM job_configs WHERE job_id = ?",
                        [rollback_id, prev[0][0]])
        breaches, _facts = verify_connection(con)
        if breaches and not dry_run:
            raise ResolutionError(
                f"rolling back {job_id} would break the store's invariants, nothing changed: "
                + " | ".join(breaches))
        if dry_run:
            con.execute("ROLLBACK")
        else:
            for t, *_ in log:
                for part in ("removed", "added"):
                    con.execute(f"DROP TABLE IF EXISTS {_undo_name(job_id, t, part)}")
            con.execute("COMMIT")
    except Exception:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS temp._old; DROP TABLE IF EXISTS temp.clusters")
    return RollbackResult(job_id, job["kind"], None if dry_run else rollback_id, tables,
                          dict(counts), kept, breaches)
