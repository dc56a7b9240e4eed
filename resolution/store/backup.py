"""Backup and restore (`er store backup|restore`): a consistent, encrypted copy with a
manifest of row counts, content hashes and the file's SHA-256; a restore checks the copy
against the manifest and the store's invariants before it replaces the store in one
step, keeping the replaced file."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path

import duckdb

from resolution import crypto
from resolution.db import scalar
from resolution.errors import ResolutionError
from resolution.locks import job_locks
from resolution.store.schema import attach_store, connect_store, fingerprint
from resolution.store.verify import verify_connection


def _snapshot_facts(con: duckdb.DuckDBPyConnection, hashes: bool = False) -> dict:
    """Row counts per table and the jobs; with `hashes`, each table's order-independent
    content hash too (`fingerprint`, kept as text: JSON readers lose big integers)."""
    counts, content = {}, {}
    for (sch, t) in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() ORDER BY 1, 2"
    ).fetchall():
        key = t if sch == "main" else f"{sch}.{t}"  # rollback records live in schema `undo`
        if hashes:
            counts[key], h = fingerprint(con, f'"{sch}"."{t}"')
            content[key] = str(h)
        else:
            counts[key] = scalar(con, f'SELECT count(*) FROM "{sch}"."{t}"')
    jobs = []
    if "jobs" in counts:
        jobs = [
            {"job_id": j, "kind": k, "finished_at": str(f) if f else None}
            for j, k, f in con.execute(
                "SELECT job_id, kind, finished_at FROM jobs ORDER BY finished_at, job_id"
            ).fetchall()
        ]
    return {"counts": counts, **({"hashes": content} if hashes else {}), "jobs": jobs}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def backup_store(store_path: str | Path, to_dir: str | Path) -> dict:
    """Copy the store into `to_dir/store.duckdb` with a `manifest.json`: time, jobs, row
    counts and content hash per table, the file's SHA-256 and the DuckDB version (table
    hashes are DuckDB's `hash()`, comparable within one version only).

    The store is attached read-only for the whole copy (DuckDB then refuses writers, and
    `attach_store` waits for a running writer to finish), so the copy is one consistent
    snapshot even while a job or the review app runs. The copy is written beside its
    final name and moved into place last."""
    crypto.require()  # before the backup folder is made
    src = Path(store_path)
    if not src.exists():
        raise ResolutionError(f"store not found: {src}")
    out = Path(to_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResolutionError(f"cannot back up into {out}: {exc.strerror or exc} "
                              f"({exc.filename or out})")
    dest = out / "store.duckdb"
    if dest.exists():
        raise ResolutionError(f"{dest} already exists; back up into an empty folder")
    tmp = out / f".store-{uuid.uuid4().hex[:8]}.duckdb"
    con = crypto.connect()  # a backup is encrypted with the store's key
    try:
        attach_store(con, src, alias="src", read_only=True)
        try:
            crypto.attach(con, tmp, "bk")
        except duckdb.IOException as exc:  # a read-only folder, no space
            raise ResolutionError(f"cannot back up into {out}: {str(exc).splitlines()[0][:160]}")
        con.execute("COPY FROM DATABASE src TO bk")
        con.execute("USE src")
        facts = _snapshot_facts(con, hashes=True)
        con.execute("USE memory")
        con.execute("DETACH src")
        con.execute("DETACH bk")
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    check = crypto.open_file(tmp, read_only=True)
    try:
        copied = _snapshot_facts(check, hashes=True)
    finally:
        check.close()
    if (copied["counts"], copied["hashes"]) != (facts["counts"], facts["hashes"]):
        tmp.unlink(missing_ok=True)
        raise ResolutionError(f"backup of {src} does not match the store's content; nothing written")
    os.chmod(tmp, 0o600)
    digest = _sha256(tmp)  # after the last connection: the bytes restore will check
    os.replace(tmp, dest)
    manifest = {
        "store": str(src.resolve()),
        "backed_up_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "file": dest.name,
        "sha256": digest,
        "duckdb_version": duckdb.__version__,
        **facts,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    os.chmod(out / "manifest.json", 0o600)
    return manifest


def restore_store(from_dir: str | Path, store_path: str | Path, lock_wait: float = 0.0) -> dict:
    """`_restore_store` while holding the store's job lock: a job running on the store
    would otherwise commit into the restored file a change computed against the old one."""
    with job_locks("restore", "restore", store=store_path, wait=lock_wait):
        return _restore_store(from_dir, store_path)


def _restore_store(from_dir: str | Path, store_path: str | Path) -> dict:
    """Bring a backup back: copy it beside the store, check the copy (`_check_backup`:
    manifest checksums, then `verify_connection`), then `os.replace` it over the store in
    one step. The replaced file is kept as `STORE.replaced-<time>`. A refused backup
    leaves the store untouched and no copy behind. Returns the jobs and counts before
    and after, and warnings (what could not be checked)."""
    import shutil

    crypto.require()
    src_dir = Path(from_dir)
    manifest_path = src_dir / "manifest.json"
    backup = src_dir / "store.duckdb"
    if not manifest_path.exists() or not backup.exists():
        raise ResolutionError(f"{src_dir} is not a backup (needs manifest.json and store.duckdb)")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ResolutionError(f"{manifest_path} is unreadable: {exc}")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("counts"), dict):
        raise ResolutionError(f"{manifest_path} is not a backup manifest (no table counts)")
    store = Path(store_path)
    tmp = store.with_name(f".{store.name}.restore-{uuid.uuid4().hex[:8]}")
    before = None
    kept = None
    try:
        try:
            store.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(backup, tmp)
            os.chmod(tmp, 0o600)
        except OSError as exc:
            raise ResolutionError(f"cannot restore into {store}: {exc.strerror or exc} "
                                  f"({exc.filename or store.parent}); the store is untouched")
        # the copy is what replaces the store, so the copy is what is checked
        after, warnings = _check_backup(tmp, backup, manifest)
        if store.exists():
            # Wait for writers, fold the WAL into the file, so no stale WAL outlives it.
            con = connect_store(store)
            try:
                con.execute("CHECKPOINT")
                before = _snapshot_facts(con)
            finally:
                con.close()
            kept = store.with_name(f"{store.name}.replaced-{time.strftime('%Y%m%dT%H%M%S')}")
            if kept.exists():  # a second restore within the same second
                kept = kept.with_name(f"{kept.name}-{uuid.uuid4().hex[:4]}")
        wal = store.with_name(store.name + ".wal")
        if wal.exists():
            raise ResolutionError(f"{wal} exists after a checkpoint; stop the process using the store")
        linked = False
        try:
            if kept:
                os.link(store, kept)
                linked = True
            os.replace(tmp, store)
        except OSError as exc:
            if linked:
                kept.unlink(missing_ok=True)
            raise ResolutionError(f"cannot restore into {store}: {exc.strerror or exc} "
                                  f"({exc.filename or store}); the store is untouched")
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # its folder is not a folder: nothing was written
            pass
    return {"before": before, "after": after, "kept": str(kept) if kept else None,
            "backed_up_at": manifest.get("backed_up_at"), "warnings": warnings}


def _check_backup(copy: Path, backup: Path, manifest: dict) -> tuple[dict, list[str]]:
    """Check a copy of `backup` against its manifest, then the store's invariants on it.

    Refused (one line naming what differs): a table whose row count or content hash
    differs, a file whose SHA-256 differs, a breach of `verify_connection` (which also
    catches a manifest re-written to match edited content). A manifest of a version
    before checksums is checked by its counts only, and one from another DuckDB version
    without the table hashes (DuckDB's `hash()` may change between versions); both say
    so in the returned warnings."""
    warnings: list[str] = []
    refused = f"backup {backup} does not match its manifest"
    untouched = "not restored, the store is untouched"
    digest = _sha256(copy)
    compare_hashes = "hashes" in manifest
    if compare_hashes and manifest.get("duckdb_version") != duckdb.__version__:
        compare_hashes = False
        warnings.append(
            f"the backup's table hashes were made with DuckDB {manifest.get('duckdb_version')} "
            f"and this is {duckdb.__version__}: checked by its file checksum, row counts and "
            "`er store verify` only")
    if "sha256" not in manifest:
        warnings.append(
            f"backup {backup} was made by an older version and has no checksums: checked by "
            "its row counts and `er store verify` only")
    try:
        con = crypto.open_file(copy, read_only=True)
    except duckdb.Error as exc:
        raise ResolutionError(f"backup {backup} cannot be opened "
                              f"({str(exc).splitlines()[0][:120]}); {untouched}")
    try:
        facts = _snapshot_facts(con, hashes=compare_hashes)
        counts, want = facts["counts"], manifest["counts"]
        differ = [f"{t} (manifest {want.get(t, 'none')}, file {counts.get(t, 'none')})"
                  for t in sorted(set(counts) | set(want)) if counts.get(t) != want.get(t)]
        if differ:
            raise ResolutionError(f"{refused}: row counts of {', '.join(differ[:5])} differ; {untouched}")
        if compare_hashes:
            differ = [t for t in sorted(counts) if facts["hashes"][t] != manifest["hashes"].get(t)]
            if differ:
                raise ResolutionError(
                    f"{refused}: the content of {', '.join(differ[:5])} differs (same row "
                    f"counts, other rows); {untouched}")
        if "sha256" in manifest and digest != manifest["sha256"]:
            raise ResolutionError(
                f"{refused}: the file's SHA-256 differs ({digest[:12]}…, manifest "
                f"{str(manifest['sha256'])[:12]}…) though its tables match; {untouched}")
        breaches, _ = verify_connection(con)
    finally:
        con.close()
    if breaches:
        raise ResolutionError(
            f"backup {backup} breaks the store's invariants ({len(breaches)} breach(es), the "
            f"first: {breaches[0]}); {untouched}; see `er store verify --store {backup}`")
    facts.pop("hashes", None)
    return facts, warnings
