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

`ER_PAUSE_AT=stage` with `ER_PAUSE_FILE=PATH` pauses there instead: the process writes
`PATH.paused` and waits (at most 10 minutes) until PATH is removed, so a test can run a
second job while the first is mid-way (tests/test_trust_concurrency.py).

Never set them outside tests.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def fault_point(stage: str) -> None:
    if os.environ.get("ER_FAULT_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("ER_PAUSE_AT") == stage and os.environ.get("ER_PAUSE_FILE"):
        hold = Path(os.environ["ER_PAUSE_FILE"])
        hold.with_name(hold.name + ".paused").write_text(str(os.getpid()))
        deadline = time.monotonic() + 600
        while hold.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
