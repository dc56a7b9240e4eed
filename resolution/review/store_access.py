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

Opening the store costs ~40-50 ms (open, schema check, close), more than most pages.
With `hold` > 0 (`er review serve --hold-store`) the app keeps its one connection open
between requests and closes it after `hold` seconds without a request, or at once when
another process waits for the store (it leaves a `STORE.wanted-PID` marker while it
waits, `resolution.store.connect_store` / `attach_store`), so jobs and CLI commands still
get in within one request's time. Other programs that open the file directly (a DuckDB
shell) see it busy while requests keep coming.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

from resolution.errors import ResolutionError
from resolution.store import connect_store, ensure_indexes, others_waiting

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
-- the client address of a refusal (login throttling counts failures per address too)
ALTER TABLE access_log ADD COLUMN IF NOT EXISTS client VARCHAR;
-- signed-in sessions, revocable (auth.start_session); the ID itself is only in the cookie
CREATE TABLE IF NOT EXISTS review_sessions (
    id_hash VARCHAR PRIMARY KEY, user_name VARCHAR, client VARCHAR, created_at TIMESTAMP,
    revoked_at TIMESTAMP
);
"""


class StoreBusy(ResolutionError):
    """A batch job holds the store for longer than the app waits."""


class StoreAccess:
    """Short-lived connections to one store, one at a time within this process."""

    def __init__(self, path: str | Path, wait: float = 10.0, hold: float = 0.0):
        self.path = Path(path)
        self.wait = wait
        self.hold = hold
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._last = 0.0
        if not self.path.exists():
            raise ResolutionError(f"store not found: {self.path} (run `er dedup` or `er demo` first)")
        with self.connect() as con:
            has = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'crosswalk'"
            ).fetchall()[0][0]
            if not has:
                raise ResolutionError(f"{self.path} has no entities yet; run `er dedup` first")
            ensure_indexes(con)  # a store written before jobs created them
        if hold > 0:
            threading.Thread(target=self._closer, daemon=True, name="store-closer").start()

    def _open(self) -> duckdb.DuckDBPyConnection:
        try:
            con = connect_store(self.path, wait=self.wait)
        except ResolutionError as exc:
            if "in use" in str(exc):
                raise StoreBusy(
                    "数据库正被批处理作业占用，请稍后重试 (the store is busy with a batch job; "
                    "try again in a moment)"
                ) from exc
            raise
        con.execute(REVIEW_SCHEMA)
        return con

    def _release(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()

    def _closer(self) -> None:
        """Close the held connection when idle for `hold` seconds or when someone waits."""
        step = min(self.hold / 2, 0.05)
        while True:
            time.sleep(step)
            if self._con is None:
                continue
            if not self._lock.acquire(timeout=step):
                continue
            try:
                if self._con is not None and (
                    time.monotonic() - self._last > self.hold or others_waiting(self.path)
                ):
                    self._release()
            finally:
                self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._release()

    @contextmanager
    def connect(self):
        with self._lock:
            if self._con is not None and others_waiting(self.path):
                self._release()
            con = self._con or self._open()
            self._con = con if self.hold > 0 else None
            failed = False
            try:
                yield con
            except BaseException:
                failed = True
                raise
            finally:
                self._last = time.monotonic()
                if self.hold <= 0 or failed or others_waiting(self.path):
                    # nothing half-done stays on a held connection
                    if self._con is con:
                        self._con = None
                    con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(REVIEW_SCHEMA)
