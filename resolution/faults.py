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

Never set it outside tests.
"""

from __future__ import annotations

import os
import signal


def fault_point(stage: str) -> None:
    if os.environ.get("ER_FAULT_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)
