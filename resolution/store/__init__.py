"""The persistent store: one DuckDB file (`store.duckdb`) that keeps entities, the
crosswalk, member records, history and steward constraints across jobs.

One module per responsibility:
- `schema`       the tables and indexes, opening and attaching the file (waiting while
                 another process holds it), owner-only file modes
- `commit`       a job's commit: stable entity IDs, entity events, history, job configs
- `constraints`  steward must-link / cannot-link / move decisions from the CLI, and
                 their export as training labels
- `undo`         the undo log each store-writing job records in its own transaction
- `rollback`     `er store rollback`: putting one job's changes back, marking its output
- `verify`       the store's invariants (`er store verify`)
- `backup`       `er store backup|restore` with manifest checks

The names below are the store's API; callers may import them from here or from the
module that owns them. (`UNDO_KEEP` is read from `resolution.store.undo`: patch it there.)
"""

from resolution.store.backup import backup_store, restore_store
from resolution.store.commit import (
    EVENTS_SQL,
    IdMapping,
    _events,
    assign_stable_ids,
    commit_job,
    job_config,
    load_constraints,
    write_history,
)
from resolution.store.constraints import (
    add_constraint,
    export_labels,
    labelled_pairs,
    move_record,
    store_labels,
)
from resolution.store.rollback import RollbackResult, rollback_job
from resolution.store.schema import (
    INDEXES,
    JOB_TABLES,
    LOCK_WAIT_SECONDS,
    SCHEMA,
    UNDO_TABLES,
    attach_store,
    connect_store,
    ensure_indexes,
    open_store,
    others_waiting,
)
from resolution.store.undo import UNDO_KEEP, undo_begin, undo_end
from resolution.store.verify import verify_connection, verify_store

__all__ = [
    "EVENTS_SQL", "INDEXES", "JOB_TABLES", "LOCK_WAIT_SECONDS", "SCHEMA", "UNDO_KEEP",
    "UNDO_TABLES", "IdMapping", "RollbackResult", "_events", "add_constraint",
    "assign_stable_ids", "attach_store", "backup_store", "commit_job", "connect_store",
    "ensure_indexes", "export_labels", "job_config", "labelled_pairs", "load_constraints",
    "move_record", "open_store", "others_waiting", "restore_store", "rollback_job", "store_labels",
    "undo_begin", "undo_end", "verify_connection", "verify_store", "write_history",
]
