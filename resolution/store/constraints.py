"""Steward decisions from the CLI and their export as training labels.

Steward constraints (must-link, cannot-link; a move is stored as both) live in
`constraints`, each with its `decisions` row, and always win over the model on the next
run (see resolution/cluster.py). `export_labels` writes the pairs they decide as the
labels `er train --labels-pairs` reads.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import duckdb

from resolution.db import scalar, transaction
from resolution.errors import ResolutionError
from resolution.store.schema import connect_store


def add_constraint(
    store_path: str | Path,
    kind: str,
    record_a: str,
    record_b: str,
    who: str = "cli",
    comment: str | None = None,
) -> str:
    """Record a steward decision that two records are (must_link) or are not
    (cannot_link) the same customer. The latest decision on a pair wins."""
    if kind not in ("must_link", "cannot_link"):
        raise ResolutionError(f"unknown constraint kind '{kind}'; use must_link or cannot_link")
    if record_a == record_b:
        raise ResolutionError("a constraint needs two different record IDs")
    con = connect_store(store_path)
    try:
        _require_records(con, [record_a, record_b])
        decision_id = f"D{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        a, b = sorted((record_a, record_b))
        with transaction(con):
            con.execute(
                "UPDATE constraints SET active = false WHERE record_id_l = ? AND record_id_r = ? AND active",
                [a, b],
            )
            con.execute("INSERT INTO constraints VALUES (?, ?, ?, ?, true)", [a, b, kind, decision_id])
            con.execute(
                "INSERT INTO decisions VALUES (?, now(), ?, ?, ?, NULL, NULL, NULL, NULL, ?, NULL)",
                [decision_id, who, kind, [a, b], comment],
            )
        return decision_id
    finally:
        con.close()


def move_record(
    store_path: str | Path, record_id: str, target_entity: str, who: str = "cli",
    comment: str | None = None,
) -> str:
    """Record that `record_id` belongs to `target_entity`: must-link it to the target's
    members and cannot-link it to the other members of its current entity."""
    con = connect_store(store_path)
    try:
        _require_records(con, [record_id])
        current = scalar(con, "SELECT entity_id FROM crosswalk WHERE record_id = ?", [record_id])
        target = [r[0] for r in con.execute(
            "SELECT record_id FROM crosswalk WHERE entity_id = ? AND record_id <> ?",
            [target_entity, record_id]).fetchall()]
        if not target:
            raise ResolutionError(f"entity {target_entity} not found in the store (or has no other records)")
        mates = [r[0] for r in con.execute(
            "SELECT record_id FROM crosswalk WHERE entity_id = ? AND record_id <> ?",
            [current, record_id]).fetchall()]
        decision_id = f"D{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        with transaction(con):
            for other, kind in [(t, "must_link") for t in target] + [(m, "cannot_link") for m in mates]:
                a, b = sorted((record_id, other))
                con.execute(
                    "UPDATE constraints SET active = false WHERE record_id_l = ? AND record_id_r = ? AND active",
                    [a, b],
                )
                con.execute("INSERT INTO constraints VALUES (?, ?, ?, ?, true)", [a, b, kind, decision_id])
            con.execute(
                "INSERT INTO decisions VALUES (?, now(), ?, 'move', ?, ?, ?, ?, ?, ?, NULL)",
                [decision_id, who, [record_id], current, target_entity,
                 json.dumps({"entity_id": current}), json.dumps({"entity_id": target_entity}), comment],
            )
        return decision_id
    finally:
        con.close()


def _require_records(con: duckdb.DuckDBPyConnection, record_ids: list[str]) -> None:
    has = scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'crosswalk'")
    if not has:
        raise ResolutionError("the store has no entities yet; run `er dedup` first")
    for rid in record_ids:
        if not scalar(con, "SELECT count(*) FROM crosswalk WHERE record_id = ?", [rid]):
            raise ResolutionError(f"record {rid} is not in the store")


def labelled_pairs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """Steward decisions as labelled pairs: each pair's active constraint (the latest
    decision on it; undone decisions are inactive), must_link = 1, cannot_link = 0."""
    return [
        (a, b, int(m))
        for a, b, m in con.execute(
            """SELECT least(record_id_l, record_id_r) AS l, greatest(record_id_l, record_id_r) AS r,
                      arg_max(kind = 'must_link', d.decided_at) AS is_match
               FROM constraints k LEFT JOIN decisions d USING (decision_id)
               WHERE k.active GROUP BY 1, 2 ORDER BY 1, 2"""
        ).fetchall()
    ]


def export_labels(store_path: str | Path, out: str | Path) -> int:
    """Write `labelled_pairs` as CSV (record_id_l,record_id_r,is_match), the format
    `er train --labels-pairs` reads; return the number of pairs."""
    import csv

    con = connect_store(store_path)
    try:
        pairs = labelled_pairs(con)
    finally:
        con.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["record_id_l", "record_id_r", "is_match"])
        w.writerows(pairs)
    return len(pairs)
