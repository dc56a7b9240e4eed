"""How the review app shares the store with batch jobs.

DuckDB allows one process to write a database file at a time, and a process that has the
file open holds a lock on it. So:

- the app never keeps the store open: every request opens a connection, does its work
  and closes it (milliseconds), so a batch job is never locked out for long;
- when a job holds the file (it does so only while it reads the constraints and while it
  commits its results in one transaction, `resolution.store.commit_job`), a request waits
  up to `wait` seconds for it and then answers "the store is busy, try again";
- inside the app one lock serialises store access, so a decision's check ("has this
  entity changed since the page was loaded?") and its write happen with nobody in
  between — neither another request of this app nor another process, which cannot open
  the file while we hold it;
- a decision taken while a job is running is kept (decisions, constraints) and honoured
  by the next run; the job's commit replaces the entities, which changes their versions,
  so a page loaded before the commit is refused and must be reloaded.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import duckdb

from resolution.errors import ResolutionError
from resolution.store import connect_store

REVIEW_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name VARCHAR PRIMARY KEY, role VARCHAR, salt VARCHAR, password_hash VARCHAR,
    created_at TIMESTAMP, disabled BOOLEAN DEFAULT false
);
CREATE TABLE IF NOT EXISTS access_log (
    happened_at TIMESTAMP, who VARCHAR, role VARCHAR, method VARCHAR, path VARCHAR,
    status INTEGER, reason VARCHAR
);
CREATE TABLE IF NOT EXISTS entity_versions (
    entity_id VARCHAR PRIMARY KEY, version BIGINT, decision_id VARCHAR
);
CREATE TABLE IF NOT EXISTS review_settings (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


class StoreBusy(ResolutionError):
    """A batch job holds the store for longer than the app waits."""


class StoreAccess:
    """Short-lived connections to one store, one at a time within this process."""

    def __init__(self, path: str | Path, wait: float = 10.0):
        self.path = Path(path)
        self.wait = wait
        self._lock = threading.RLock()
        if not self.path.exists():
            raise ResolutionError(f"store not found: {self.path} (run `er dedup` or `er demo` first)")
        with self.connect() as con:
            has = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'crosswalk'"
            ).fetchall()[0][0]
            if not has:
                raise ResolutionError(f"{self.path} has no entities yet; run `er dedup` first")

    @contextmanager
    def connect(self):
        with self._lock:
            try:
                con = connect_store(self.path, wait=self.wait)
            except ResolutionError as exc:
                if "in use" in str(exc):
                    raise StoreBusy(
                        "数据库正被批处理作业占用，请稍后重试 (the store is busy with a batch job; "
                        "try again in a moment)"
                    ) from exc
                raise
            try:
                con.execute(REVIEW_SCHEMA)
                yield con
            finally:
                con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(REVIEW_SCHEMA)
