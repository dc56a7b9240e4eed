"""Fault injection for the crash-safety tests (tests/test_trust_crash.py).

`fault_point("stage")` does nothing unless the environment variable `ER_FAULT_AT` names
that stage; then the process kills itself with SIGKILL on the spot (no cleanup, no
`finally`, like a power cut or the OOM killer). Stages:

- `ingest`   after the input is read (dedup and match)
- `predict`  after pairs are scored (dedup and match)
- `outputs`  dedup: the new run folder is complete and the store has committed; the
             output folder still shows the previous job (OUT/current not yet switched)
- `switched` dedup: just after OUT/current was switched to the new run
- `commit`   inside the store transaction, just before COMMIT (dedup and match)
- `review_read`  the review app: a page read has begun its read-only transaction
                 (`review.store_access.StoreAccess.read`); only the first read of the
                 process pauses, so a test can show other requests go on meanwhile

`ER_PAUSE_AT=stage` with `ER_PAUSE_FILE=PATH` pauses there instead: the process writes
`PATH.paused` and waits (at most 10 minutes) until PATH is removed, so a test can run a
second job while the first is mid-way (tests/test_trust_concurrency.py), or send
requests to a review app while one of its page reads is held up
(tests/test_review_concurrency.py).

Never set them outside tests.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

# Stages passed by many threads of one process, of which only the first pauses.
ONCE = ("review_read",)


def fault_point(stage: str) -> None:
    if os.environ.get("ER_FAULT_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("ER_PAUSE_AT") == stage and os.environ.get("ER_PAUSE_FILE"):
        hold = Path(os.environ["ER_PAUSE_FILE"])
        paused = hold.with_name(hold.name + ".paused")
        try:
            # exclusive: of the threads arriving at a ONCE stage, one pauses
            with paused.open("x" if stage in ONCE else "w") as f:
                f.write(str(os.getpid()))
        except FileExistsError:
            return
        deadline = time.monotonic() + 600
        while hold.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
