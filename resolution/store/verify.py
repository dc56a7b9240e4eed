"""The store's invariants (`er store verify`): one membership per record, entities
consistent with the crosswalk and registry, constraints honoured once they must hold,
decisions and rollbacks consistent. Backup restore and rollback check them too before
they change anything."""

from __future__ import annotations

from pathlib import Path

import duckdb

from resolution import crypto
from resolution.db import quote_ident, quote_literal, scalar
from resolution.errors import ResolutionError
from resolution.store.schema import attach_store, has_table
from resolution.survivorship import pin_targets_sql


def verify_connection(con: duckdb.DuckDBPyConnection) -> tuple[list[str], dict]:
    """Check the store's invariants on an open connection; return (breaches, facts).

    Each breach is one line naming the rule and up to five examples. Constraints are
    checked when they must already hold: decided before the latest `er dedup` started
    (a batch run applies every active constraint), or applied at once by the review app
    (its decisions write entity events under the decision ID, or confirm members that are
    already together). CLI decisions made since the latest batch are `pending` facts."""
    breaches: list[str] = []

    def rule(name: str, sql: str, show=lambda r: ", ".join(map(str, r))) -> None:
        found = con.execute(sql).fetchall()
        if found:
            examples = "; ".join(show(r) for r in found[:5])
            more = f" (+{len(found) - 5} more)" if len(found) > 5 else ""
            breaches.append(f"{name}: {len(found)} — {examples}{more}")

    facts: dict = {}
    if not has_table(con, "crosswalk"):
        facts["empty"] = True
        return breaches, facts
    for t in ("records", "crosswalk", "entities", "entity_registry", "constraints", "decisions", "jobs"):
        facts[t] = scalar(con, f"SELECT count(*) FROM {t}") if has_table(con, t) else None
    rule("record in more than one entity",
         "SELECT record_id, count(*) FROM crosswalk GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("crosswalk row with empty record_id or entity_id",
         "SELECT record_id, entity_id FROM crosswalk WHERE record_id IS NULL OR entity_id IS NULL")
    rule("crosswalk record missing from records",
         "SELECT record_id FROM crosswalk WHERE record_id NOT IN (SELECT record_id FROM records) ORDER BY 1")
    rule("record missing from crosswalk",
         "SELECT record_id FROM records WHERE record_id NOT IN (SELECT record_id FROM crosswalk "
         "WHERE record_id IS NOT NULL) ORDER BY 1")
    rule("record duplicated in records",
         "SELECT record_id, count(*) FROM records GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("entity without members",
         "SELECT entity_id FROM entities WHERE entity_id NOT IN (SELECT entity_id FROM crosswalk "
         "WHERE entity_id IS NOT NULL) ORDER BY 1")
    rule("entity duplicated in entities",
         "SELECT entity_id, count(*) FROM entities GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("entity record_count differs from its crosswalk members",
         """SELECT e.entity_id, e.record_count, count(x.record_id) FROM entities e
            JOIN crosswalk x USING (entity_id) GROUP BY e.entity_id, e.record_count
            HAVING e.record_count <> count(x.record_id) ORDER BY 1""",
         lambda r: f"{r[0]} says {r[1]}, has {r[2]}")
    rule("crosswalk entity missing from entities",
         "SELECT DISTINCT entity_id FROM crosswalk WHERE entity_id NOT IN "
         "(SELECT entity_id FROM entities) ORDER BY 1")
    rule("live entity missing from entity_registry",
         "SELECT DISTINCT entity_id FROM crosswalk WHERE entity_id NOT IN "
         "(SELECT entity_id FROM entity_registry) ORDER BY 1")
    rule("live entity marked retired in entity_registry",
         "SELECT DISTINCT x.entity_id, r.retired_job FROM crosswalk x JOIN entity_registry r "
         "USING (entity_id) WHERE r.retired_at IS NOT NULL ORDER BY 1")
    # The latest batch still in force: a rolled-back job no longer applies its constraints.
    last_batch = scalar(
        con,
        "SELECT max(started_at) FROM jobs WHERE kind = 'dedup' AND job_id NOT IN "
        "(SELECT json_extract_string(summary, '$.rolls_back') FROM jobs WHERE kind = 'rollback')",
    )
    due = (
        "(d.decided_at < TIMESTAMP {t} OR d.action = 'confirm' OR d.decision_id IN "
        "(SELECT job_id FROM entity_events))"
    ).format(t=quote_literal(str(last_batch or "1970-01-01")))
    base = (
        """FROM constraints k LEFT JOIN decisions d USING (decision_id)
           JOIN crosswalk a ON a.record_id = k.record_id_l
           JOIN crosswalk b ON b.record_id = k.record_id_r
           WHERE k.active AND {kind} AND {cond}"""
    )
    rule("must-link not honoured (records in different entities)",
         "SELECT k.record_id_l, k.record_id_r, k.decision_id "
         + base.format(kind="k.kind = 'must_link'", cond=f"a.entity_id <> b.entity_id AND {due}") + " ORDER BY 1, 2",
         lambda r: f"{r[0]}~{r[1]} ({r[2]})")
    rule("cannot-link not honoured (records in one entity)",
         "SELECT k.record_id_l, k.record_id_r, k.decision_id "
         + base.format(kind="k.kind = 'cannot_link'", cond=f"a.entity_id = b.entity_id AND {due}") + " ORDER BY 1, 2",
         lambda r: f"{r[0]}~{r[1]} ({r[2]})")
    facts["pending_constraints"] = scalar(
        con,
        "SELECT count(*) " + base.format(
            kind="k.kind IN ('must_link', 'cannot_link')",
            cond=f"NOT {due} AND ((k.kind = 'must_link') = (a.entity_id <> b.entity_id))",
        ),
    )
    rule("active constraint without its decision",
         "SELECT k.record_id_l, k.record_id_r, k.decision_id FROM constraints k WHERE k.active "
         "AND k.decision_id NOT IN (SELECT decision_id FROM decisions) ORDER BY 1, 2")
    rule("decision undone by an unknown decision",
         "SELECT d.decision_id, d.undone_by FROM decisions d WHERE d.undone_by IS NOT NULL "
         "AND d.undone_by NOT IN (SELECT decision_id FROM decisions) ORDER BY 1")
    rule("decision undone by a decision that is not an undo",
         "SELECT d.decision_id, d.undone_by, u.action FROM decisions d JOIN decisions u "
         "ON u.decision_id = d.undone_by WHERE u.action <> 'undo' ORDER BY 1")
    rule("decision undone before it was made",
         "SELECT d.decision_id, d.undone_by FROM decisions d JOIN decisions u "
         "ON u.decision_id = d.undone_by WHERE u.decided_at < d.decided_at ORDER BY 1")
    rule("undo decision that undid two decisions",
         "SELECT undone_by, count(*) FROM decisions WHERE undone_by IS NOT NULL "
         "GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("undone decision still has active constraints",
         "SELECT k.decision_id, k.record_id_l, k.record_id_r FROM constraints k "
         "JOIN decisions d USING (decision_id) WHERE k.active AND d.undone_by IS NOT NULL ORDER BY 1")
    rule("job rolled back more than once",
         "SELECT json_extract_string(summary, '$.rolls_back'), count(*) FROM jobs "
         "WHERE kind = 'rollback' GROUP BY 1 HAVING count(*) > 1 ORDER BY 1")
    rule("rollback of a job that is not in jobs",
         "SELECT job_id, json_extract_string(summary, '$.rolls_back') FROM jobs WHERE kind = 'rollback' "
         "AND json_extract_string(summary, '$.rolls_back') NOT IN (SELECT job_id FROM jobs) ORDER BY 1")
    rule("pair with more than one active constraint",
         "SELECT record_id_l, record_id_r, count(*) FROM constraints WHERE active "
         "GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2")
    if has_table(con, "golden_pins"):
        _pins(con, rule, facts)
    return breaches, facts


