"""Encryption at rest: the one place that knows the key and how DuckDB files are opened.

With `ER_ENCRYPTION_KEY` set (environment only, never a config file or a log), every
DuckDB file the engine writes is encrypted with it: the store and its backups, each job's
`job.duckdb`, the standardize cache. DuckDB encrypts its own WAL with the database, and
`temp_file_encryption` covers what a connection spills to disk. The Parquet copies are
written with Parquet modular encryption under a key derived from it (`parquet_key`).

DuckDB encrypts securely only with OpenSSL from its httpfs extension (without it DuckDB
offers an insecure fallback, `force_mbedtls_unsafe`, that is never enabled). The
extension comes from the PyPI package `duckdb-extension-httpfs`, loaded from its file, so
nothing is downloaded; `ER_HTTPFS_EXTENSION` names another file (a site that installs it
elsewhere). When it cannot be loaded, `require()` refuses before any file is written.

Every connection that may hold personal data comes from `connect()`: with a key it loads
httpfs, turns on temp-file encryption and registers the Parquet key. `attach()` attaches
a DuckDB file with the key; `open_file()` is the key-aware `duckdb.connect(path)`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import duckdb

from resolution.db import quote_ident, quote_literal
from resolution.errors import ResolutionError

KEY_ENV = "ER_ENCRYPTION_KEY"
EXTENSION_ENV = "ER_HTTPFS_EXTENSION"
# Name of the Parquet key inside a connection: read_parquet(..., encryption_config =
# {footer_key: 'er_key'}) on a connection from `connect()`.
PARQUET_KEY_NAME = "er_key"


def key() -> str | None:
    """The key, or None when encryption is off (variable unset or empty)."""
    return os.environ.get(KEY_ENV) or None


def enabled() -> bool:
    return key() is not None


def extension_path() -> Path | None:
    """The httpfs extension file for this DuckDB: `ER_HTTPFS_EXTENSION`, else the one the
    `duckdb-extension-httpfs` package ships; None when neither is there."""
    if os.environ.get(EXTENSION_ENV):
        return Path(os.environ[EXTENSION_ENV])
    try:
        import duckdb_extension_httpfs
    except ImportError:
        return None
    return (Path(duckdb_extension_httpfs.__file__).parent / "extensions"
            / f"v{duckdb.__version__}" / "httpfs.duckdb_extension")


def _load_httpfs(con: duckdb.DuckDBPyConnection) -> None:
    path = extension_path()
    if path is None:
        raise ResolutionError(
            f"{KEY_ENV} is set but DuckDB cannot encrypt: the httpfs extension is not "
            f"installed (pip install duckdb-extension-httpfs=={duckdb.__version__}); "
            "nothing was written"
        )
    try:
        con.execute(f"LOAD {quote_literal(str(path))}")
    except duckdb.Error as exc:
        raise ResolutionError(
            f"{KEY_ENV} is set but DuckDB cannot encrypt: its httpfs extension does not load "
            f"from {path} ({str(exc).splitlines()[0][:100]}); install "
            f"duckdb-extension-httpfs=={duckdb.__version__} or set {EXTENSION_ENV}; "
            "nothing was written"
        ) from None


_checked: str | None = None  # the extension path `require` last loaded


def require() -> None:
    """With a key set, refuse (one ResolutionError) unless files can be encrypted. Every
    command that writes calls it before it writes anything."""
    global _checked
    if not enabled():
        return
    where = str(extension_path())
    if _checked == where:
        return
    probe = duckdb.connect()
    try:
        _load_httpfs(probe)
    finally:
        probe.close()
    _checked = where


def parquet_key() -> str:
    """The Parquet encryption key: 256 bits derived from the key (base64, as DuckDB's
    `add_parquet_key` takes it)."""
    k = key()
    if k is None:
        raise ResolutionError(f"{KEY_ENV} is not set")
    return _derive(k)


@functools.lru_cache(maxsize=4)  # ~0.1 s each, and every connection registers it
def _derive(k: str) -> str:
    raw = hashlib.pbkdf2_hmac("sha256", k.encode("utf-8"), b"resolution-parquet", 100_000)
    return base64.b64encode(raw).decode("ascii")


def prepare(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """With a key: load httpfs, encrypt spill files, register the Parquet key."""
    if enabled():
        _load_httpfs(con)
        con.execute("SET temp_file_encryption = true")
        con.execute(
            f"PRAGMA add_parquet_key({quote_literal(PARQUET_KEY_NAME)}, "
            f"{quote_literal(parquet_key())})"
        )
    return con


def connect(config: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection (`duckdb.connect(config=...)`) ready for personal
    data: with a key, what it spills is encrypted and it can open encrypted files."""
    con = duckdb.connect(config=config or {})
    try:
        return prepare(con)
    except BaseException:
        con.close()
        raise


