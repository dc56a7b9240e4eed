"""Rollback (`er store rollback JOB_ID`): undo one job's changes from its undo log
(resolution/store/undo.py), and mark the job's output folder as rolled back.

`rollback_job` puts back exactly what one job changed: current rows minus the job's
added rows plus its removed rows, so steward decisions on entities the job did not
touch stay as they are. It refuses, naming what blocks it, when
- a later job that writes the store (dedup, match) is still in force: roll that back first;
- rows the job wrote were changed since (a steward's decision in the review app on an
  entity the job merged, split or re-survived): undo that decision first;
- the job was already rolled back, is itself a rollback, or predates rollback records.
Constraints and decisions are never touched: CLI decisions made since stay active and
apply on the next run. The rollback is one transaction that also writes the entity
events of the change (merge, split, create, retire, ... under the rollback's job ID),
a `jobs` row (kind `rollback`, summary.rolls_back = JOB_ID) and is checked with
`verify_connection` before it commits.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb

from resolution.db import insert_rows, scalar, transaction
from resolution.errors import ResolutionError
from resolution.locks import job_locks
from resolution.store import undo
from resolution.store.commit import _events
from resolution.store.schema import (
    connect_store,
    ensure_indexes,
    fingerprint,
    has_table,
    table_columns,
)
from resolution.store.undo import undo_name
from resolution.store.verify import verify_connection


@dataclass
class RollbackResult:
    job_id: str
    kind: str
    rollback_id: str | None  # None on a dry run
    tables: dict[str, tuple[int, int]]  # table -> (rows put back, rows taken out)
    events: dict[str, int]
    kept_decisions: int  # steward decisions made since the job, kept
    breaches: list[str]
    output_mark: str | None = None  # what became of the job's output folder (`_mark_outputs`)


def _job_row(con: duckdb.DuckDBPyConnection, job_id: str) -> dict | None:
    cur = con.execute("SELECT * FROM jobs WHERE job_id = ?", [job_id])
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return dict(zip(cols, rows[0])) if rows else None


def _rolled_back_by(con: duckdb.DuckDBPyConnection, job_id: str) -> tuple | None:
    found = con.execute(
        "SELECT job_id, finished_at FROM jobs WHERE kind = 'rollback' "
        "AND json_extract_string(summary, '$.rolls_back') = ?", [job_id]
    ).fetchall()
    return found[0] if found else None


def _blocking_decision(
    con: duckdb.DuckDBPyConnection, since, entity_ids: list[str] | None
) -> tuple | None:
    """The latest steward decision in force made since `since` on one of `entity_ids`
    (or, when none names them, the latest one that changed entities at all; with
    `entity_ids` None, when the changed rows are not known, the latest one at all)."""
    base = ("SELECT decision_id, action, who, decided_at FROM decisions WHERE decided_at >= ? "
            "AND undone_by IS NULL AND action NOT IN ('comment', 'claim', 'release') ")
    order = "ORDER BY decided_at DESC, decision_id DESC LIMIT 1"
    if entity_ids is None:
        found = con.execute(base + order, [since]).fetchall()
        return found[0] if found else None
    on = ("AND (list_has_any(?, [entity_id, target_entity_id]) OR list_has_any(?, "
          "json_extract_string(after, '$.membership.*')) OR list_has_any(?, "
          "json_extract_string(before, '$.membership.*'))) ")
    found = con.execute(base + on + order, [since, entity_ids, entity_ids, entity_ids]).fetchall()
    if not found:
        found = con.execute(
            base + "AND decision_id IN (SELECT job_id FROM entity_events) " + order, [since]
        ).fetchall()
    return found[0] if found else None


def rollback_job(
    store_path: str | Path, job_id: str, dry_run: bool = False, lock_wait: float = 0.0
) -> RollbackResult:
    """Undo one job's changes to the store (see the module docstring). A rollback is a
    job of its own: it waits up to `lock_wait` seconds for a running job on the store."""
    p = Path(store_path)
    if not p.exists():
        raise ResolutionError(f"store not found: {p}")
    with ExitStack() as stack:
        if not dry_run:
            stack.enter_context(job_locks(f"rollback of {job_id}", "rollback", store=p,
                                          wait=lock_wait))
        con = connect_store(p)
        try:
            result = _rollback(con, job_id, dry_run)
            job = None if dry_run else _job_row(con, job_id)
        finally:
            con.close()
        if job is not None:  # after the commit: the store is the truth, the folder a courtesy
            result.output_mark = _mark_outputs(job, result.rollback_id, p)
    return result


def _mark_outputs(job: dict, rollback_id: str, store: Path) -> str | None:
    """Mark a rolled-back job's output folder: `ROLLED_BACK.json` (job, time, rollback
    job, store) beside its outputs and the same under `rolled_back` in its summary.json,
    each written whole and renamed into place. The folder is found through OUT/summary.json
    (in the run folder OUT/current points to, or a plain file of an older version); a
    folder moved, removed or showing a later job is named and left alone, never an error
    (a later job in OUT replaces the marked run anyway). None for a job without an output
    folder (`er match`)."""
    try:
        out_dir = json.loads(job["summary"] or "{}").get("out_dir")
    except (TypeError, ValueError):
        out_dir = None
    if not out_dir:
        return None
    where = f"output folder {out_dir}"
    try:
        summary_file = (Path(out_dir) / "summary.json").resolve(strict=True)
        shown = json.loads(summary_file.read_text("utf-8"))
    except (OSError, RuntimeError, ValueError):
        return f"{where} not marked: not found (moved or removed)"
    if not isinstance(shown, dict) or shown.get("job_id") != job["job_id"]:
        other = shown.get("job_id") if isinstance(shown, dict) else None
        return f"{where} not marked: it now shows job {other}, not {job['job_id']}"
    mark = {"job_id": job["job_id"], "rolled_back_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rollback_job_id": rollback_id, "store": str(store.resolve())}
    flag = summary_file.with_name("ROLLED_BACK.json")
    try:
        _write_json_whole(flag, mark)
        _write_json_whole(summary_file, {**shown, "rolled_back": mark})
    except OSError as exc:
        return f"{where} not marked: {exc.strerror or exc} ({exc.filename or summary_file.parent})"
    return f"{where} marked as rolled back ({flag.name}, summary.json rolled_back)"


def _write_json_whole(path: Path, data: dict) -> None:
    """Write beside `path` and rename over it: a reader sees the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
        os.chmod(tmp, 0o600)  # job outputs hold personal data: owner only
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _rollback(con: duckdb.DuckDBPyConnection, job_id: str, dry_run: bool) -> RollbackResult:
    job = _job_row(con, job_id)
    if job is None:
        latest = con.execute(
            "SELECT job_id || ' (' || kind || ')' FROM jobs ORDER BY finished_at DESC, job_id DESC "
            "LIMIT 3").fetchall()
        hint = ", ".join(r[0] for r in latest) or "none"
        raise ResolutionError(f"no job {job_id} in the store; its latest jobs are: {hint}")
    if job["kind"] == "rollback":
        raise ResolutionError(
            f"job {job_id} is itself a rollback (of {json.loads(job['summary'])['rolls_back']}) "
            "and cannot be rolled back; run that job again instead")
    done = _rolled_back_by(con, job_id)
    if done:
        raise ResolutionError(f"job {job_id} was already rolled back by {done[0]} at {done[1]}; "
                              "nothing to do")
    log = con.execute(
        "SELECT table_name, mode, seq, added, added_hash FROM undo_log WHERE job_id = ? "
        "ORDER BY table_name", [job_id]
    ).fetchall()
    written = {r[0]: (r[3], r[4]) for r in log}  # rows the job wrote, and their hash
    if not log:
        raise ResolutionError(
            f"job {job_id} has no rollback record (they are kept for the latest {undo.UNDO_KEEP} "
            "jobs, and jobs of older versions left none); restore a backup taken before it "
            "instead (`er store restore`)")
    seq = log[0][2]
    later = con.execute(
        "SELECT DISTINCT u.job_id, j.kind, j.finished_at FROM undo_log u JOIN jobs j USING (job_id) "
        "WHERE u.seq > ? AND u.job_id NOT IN (SELECT json_extract_string(summary, '$.rolls_back') "
        "FROM jobs WHERE kind = 'rollback') ORDER BY j.finished_at DESC, u.job_id DESC",
        [seq],
    ).fetchall()
    if later:
        k = later[0]
        raise ResolutionError(
            f"job {k[0]} ({k[1]}, finished {k[2]}) changed the store after job {job_id}; "
            f"roll back {k[0]} first (`er store rollback {k[0]}`), then {job_id}")

    # Every row the job added must still be there as the job wrote it.
    db = scalar(con, "SELECT current_database()")
    changed: dict[str, int] = {}
    for t, mode, *_ in log:
        add = undo_name(job_id, t, "added")
        n_added, added_hash = written[t]
        if added_hash is not None:  # created or replaced whole: compare the fingerprint
            if not has_table(con, t) or fingerprint(con, t) != (n_added, added_hash):
                changed[t] = -1  # which rows changed is not known: any decision since blocks
            continue
        if table_columns(con, db, "main", t) != table_columns(con, db, "undo", f"{job_id}__{t}__added"):
            changed[t] = -1
            continue
        gone = scalar(con, f"SELECT count(*) FROM (SELECT * FROM {add} EXCEPT ALL SELECT * FROM {t})")
        extra = 0
        if mode != "diff":
            extra = scalar(con, f"SELECT count(*) FROM (SELECT * FROM {t} EXCEPT ALL SELECT * FROM {add})")
        if gone or extra:
            changed[t] = gone + extra
    if changed:
        ents: set[str] = set()
        for t, n in changed.items():
            if n > 0 and "entity_id" in {c for c, _ in table_columns(con, db, "main", t)}:
                ents |= {r[0] for r in con.execute(
                    f"SELECT DISTINCT entity_id FROM (SELECT * FROM {undo_name(job_id, t, 'added')} "
                    f"EXCEPT ALL SELECT * FROM {t})").fetchall()}
        unknown = any(n < 0 and written[t][1] is not None for t, n in changed.items())
        d = _blocking_decision(con, job["finished_at"], None if unknown else sorted(ents))
        tables = ", ".join(sorted(changed))
        if d:
            raise ResolutionError(
                f"steward decision {d[0]} ({d[1]} by {d[2]} at {d[3]}) changed what job {job_id} "
                f"wrote ({tables}); undo it in the review app first (and any later decision on "
                "those entities), then roll back")
        raise ResolutionError(
            f"{tables} changed since job {job_id} outside any recorded decision; "
            "restore a backup taken before it instead (`er store restore`)")

    kept = scalar(con, "SELECT count(*) FROM decisions WHERE decided_at >= ? AND undone_by IS NULL",
                  [job["finished_at"]])
    rollback_id = "R" + time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    has_xw = bool(table_columns(con, db, "main", "crosswalk"))
    try:
        with transaction(con, commit=not dry_run):  # a dry run rolls back
            con.execute("CREATE OR REPLACE TEMP TABLE _old AS SELECT record_id, entity_id FROM "
                        + ("crosswalk" if has_xw else "(SELECT NULL::VARCHAR AS record_id, "
                           "NULL::VARCHAR AS entity_id WHERE false)"))
            tables: dict[str, tuple[int, int]] = {}
            for t, mode, *_ in log:
                rem, add = undo_name(job_id, t, "removed"), undo_name(job_id, t, "added")
                n_add = written[t][0]
                if mode == "diff":
                    n_rem = scalar(con, f"SELECT count(*) FROM {rem}")
                    con.execute(f'CREATE OR REPLACE TEMP TABLE "_rb_{t}" AS (SELECT * FROM {t} EXCEPT ALL '
                                f"SELECT * FROM {add}) UNION ALL SELECT * FROM {rem}")
                    con.execute(f"DELETE FROM {t}")
                    con.execute(f'INSERT INTO {t} SELECT * FROM temp."_rb_{t}"')
                    con.execute(f'DROP TABLE temp."_rb_{t}"')
                elif mode == "replace":
                    n_rem = scalar(con, f"SELECT count(*) FROM {rem}")
                    con.execute(f"DROP TABLE {t}")
                    con.execute(f"CREATE TABLE {t} AS SELECT * FROM {rem}")
                else:
                    n_rem = 0
                    con.execute(f"DROP TABLE {t}")
                tables[t] = (n_rem, n_add)
            ensure_indexes(con)
            # the rollback's own entity events: the store's diff of membership before and after
            con.execute("CREATE OR REPLACE TEMP TABLE clusters AS SELECT record_id, entity_id FROM "
                        + ("crosswalk" if table_columns(con, db, "main", "crosswalk") else "_old WHERE false"))
            revived = {r[0] for r in con.execute(
                "SELECT DISTINCT entity_id FROM clusters WHERE entity_id NOT IN "
                "(SELECT entity_id FROM _old)").fetchall()}
            events = _events(con, revived)
            if events:
                insert_rows(con, "entity_events",
                            ["event_id", "job_id", "happened_at", "event", "entity_id",
                             "related_entity_ids", "record_ids"],
                            [(f"{rollback_id}-{i + 1}", rollback_id, None, e, eid, rel, recs)
                             for i, (e, eid, rel, recs) in enumerate(events)])
                con.execute("UPDATE entity_events SET happened_at = now() WHERE job_id = ?", [rollback_id])
            counts = defaultdict(int)
            for e in events:
                counts[e[0]] += 1
            prev = con.execute(
                "SELECT j.job_id, j.model, j.settings FROM jobs j WHERE j.kind IN ('dedup', 'match') "
                "AND j.job_id <> ? AND j.finished_at <= ? AND j.job_id NOT IN "
                "(SELECT json_extract_string(summary, '$.rolls_back') FROM jobs WHERE kind = 'rollback') "
                "ORDER BY j.finished_at DESC, j.job_id DESC LIMIT 1",
                [job_id, job["finished_at"]],
            ).fetchall()
            n_rec = scalar(con, "SELECT count(*) FROM crosswalk") if has_table(con, "crosswalk") else 0
            n_ent = scalar(con, "SELECT count(*) FROM entities") if has_table(con, "entities") else 0
            summary = {"rolls_back": job_id, "rolled_back_kind": job["kind"],
                       "tables": {t: {"put_back": a, "taken_out": b} for t, (a, b) in tables.items()},
                       "events": dict(counts), "kept_decisions": kept,
                       "in_force": prev[0][0] if prev else None}
            con.execute(
                "INSERT INTO jobs (job_id, kind, started_at, finished_at, model, inputs, records, "
                "entities, summary, settings) VALUES (?, 'rollback', now(), now(), ?, ?, ?, ?, ?, ?)",
                [rollback_id, prev[0][1] if prev else None, json.dumps([job_id]), n_rec, n_ent,
                 json.dumps(summary, ensure_ascii=False), prev[0][2] if prev else None],
            )
            if prev:  # the review app recomputes golden records with the job now in force
                con.execute("INSERT INTO job_configs SELECT ?, config FROM job_configs WHERE job_id = ?",
                            [rollback_id, prev[0][0]])
            breaches, _facts = verify_connection(con)
            if breaches and not dry_run:
                raise ResolutionError(
                    f"rolling back {job_id} would break the store's invariants, nothing changed: "
                    + " | ".join(breaches))
            if not dry_run:
                for t, *_ in log:
                    for part in ("removed", "added"):
                        con.execute(f"DROP TABLE IF EXISTS {undo_name(job_id, t, part)}")
    finally:
        con.execute("DROP TABLE IF EXISTS temp._old; DROP TABLE IF EXISTS temp.clusters")
    return RollbackResult(job_id, job["kind"], None if dry_run else rollback_id, tables,
                          dict(counts), kept, breaches)
