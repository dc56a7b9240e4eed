"""Job locks: one job at a time per store, one job at a time per output folder.

DuckDB lets one process write a file at a time, but a batch job holds the store file only
while it reads the constraints and while it commits; in between it computes entity IDs and
events against the store as it was. Two jobs on one store would each commit a change
computed against a state the other has already replaced (seen: thousands of "live entity
marked retired" breaches), and two jobs on one output folder would remove each other's run
folders. So a job (`er dedup`, `er match`, `er store rollback`, `er store restore`) holds,
for its whole life, an exclusive `flock` on

- `STORE.lock` beside the store file (`out/store.duckdb` -> `out/store.duckdb.lock`), and
- `OUT/.lock` in `er dedup`'s output folder (taken first, so two locks are always taken in
  the same order).

The operating system drops a `flock` when its process ends, kill -9 included, so a crashed
job never leaves a stale lock behind. The lock file holds who has it (job ID, pid, command,
start time) for the message the next job prints. The review app, `er store verify`,
`er store backup`, `er check` and the steward commands (`er store must-link` ...) do not
take it: they keep working while a job runs, and DuckDB's own file lock serializes their
short writes with the job's commit.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from resolution.errors import ResolutionError

LOCK_SUFFIX = ".lock"
OUT_LOCK = ".lock"


def store_lock_path(store: str | Path) -> Path:
    p = Path(store)
    return p.with_name(p.name + LOCK_SUFFIX)


def _holder(fd: int) -> str:
    """Who holds the lock, from what it wrote into the file (best effort)."""
    try:
        raw = os.pread(fd, 4096, 0).decode("utf-8", "replace")
        h = json.loads(raw)
        return (f"job {h.get('job_id') or '?'} ({h.get('command') or '?'}, pid {h.get('pid')}, "
                f"started {h.get('started_at')})")
    except (OSError, ValueError, AttributeError):
        return "another job"


@contextmanager
def hold(
    lock_file: Path,
    what: str,
    job_id: str,
    command: str,
    wait: float = 0.0,
    say: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` for the block; `what` names the guarded thing
    in messages ("store out/store.duckdb"). If another job holds it, wait up to `wait`
    seconds (saying so once), then refuse with one line naming the holder."""
    try:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ResolutionError(
            f"cannot create the lock file {lock_file} for {what}: {exc.strerror}; "
            "the folder must be writable"
        ) from exc
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
            holder = _holder(fd)
            if time.monotonic() >= deadline:
                hint = ("wait for it to finish, or pass --wait SECONDS to queue behind it"
                        if wait <= 0 else f"waited {wait:g}s; try again when it finishes")
                raise ResolutionError(f"{what} is in use by {holder}; {hint}")
            if not told and say is not None:
                say(f"waiting for {holder} to release {what}")
                told = True
            time.sleep(0.2)
        info = {"job_id": job_id, "command": command, "pid": os.getpid(),
                "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                "argv": " ".join(sys.argv[:3])}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def job_locks(
    job_id: str,
    command: str,
    store: str | Path | None = None,
    out: str | Path | None = None,
    wait: float = 0.0,
    say: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """The locks one job holds for its life: its output folder's, then its store's."""
    deadline = time.monotonic() + max(wait, 0.0)
    with ExitStack() as stack:
        if out is not None:
            stack.enter_context(hold(Path(out) / OUT_LOCK, f"output folder {out}", job_id,
                                     command, wait, say))
        if store is not None:
            left = max(deadline - time.monotonic(), 0.0)
            try:
                Path(store).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ResolutionError(
                    f"cannot use store {store}: its folder cannot be created "
                    f"({exc.strerror or exc}: {exc.filename or Path(store).parent})"
                ) from exc
            stack.enter_context(hold(store_lock_path(store), f"store {store}", job_id,
                                     command, left, say))
        yield
