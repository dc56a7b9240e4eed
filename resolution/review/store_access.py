"""How the review app shares the store with batch jobs, and its requests with each other.

DuckDB allows one process to write a database file at a time, and a process that has the
file open holds a lock on it (a process cannot open it read-only and read-write at once
either). So:

- the app opens the store only while requests need it: the first request opens it, every
  request works on its own cursor (`con.cursor()`: a connection of its own to the same
  database), and the last one out closes it — at once, or with `hold` > 0
  (`er review serve --hold-store`) after `hold` seconds without a request. Opening costs
  ~40-50 ms (open, schema check), more than most pages;
- page reads (`read`) run side by side: each is one read-only transaction on its cursor,
  so it sees one committed state of the store (a snapshot), never waits for another
  request's page and cannot write. A read that starts while decisions wait or run lets
  them go first, for at most `WRITE_FIRST` seconds: the CPU is shared (2 cores), and a
  decision holds up the next one, so it should not also share the CPU with every page;
- writes (`connect`) take one lock, so a decision's check ("has this entity changed since
  the page was loaded?") and its write happen with no other write in between — neither
  another request of this app nor another process, which cannot open the file while we
  hold it. Reads already running go on and see the state before the decision's commit.
  A write may read inside it (`read` nested in `connect`), never the other way round;
- when another process waits for the store (a job or CLI command leaves a
  `STORE.wanted-PID` marker while it waits, `resolution.store.connect_store` /
  `attach_store`) no new request gets a cursor: the app lets the running ones finish,
  closes the store, and gives the waiting process up to a second to take it before it
  opens the store again (waiting up to `wait` seconds for a job that holds it, then "the
  store is busy, try again", 503). A job holds the store only while it reads the
  constraints and while it commits its results in one transaction
  (`resolution.store.commit_job`);
- a decision taken while a job is running is kept (decisions, constraints) and honoured
  by the next run; the job's commit replaces the entities, which changes their versions,
  so a page loaded before the commit is refused and must be reloaded.

Other programs that open the file directly (a DuckDB shell) see it busy while requests
keep coming.

What a page reads that is the same for everyone until the store changes (the queue page,
the job's model settings) is kept between requests (`memo`) under the store's
*generation*: a counter that goes up after every write of this app (`connect`, once it
has committed or rolled back) and every time the store is opened (another process, a
job or a CLI command, can only have written it while the app had it closed). A value
is kept under the generation read before its read transaction began, so it never
stands for a state older than that generation: a request that starts after a decision
was answered, or after the app reopened the store behind a job, computes afresh.
Reads nested in a write see its uncommitted work and are never kept.

Some values change only with a job: the model the job scored with, the tables' columns,
the scored pairs (no decision writes `pairs`, `records` or `jobs`' settings). Those are
kept with `memo(..., lasts="job")` under the store's *epoch*, which goes up only when the
store is opened: a steward's decision leaves them in place.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

from resolution.db import quote_ident
from resolution.errors import ResolutionError
from resolution.faults import fault_point
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


class _Pending:
    """A value `StoreAccess.memo` is computing; others asking for it wait for `done`."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.value = None