def _scrub(exc: duckdb.Error) -> duckdb.Error:
    """The same error with the key, should DuckDB quote the statement, blanked out."""
    k = key()
    text = str(exc)
    if k and quote_literal(k) in text:
        return type(exc)(text.replace(quote_literal(k), "'***'"))
    return exc


def attach_sql(path: str | Path, alias: str, read_only: bool = False) -> str:
    """The ATTACH statement for a DuckDB file, with the key when one is set."""
    opts = ["READ_ONLY"] if read_only else []
    if enabled():
        opts.append(f"ENCRYPTION_KEY {quote_literal(key())}")
    tail = f" ({', '.join(opts)})" if opts else ""
    return f"ATTACH {quote_literal(str(path))} AS {quote_ident(alias)}{tail}"


def explain(path: str | Path, exc: duckdb.Error) -> ResolutionError | None:
    """A one-line error for a key that does not fit the file, else None."""
    text = str(exc)
    if "Wrong encryption key" in text:
        return ResolutionError(f"{path}: wrong encryption key ({KEY_ENV} is not the key "
                               "this file was written with)")
    if "without a key" in text:
        return ResolutionError(f"{path} is encrypted: set {KEY_ENV} to its key")
    if "is not encrypted" in text:
        return ResolutionError(
            f"{path} is not encrypted but {KEY_ENV} is set; unset it to use this file "
            "(an existing store is not encrypted in place: see the README, Encryption at rest)"
        )
    return None


def attach(
    con: duckdb.DuckDBPyConnection, path: str | Path, alias: str, read_only: bool = False
) -> None:
    """ATTACH a DuckDB file as `alias` with the key (see `attach_sql`). A key that does
    not fit raises one ResolutionError; other DuckDB errors (a lock) pass through."""
    try:
        con.execute(attach_sql(path, alias, read_only))
    except duckdb.Error as exc:
        why = explain(path, exc)
        if why is not None:
            raise why from None
        raise _scrub(exc) from None


def open_file(path: str | Path, read_only: bool = False,
              config: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect(path)` with the key: without one, exactly that; with one, a
    connection to an in-memory database with the file attached and made the default, so
    unqualified names and `current_database()` mean the file.

    DuckDB lets a process attach a file once; `duckdb.connect(path)` shares one instance
    per file within a process, and so does this (a named in-memory instance per file), so
    code that opens the store twice at once behaves the same with and without a key."""
    if not enabled():
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config or {})
        except duckdb.Error as exc:
            why = explain(path, exc)
            if why is not None:
                raise why from None
            raise
    tag = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:12]
    alias = f"db_{tag}"
    con = connect(config) if config else prepare(duckdb.connect(f":memory:er_{tag}"))
    try:
        with _open_lock:
            have = con.execute("SELECT readonly FROM duckdb_databases() WHERE database_name = ?",
                               [alias]).fetchall()
            if not have:
                attach(con, path, alias, read_only)
            elif have[0][0] and not read_only:
                raise ResolutionError(f"{path} is open read-only in this process; close it first")
        con.execute(f"USE {quote_ident(alias)}")
        return con
    except BaseException:
        con.close()
        raise


_open_lock = threading.Lock()  # two threads opening one file: one ATTACH


# Where a clear copy of input data must exist for a moment (a GBK CSV transcoded to UTF-8
# for DuckDB's reader, a DataFrame written to Parquet for the ingest): with a key set, a
# RAM-backed folder, so the copy never reaches the disk (it can reach swap; encrypt swap
# where that matters), owner-only and removed when read.
MEMORY_DIR = Path("/dev/shm")


def scratch_dir(prefix: str):
    """A `tempfile.TemporaryDirectory` for short-lived clear copies of input data: in
    memory (`MEMORY_DIR`) when a key is set, refused in one line when there is none."""
    import tempfile

    if not enabled():
        return tempfile.TemporaryDirectory(prefix=prefix)
    if not (MEMORY_DIR.is_dir() and os.access(MEMORY_DIR, os.W_OK)):
        raise ResolutionError(
            f"{KEY_ENV} is set and this input needs a short-lived clear copy, which is kept in "
            f"memory ({MEMORY_DIR}), but {MEMORY_DIR} is not a writable folder here; save "
            "the input as UTF-8 CSV, xlsx or Parquet and pass it as a file"
        )
    return tempfile.TemporaryDirectory(prefix=prefix, dir=MEMORY_DIR)
