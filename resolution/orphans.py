"""Worker processes that end with the job that started them.

The standardize pool's workers are forked by multiprocessing's forkserver, not by the job,
so a job killed with kill -9 left them behind: each (~330 MB) waited forever on pipes it
holds itself, and kept the forkserver and the resource tracker alive through the
descriptors it inherited. A worker that exits as soon as the job has ended releases them,
and the forkserver and resource tracker then end on their own.
"""

from __future__ import annotations

import os
import select
import threading
import time


def end_with(pid: int) -> None:
    """Exit this process as soon as process `pid` has ended (a daemon thread waits)."""
    threading.Thread(target=_wait_then_exit, args=(pid,), daemon=True,
                     name="er-end-with-job").start()


def _wait_then_exit(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)  # Linux: readable once the process has ended
    except ProcessLookupError:  # ended before we looked
        os._exit(1)
    except (AttributeError, OSError):  # not Linux (or a kernel before 5.3): poll
        while _alive(pid):
            time.sleep(0.5)
        os._exit(1)
    select.select([fd], [], [])
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's: pid reused, so the job has ended
        return False
    return True
