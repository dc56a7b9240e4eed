"""Steward decisions from the CLI and their export as training labels.

Steward constraints (must-link, cannot-link; a move is stored as both) live in
`constraints`, each with its `decisions` row, and always win over the model on the next
run (see resolution/cluster.py). `export_labels` writes the pairs they decide as the
labels `er train --labels-pairs` reads; `store_labels` gives the same pairs with the
decision each comes from and the labels that contradict each other, for
`er train --labels-from-store`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
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
    return [(a, b, m) for a, b, m, _ in _labelled_pairs_by_source(con)]


def _labelled_pairs_by_source(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, str]]:
    """`labelled_pairs` with the action of the decision each label comes from (`label`,
    `confirm`, `split`, `merge`, `move`, `different`, `must_link`, ...)."""
    return [
        (a, b, int(m), src or "unknown")
        for a, b, m, src in con.execute(
            """SELECT least(record_id_l, record_id_r) AS l, greatest(record_id_l, record_id_r) AS r,
                      arg_max(kind = 'must_link', d.decided_at) AS is_match,
                      arg_max(d.action, d.decided_at) AS source
               FROM constraints k LEFT JOIN decisions d USING (decision_id)
               WHERE k.active GROUP BY 1, 2 ORDER BY 1, 2"""
        ).fetchall()
    ]


@dataclass(frozen=True)
class StoreLabels:
    """Every label in a store, as `er train --labels-from-store` reads them.

    `pairs`: (record_id_l, record_id_r, is_match, source), the same pairs as
    `labelled_pairs` (each pair's latest active decision) with the decision's action.
    `contradictions`: labels that disagree, each a dict with `kind` and a `message`:
    - `pair`: one pair labelled a match by one decision and a non-match by another
      (neither undone; the latest is the one used);
    - `chain`: a non-match pair whose records a chain of match labels joins, so the
      labels cannot all hold (all are used: each is what a steward said of its pair).
    """

    pairs: list[tuple[str, str, int, str]]
    contradictions: list[dict]


def _pair_contradictions(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Pairs with both a must-link and a cannot-link from decisions not undone."""
    rows = con.execute(
        """WITH k AS (
               SELECT least(record_id_l, record_id_r) AS l, greatest(record_id_l, record_id_r) AS r,
                      kind, active, k.decision_id, d.action, d.who, d.decided_at
               FROM constraints k LEFT JOIN decisions d USING (decision_id)
               WHERE d.undone_by IS NULL)
           SELECT l, r,
                  list(struct_pack(kind, active, decision_id, action, who, decided_at)
                       ORDER BY decided_at, decision_id) AS said
           FROM k GROUP BY l, r
           HAVING count(DISTINCT kind) > 1 ORDER BY l, r"""
    ).fetchall()
    out = []
    for a, b, said in rows:
        used = next((s for s in reversed(said) if s["active"]), said[-1])
        what = "; ".join(
            f"{'match' if s['kind'] == 'must_link' else 'non-match'} by {s['action'] or '?'} "
            f"{s['decision_id']} ({s['who'] or '?'})" for s in said)
        out.append({
            "kind": "pair", "record_ids": [a, b],
            "decisions": [s["decision_id"] for s in said],
            "used": 1 if used["kind"] == "must_link" else 0,
            "message": f"labels contradict on pair {a} ~ {b}: {what}; training uses the "
                       f"latest ({'match' if used['kind'] == 'must_link' else 'non-match'})",
        })
    return out


def _chain_contradictions(pairs: list[tuple[str, str, int, str]]) -> list[dict]:
    """Non-match labels between records that match labels chain together."""
    from collections import deque

    links: dict[str, list[str]] = {}
    for a, b, m, _ in pairs:
        if m == 1:
            links.setdefault(a, []).append(b)
            links.setdefault(b, []).append(a)
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for a, nbrs in links.items():
        for b in nbrs:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[ra] = rb
    out = []
    for a, b, m, src in pairs:
        if m != 0 or a not in links or b not in links or root(a) != root(b):
            continue
        # the shortest chain of match labels from a to b, to name in the report
        prev: dict[str, str | None] = {a: None}
        todo = deque([a])
        while todo and b not in prev:
            x = todo.popleft()
            for y in links[x]:
                if y not in prev:
                    prev[y] = x
                    todo.append(y)
        chain = [b]
        while prev[chain[-1]] is not None:
            chain.append(prev[chain[-1]])  # type: ignore[arg-type]
        chain.reverse()
        out.append({
            "kind": "chain", "record_ids": [a, b], "chain": chain, "source": src,
            "message": f"labels contradict: {a} ~ {b} is a non-match ({src}) but match labels "
                       f"chain them: {' = '.join(chain)}",
        })
    return out


def store_labels(store_path: str | Path) -> StoreLabels:
    """Every label in the store (`StoreLabels`): what `export_labels` writes, with each
    label's source and the labels that contradict each other. Reads the store only."""
    if not Path(store_path).is_file():
        raise ResolutionError(f"store not found: {store_path}")
    con = connect_store(store_path, read_only=True)
    try:
        has = scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'constraints'")
        if not has:
            raise ResolutionError(f"{store_path} is not an entity store (no constraints table)")
        pairs = _labelled_pairs_by_source(con)
        contradictions = _pair_contradictions(con) + _chain_contradictions(pairs)
    finally:
        con.close()
    return StoreLabels(pairs, contradictions)


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