def _pins(con: duckdb.DuckDBPyConnection, rule, facts: dict) -> None:
    """Steward pins (survivorship.apply_pins): each pin in force is its entity's golden
    value with lineage `steward`, and a value credited to a steward has a pin in force."""
    facts["pins"] = scalar(con, "SELECT count(*) FROM golden_pins WHERE active")
    rule("active pin without its pin decision",
         "SELECT pin_id FROM golden_pins WHERE active AND pin_id NOT IN "
         "(SELECT decision_id FROM decisions WHERE action = 'pin') ORDER BY 1")
    golden = {r[0] for r in con.execute("DESCRIBE entities").fetchall()}
    rule("active pin on a field the golden records lack",
         "SELECT pin_id, field FROM golden_pins WHERE active AND NOT list_contains(["
         + ", ".join(quote_literal(c) for c in sorted(golden)) + "]::VARCHAR[], field) ORDER BY 1")
    lineage = [r[0] for r in con.execute(
        "SELECT unnest(struct_keys(lineage)) FROM (SELECT lineage FROM entities LIMIT 1)"
    ).fetchall()]
    targets = pin_targets_sql("crosswalk", "golden_pins")
    for f in sorted(set(lineage) & golden):
        col = quote_ident(f)
        rule(f"pinned value missing from the golden record ({f})",
             f"""SELECT t.entity_id, t.pin_id FROM ({targets}) t JOIN entities e USING (entity_id)
                 WHERE t.field = {quote_literal(f)} AND (CAST(e.{col} AS VARCHAR)
                       IS DISTINCT FROM t.value OR e.lineage.{col}.rule IS DISTINCT FROM 'steward')
                 ORDER BY 1""")
        rule(f"golden value credited to a steward without a pin in force ({f})",
             f"""SELECT e.entity_id FROM entities e WHERE e.lineage.{col}.rule = 'steward'
                 AND e.entity_id NOT IN (SELECT entity_id FROM ({targets}) t
                                          WHERE t.field = {quote_literal(f)}) ORDER BY 1""")


def verify_store(path: str | Path) -> tuple[list[str], dict]:
    """`verify_connection` on the store file, opened read-only (waits for a writer)."""
    p = Path(path)
    if not p.exists():
        raise ResolutionError(f"store not found: {p}")
    con = crypto.connect()
    try:
        attach_store(con, p, alias="vs", read_only=True)
        con.execute("USE vs")
        return verify_connection(con)
    finally:
        con.close()
