"""The undo log: what each store-writing job changed, recorded in the job's own
transaction so `er store rollback` (resolution/store/rollback.py) can put it back.

Every job that writes the store records, in the same transaction as its change, what it
changed: for each of UNDO_TABLES the rows it removed and the rows it added (a multiset
difference of the table before and after), kept in the store's schema `undo` and listed
in `undo_log`. When a job changes a table's columns (another input layout, another
model), the whole old and new table are kept instead (mode `replace`); a table the job
created is kept as added rows only (mode `created`).
"""

from __future__ import annotations

import duckdb

from resolution.db import scalar
from resolution.store.schema import UNDO_TABLES, fingerprint, table_columns

# Rollback records are kept for this many of the latest store-writing jobs; older jobs
# are undone by restoring a backup.
UNDO_KEEP = 3


def undo_name(job_id: str, table: str, part: str) -> str:
    return f'undo."{job_id}__{table}__{part}"'


def undo_begin(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """Inside a job's store transaction, before it writes: copy each of UNDO_TABLES as it
    is now (`db` is the attached store's alias) so `undo_end` can diff against it."""
    for t in UNDO_TABLES:
        con.execute(f'DROP TABLE IF EXISTS temp."_undo_before_{t}"')
        if table_columns(con, db, "main", t):
            con.execute(f'CREATE TEMP TABLE "_undo_before_{t}" AS SELECT * FROM {db}.main.{t}')


def undo_end(con: duckdb.DuckDBPyConnection, db: str, job_id: str) -> None:
    """Inside the same transaction, after the job wrote: keep what it removed and added."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {db}.undo")
    seq = scalar(con, f"SELECT coalesce(max(seq), 0) + 1 FROM {db}.undo_log")
    for t in UNDO_TABLES:
        before = table_columns(con, "temp", "main", f"_undo_before_{t}")
        after = table_columns(con, db, "main", t)
        if not after:
            continue
        b, a = f'temp."_undo_before_{t}"', f"{db}.main.{t}"
        rem, add = f"{db}.{undo_name(job_id, t, 'removed')}", f"{db}.{undo_name(job_id, t, 'added')}"
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
            n_add, added_hash = fingerprint(con, a)
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
                con.execute(f"DROP TABLE IF EXISTS {db}.{undo_name(old, t, part)}")
        con.execute(f"DELETE FROM {db}.undo_log WHERE job_id = ?", [old])