class StoreAccess:
    """One store shared by the app's requests: cursors on one connection, parallel reads,
    one write at a time (see the module docstring)."""

    # How long the app leaves the closed store to a process that waits for it.
    YIELD_SECONDS = 1.0
    # How long a page read lets writes (decisions) in this app go first.
    WRITE_FIRST = 1.0
    # The most values `memo` keeps (queue views, users); all are dropped when it is full.
    MEMO_SIZE = 256

    def __init__(self, path: str | Path, wait: float = 10.0, hold: float = 0.0):
        self.path = Path(path)
        self.wait = wait
        self.hold = hold
        self._state = threading.Condition()  # guards _con, _db, _users, _last, _broken
        self._write = threading.RLock()  # one write at a time (a write may nest a read)
        self._mine = threading.local()  # cursors this thread has out (nested use)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._db = ""  # the store's database name in `_con` (cursors start elsewhere with a key)
        self._users = 0  # cursors handed out and not yet closed
        self._last = 0.0
        self._broken = False  # a cursor failed in DuckDB: reopen once the others are done
        self._writes_asked = 0  # writes ever asked for (`connect`) …
        self._writes_done = 0  # … and finished (`_let_writes_first`)
        self._generation = 0  # see the module docstring (`memo`); guarded by `_state`
        self._epoch = 0  # … and the part of it that changes only when the store is opened
        self._memo: dict = {}  # (lasts, key) -> (its generation or epoch, value)
        self._computing: dict[tuple, _Pending] = {}  # ((lasts, key), stamp) -> _Pending, while one computes it
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
        # a process that waits for the file gets it first (it polls every <= 0.5 s)
        deadline = time.monotonic() + self.YIELD_SECONDS
        while others_waiting(self.path) and time.monotonic() < deadline:
            time.sleep(0.02)
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
            # one DuckDB thread: requests already keep both cores busy side by side, and
            # splitting each of their small queries across threads only added scheduling
            # (~20-30% more CPU an entity or queue page at 185k records); the entry check
            # server does the same (resolution.check)
            con.execute("SET threads = 1")
            # a join whose other side has at most this many keys (a page's entities, their
            # records, the pairs of those) reads the big table through its index instead of
            # scanning it: DuckDB's default, 50, scanned the pairs or the crosswalk for a
            # queue page's ~100 records, 8-9 ms each at 185k records against 3.6-3.8 ms
            # through the index; the index costs ~0.03-0.07 ms a key, a scan grows with the store
            con.execute("SET GLOBAL dynamic_or_filter_threshold = 256")
            con.execute(REVIEW_SCHEMA)
            self._db = con.execute("SELECT current_database()").fetchall()[0][0]
        except BaseException:
            con.close()
            raise
        return con

    def _release(self) -> None:
        """Close the store (with `_state` held and no cursor out)."""
        if self._con is not None:
            con, self._con = self._con, None
            con.close()
        self._broken = False

    def _checkout(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one request, opening the store if need be."""
        nested = getattr(self._mine, "n", 0) > 0
        with self._state:
            # nobody new gets in while the store must be closed (a process waits for it,
            # or DuckDB failed); a thread that already has a cursor out is not kept waiting
            # for itself, and nobody longer than `wait` (a read that writes, against the
            # rule, could otherwise wait for a writer waiting here)
            deadline = time.monotonic() + self.wait
            while (self._con is not None and self._users and not nested
                   and time.monotonic() < deadline
                   and (self._broken or others_waiting(self.path))):
                self._state.wait(0.05)
            if self._con is not None and not self._users and (
                    self._broken or others_waiting(self.path)):
                self._release()
            if self._con is None:
                self._con = self._open()
                self._changed(opened=True)  # another process may have written while it was closed
            cur = self._con.cursor()
            self._users += 1
        self._mine.n = getattr(self._mine, "n", 0) + 1
        try:
            if cur.execute("SELECT current_database()").fetchall()[0][0] != self._db:
                cur.execute(f"USE {quote_ident(self._db)}")
        except BaseException:
            self._checkin(cur, failed=True)
            raise
        return cur

    def _checkin(self, cur: duckdb.DuckDBPyConnection, failed: bool) -> None:
        cur.close()  # an open transaction on it is rolled back: nothing half-done stays
        self._mine.n -= 1
        with self._state:
            self._users -= 1
            self._last = time.monotonic()
            self._broken = self._broken or failed
            if not self._users and (self.hold <= 0 or self._broken or others_waiting(self.path)):
                self._release()
            self._state.notify_all()

    def _closer(self) -> None:
        """Close the store when idle for `hold` seconds or when someone waits for it."""
        step = min(self.hold / 2, 0.05)
        while True:
            time.sleep(step)
            with self._state:
                if self._con is not None and not self._users and (
                    time.monotonic() - self._last > self.hold or others_waiting(self.path)
                ):
                    self._release()

    def close(self) -> None:
        with self._state:
            while self._users:
                self._state.wait(0.05)
            self._release()

    @contextmanager
    def _cursor(self):
        cur = self._checkout()
        failed = False
        try:
            yield cur
        except (duckdb.FatalException, duckdb.InternalException):
            # DuckDB invalidates the database after these: the store is reopened (any
            # other error ends with the cursor, which rolls back what it began)
            failed = True
            raise
        finally:
            self._checkin(cur, failed)

    @contextmanager
    def read(self):
        """A cursor for a page read: one read-only transaction, in parallel with every
        other request (it sees the store as committed when it started; a write in it fails)."""
        outer = not getattr(self._mine, "n", 0)
        if outer:
            self._let_writes_first()
        with self._cursor() as cur:
            # the generation this read's values may be kept under (`memo`): read before
            # the transaction begins, so the transaction sees at least that state
            with self._state:
                self._mine.stamps = ({"write": self._generation, "job": self._epoch}
                                     if outer else None)
            try:
                cur.execute("BEGIN TRANSACTION READ ONLY")
                fault_point("review_read")
                yield cur
                cur.execute("ROLLBACK")  # nothing to keep; closing would end it as well
            finally:
                if outer:
                    self._mine.stamps = None

    def memo(self, key, compute, lasts: str = "write"):
        """`compute()`'s value as of the store's current generation, computed once per
        generation for all requests (see the module docstring): call it inside `read`,
        with `compute` reading only through that read's cursor. Outside a read, or in a
        read nested in a write, it just computes. The value is shared: never change it.
        With `lasts="job"` the value is kept until the store is opened again (the epoch):
        only for what no decision changes.

        Requests that ask for the same value of the same generation while it is being
        computed wait for it (at most `wait` seconds) instead of computing it again: after
        a decision every steward's next queue page is the same, and computing it side by
        side only shared out the CPU."""
        stamps = getattr(self._mine, "stamps", None)
        if stamps is None:
            return compute()
        generation, key = stamps[lasts], (lasts, key)
        with self._state:
            kept = self._memo.get(key)
            if kept is not None and kept[0] == generation:
                return kept[1]
            pending = self._computing.get((key, generation))
            mine = pending is None
            if pending is None:
                pending = self._computing[(key, generation)] = _Pending()
        if not mine:
            if pending.done.wait(self.wait) and pending.ok:
                return pending.value  # computed from a snapshot of the same generation
            return compute()
        try:
            pending.value = compute()
            pending.ok = True
        finally:
            with self._state:
                del self._computing[(key, generation)]
                now = self._generation if lasts == "write" else self._epoch
                if pending.ok and generation == now:  # not already out of date
                    if len(self._memo) >= self.MEMO_SIZE:
                        self._memo.clear()
                    self._memo[key] = (generation, pending.value)
            pending.done.set()
        return pending.value

    def _changed(self, opened: bool = False) -> None:
        """The store may have changed (with `_state` held): what `memo` kept is out of date,
        and when it was `opened` (a job may have run) what it kept until a job too."""
        self._generation += 1
        if opened:
            self._epoch += 1
            self._memo.clear()
        else:
            self._memo = {k: v for k, v in self._memo.items() if k[0] == "job"}

    @contextmanager
    def connect(self):
        """A cursor for work that may write, one at a time in this app (reads go on)."""
        with self._state:
            self._writes_asked += 1
        try:
            with self._write, self._cursor() as cur:
                yield cur
        finally:
            with self._state:
                self._writes_done += 1
                # after the commit (or rollback), before the request is answered
                self._changed()
                self._state.notify_all()

    def _let_writes_first(self) -> None:
        """Wait (at most WRITE_FIRST seconds) while the decisions that were waiting or
        running when the read came run: the CPU is shared, and a decision, which holds up
        the next decision, gets it first. Decisions asked for after the read came do not
        hold it up further: while stewards kept deciding, waiting for no decision to be
        left made every page wait the whole WRITE_FIRST."""
        deadline = time.monotonic() + self.WRITE_FIRST
        with self._state:
            ahead = self._writes_asked  # the read waits until as many writes are done
            while self._writes_done < ahead and time.monotonic() < deadline:
                self._state.wait(max(deadline - time.monotonic(), 0.001))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(REVIEW_SCHEMA)
