"""The store file itself: its tables (`SCHEMA`), lookup indexes, and opening or
attaching it. The store holds personal data, so the file is readable and writable by its
owner only. DuckDB lets one process write a file at a time: opening and attaching wait
(with a `wanted` marker beside the file, see `others_waiting`) while another process
holds it. Also the small table look-ups (columns, existence, fingerprint) the other
store modules share."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from resolution import crypto
from resolution.db import scalar
from resolution.errors import ResolutionError

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
-- the model a job applied as the registry has it (`model` is the reference as given, e.g.
-- an alias), the MLflow run that trained it, and the threshold the job linked at
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS model_name VARCHAR;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS model_version VARCHAR;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS model_run_id VARCHAR;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS threshold DOUBLE;
CREATE SCHEMA IF NOT EXISTS undo;
-- API tokens of `er check serve` (resolution/tokens.py): the secret's SHA-256 only
CREATE TABLE IF NOT EXISTS api_tokens (
    token_id VARCHAR PRIMARY KEY, name VARCHAR, role VARCHAR, scope VARCHAR,
    secret_hash VARCHAR, created_at TIMESTAMP, expires_at TIMESTAMP, revoked_at TIMESTAMP
);
-- who works on a queued entity (the review app's claim/assign, `review.actions.claim`);
-- counted only while the entity is in review_queue, audited as decisions
CREATE TABLE IF NOT EXISTS claims (
    entity_id VARCHAR PRIMARY KEY, who VARCHAR, claimed_at TIMESTAMP, claimed_by VARCHAR
);
-- the review queue's ranking (cluster.build_review_queue), on a queue a job wrote before it
ALTER TABLE IF EXISTS review_queue ADD COLUMN IF NOT EXISTS priority DOUBLE;
ALTER TABLE IF EXISTS review_queue ADD COLUMN IF NOT EXISTS kind VARCHAR;
ALTER TABLE IF EXISTS review_queue ADD COLUMN IF NOT EXISTS wrong_probability DOUBLE;
ALTER TABLE IF EXISTS review_queue ADD COLUMN IF NOT EXISTS other_entity_id VARCHAR;
-- a steward's value for one golden-record field (review app: pin, unpin); it applies to
-- the entity holding most of `record_ids`, its entity's members when pinned
-- (survivorship.apply_pins); `pin_id` is the pin decision's ID
CREATE TABLE IF NOT EXISTS golden_pins (
    pin_id VARCHAR PRIMARY KEY, field VARCHAR, value VARCHAR, record_ids VARCHAR[],
    pinned_by VARCHAR, pinned_at TIMESTAMP, reason VARCHAR, active BOOLEAN DEFAULT true,
    unpinned_by VARCHAR
);
"""

# The jobs table's columns in order (INSERTs name them: older stores gain the later ones
# by ALTER TABLE, so positional inserts would depend on the store's age).
JOB_COLUMNS = ("job_id, kind, started_at, finished_at, model, inputs, records, entities, "
               "summary, settings, model_name, model_version, model_run_id, threshold")

# Tables a job replaces wholesale (their columns follow the job's records).
JOB_TABLES = ("records", "pairs", "crosswalk", "entities", "review_queue", "cluster_splits")
# What a job changes and `er store rollback` puts back (see `undo_begin`).
UNDO_TABLES = JOB_TABLES + ("entity_registry",)


# Point lookups by ID (the review app's pages, `er check`'s candidates) use these ART
# indexes instead of scanning the tables: at 185k records an entity page went from ~1.2 s
# to well under 0.1 s of queries. A job that replaces a table creates them again. The
# pairs' are for the pairs of a few records (an entity page's evidence, a confirm's near
# misses, the queue's likely duplicates), which otherwise scan every pair (twice: either
# side); a lookup must be `col IN (SELECT unnest(?))` or `col = ?` to use an index
# (`list_contains(?, col)` always scans).
INDEXES = (
    ("records", "record_id"), ("crosswalk", "record_id"), ("crosswalk", "entity_id"),
    ("entities", "entity_id"), ("review_queue", "entity_id"), ("pairs", "record_id_l"),
    ("pairs", "record_id_r"),
)


def ensure_indexes(con: duckdb.DuckDBPyConnection, db: str | None = None) -> None:
    """Create the lookup indexes that are missing (on the attached store `db`, else the
    connection's own database)."""
    where = db or scalar(con, "SELECT current_database()")
    for table, column in INDEXES:
        if table_columns(con, where, "main", table):
            con.execute(f"CREATE INDEX IF NOT EXISTS idx_{table}_{column} "
                        f'ON "{where}".main.{table} ({column})')


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


def has_table(con: duckdb.DuckDBPyConnection, table: str, db: str | None = None) -> bool:
    where = " AND database_name = ?" if db else ""
    return bool(scalar(
        con, f"SELECT count(*) FROM duckdb_tables() WHERE table_name = ?{where}",
        [table, db] if db else [table],
    ))


def table_columns(con: duckdb.DuckDBPyConnection, db: str, schema: str, table: str) -> list[tuple]:
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [db, schema, table],
    ).fetchall()


def fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Rows and an order-independent hash of a table's rows (a sum, so duplicate rows
    count, unlike a xor)."""
    n, h = con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {table} t").fetchall()[0]
    return int(n), int(h)
