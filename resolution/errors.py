"""One exception family for everything a user can cause, and the operating-system
failures that count as such.

Inside the engine we raise these; the CLI (`resolution.cli_errors`) turns them into one
clear line and a non-zero exit. A full disk, a read-only or unwritable folder, a file
where a folder belongs and too many open files are the user's to fix too:
`os_problem` words them, whether they arrive as an `OSError` or as DuckDB's (or
Splink's wrapping of DuckDB's) error text. Any other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path


class ResolutionError(Exception):
    """A problem the user can fix: the message says what is wrong and how to fix it."""


class ConfigError(ResolutionError):
    """The config file is missing, unreadable or has a bad key or value."""


class InputError(ResolutionError):
    """An input file is missing, unreadable, empty, wrongly encoded or lacks a column."""


class ModelError(ResolutionError):
    """A model reference cannot be resolved or the model does not fit the config."""


class StorageError(ResolutionError):
    """A folder the job writes to is unusable: read-only, a file, full, not permitted."""


_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_PERMISSION = {errno.EACCES, errno.EPERM}
_TOO_MANY_FILES = {errno.EMFILE, errno.ENFILE}
_HANDLED = (_NO_SPACE | _PERMISSION | _TOO_MANY_FILES
            | {errno.EROFS, errno.ENOTDIR, errno.EEXIST, errno.EISDIR})

# DuckDB reports the same failures as text in its own exceptions (IOException,
# TransactionException, ...); the OS's strerror is in it, or its own words for a short write
_DUCKDB_TEXT = [
    ("no space left on device", errno.ENOSPC),
    ("could not write all bytes", errno.ENOSPC),
    ("disk quota exceeded", errno.ENOSPC),
    ("read-only file system", errno.EROFS),
    ("permission denied", errno.EACCES),
    ("operation not permitted", errno.EPERM),
    ("not a directory", errno.ENOTDIR),
    ("too many open files", errno.EMFILE),
]


def _describe(code: int, path: str | None) -> str:
    """One line: what failed at `path` and how to fix it."""
    at = f" ({path})" if path else ""
    if code in _NO_SPACE:
        where = f"the disk holding {path}" if path else "the disk"
        return (f"no space left on {where}: free space there, or use a folder on a disk "
                "with room (--out, resources.temp_directory, store.path), and run again")
    if code == errno.EROFS:
        return (f"{path or 'the path'} is on a read-only file system: choose a writable "
                "folder")
    if code in _PERMISSION:
        return (f"permission denied{at}: choose a folder you may write to, or change "
                "its permissions")
    if code == errno.ENOTDIR:
        file = _file_in_path(path)
        if file:
            return f"{file} is a file, not a folder: choose a folder for {path}"
        return f"a part of {path or 'the path'} is a file, not a folder: choose a folder"
    if code == errno.EEXIST:
        if path and os.path.exists(path) and not os.path.isdir(path):
            return f"{path} is a file, not a folder: choose a folder (it is created if missing)"
        return f"{path or 'the path'} already exists: remove it or choose another path"
    if code == errno.EISDIR:
        return f"{path or 'the path'} is a folder, not a file: give a file's path"
    if code in _TOO_MANY_FILES:
        return (f"too many open files{at}: raise the limit (ulimit -n) or close other "
                "programs, and run again")
    raise ValueError(code)


def _file_in_path(path: str | None) -> str | None:
    """The first part of `path` that exists as a file (why it is 'not a directory')."""
    if not path:
        return None
    p = Path(path)
    for part in reversed(p.parents):
        if part.exists() and not part.is_dir():
            return str(part)
    return None


def os_problem(exc: BaseException) -> str | None:
    """The one-line message for an OS-level failure the user can fix, found in `exc` or
    the exceptions it was raised from (Splink wraps DuckDB's); None for anything else."""
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 10:
        seen += 1
        if isinstance(e, OSError) and e.errno in _HANDLED:
            return _describe(e.errno, e.filename and os.fsdecode(e.filename))
        if type(e).__module__.split(".")[0] in ("duckdb", "_duckdb"):
            text = str(e)
            for words, code in _DUCKDB_TEXT:
                if words in text.lower():
                    m = re.search(r'"(/[^"]+|[A-Za-z]:\\[^"]+)"', text)
                    return _describe(code, m.group(1) if m else None)
        e = e.__cause__
    return None


def writable_folder(path: str | os.PathLike, what: str) -> Path:
    """Create `path` if missing and prove a file can be written in it, before any work:
    a job that would fail at its last step (writing outputs) fails at once instead."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise StorageError(f"{what} {p} is a file, not a folder: choose a folder "
                           "(it is created if missing)")
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=p)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if exc.errno not in _HANDLED:
            raise
        # named by the folder the user gave, not by the probe file or a missing parent
        raise StorageError(f"{what}: {_describe(exc.errno, str(p))}") from exc
    return p
