"""What the review pages read from the store.

- `queue`: entities awaiting review, most important first (the job's `priority`: the
  chance the entity is wrong times its records; then lowest confidence, most records,
  most source systems) or sorted by a column, each with its `kind` (possible false or
  missed merge) and, for a missed merge, the other entity, with filters, a text search
  over the member records (name, phone, USCC, ID card, record ID; raw and standardized
  values), the steward holding each (claims), the likely duplicate of an entity queued
  as a possible unmerged duplicate, and the counts of what is left; `queue_order` is
  the same view's order as a whole (for "save & next").
- `entity`: the golden record with each field's lineage, the member records side by side
  (values that differ from the golden record marked), the uncertain pairs explained by
  the model the job scored with, near misses in other entities, the history.
- `explain_pair`: Splink's per-comparison match weights for one pair (the waterfall):
  the comparison level each pair of values reached (stored `gamma_*` columns when the
  job kept them, else evaluated from the records with the model's own SQL conditions),
  weight log2(m/u) for that level, the prior, and what is left of the stored match weight
  (term-frequency adjustments, calibration).
- `audit`: decisions with filters, for the page and the CSV export.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from resolution.db import quote_ident, scalar
from resolution.review.actions import (
    CLAIM_ACTIONS,
    entity_version,
    entity_versions,
    last_undoable,
    near_misses,
    pairs_touching,
    pins_on,
)
from resolution.review.actions import preview as actions_preview
from resolution.review.i18n import REASONS
from resolution.review.mask import mask_row, mask_text, mask_value

# The member-record columns shown side by side: (field, raw column, column to compare).
MEMBER_FIELDS = [
    ("customer_name", "customer_name", "name_std"),
    ("customer_type", "customer_type", "name_kind"),
    ("uscc", "uscc", "uscc_key"),
    ("id_card", "id_card", "id_card_key"),
    ("contact_name", "contact_name", "contact_std"),
    ("mobile", "mobile", "mobile_key"),
    ("phone", "phone", "phone_key"),
    ("email", "email", "email_key"),
    ("province", "province", "province_std"),
    ("city", "city", "city_std"),
    ("district", "district", "district_std"),
    ("address", "address", "address_std"),
    ("updated_at", "updated_at", "updated_at_ts"),
]
PAGE_SIZE = 50


def _dicts(cur) -> list[dict[str, Any]]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def _compute(key, compute, lasts: str = "write"):
    """`memo` for a caller that keeps nothing: compute each time."""
    return compute()


def _columns(con: duckdb.DuckDBPyConnection, table: str, memo: Callable = _compute) -> set[str]:
    """A job table's columns (they change only with a job: kept until then by `memo`)."""
    return memo(("columns", table),
                lambda: {r[0] for r in con.execute(f"DESCRIBE {quote_ident(table)}").fetchall()},
                lasts="job")


def _reason_sql(key: str) -> str:
    return f"reason LIKE '%{REASONS[key][0]}%'"


@dataclass(frozen=True)
class QueueView:
    """What the steward asked the queue for: filters, a text search, a claim filter and a
    sort (a column of `SORTS`, ascending unless `desc`; none keeps the default order)."""

    reason: str | None = None
    source: str | None = None
    conf_min: float | None = None
    conf_max: float | None = None
    search: str = ""
    claim: str | None = None  # "mine" | "unclaimed"
    sort: str | None = None
    desc: bool = False


# The default order: the highest priority first (cluster.build_review_queue; a queue
# written before it had none comes last), then the least confident, the biggest, the most
# sources.
DEFAULT_ORDER = ("q.priority DESC NULLS LAST, q.cluster_confidence, q.record_count DESC, "
                 "len(e.source_systems) DESC, q.entity_id")
# Columns the queue sorts by (the default order breaks ties, so paging is stable).
SORTS = {
    "priority": "q.priority", "kind": "q.kind", "confidence": "q.cluster_confidence", "name": "e.customer_name",
    "records": "q.record_count", "sources": "len(e.source_systems)", "reason": "q.reason",
    "entity": "q.entity_id", "holder": "c.who",
}
CLAIM_FILTERS = ("mine", "unclaimed")
# What a search matches in the member records, in this order of preference for the
# "matched" column: (field shown, raw column, standardized column).
SEARCH_FIELDS = [
    ("record_id", "record_id", None), ("uscc", "uscc", "uscc_key"),
    ("id_card", "id_card", "id_card_key"), ("mobile", "mobile", "mobile_key"),
    ("phone", "phone", "phone_key"), ("customer_name", "customer_name", "name_std"),
]


def _search_conditions(con: duckdb.DuckDBPyConnection, text: str) -> tuple[list, dict]:
    """(field, value SQL, condition SQL) on a member record `r` for what was typed: a
    record ID (prefix), a name (part of the raw or standardized name), a USCC or ID card
    (standardized as the job does, or part of the raw value), a phone (the job's E.164
    key, so spaces, dashes and +86 do not matter, or a run of its digits)."""
    from resolution.standardize.identifiers import parse_id_card, parse_uscc
    from resolution.standardize.phone import parse_phone

    have = {r[0] for r in con.execute("DESCRIBE records").fetchall()}
    low = text.lower()
    digits = re.sub(r"\D", "", text)
    if re.match(r"\s*(\+|00)?86", text) and len(digits) > 11:
        digits = re.sub(r"^(00)?86", "", digits)  # the country code, typed
    params: dict[str, Any] = {"s_low": low}
    keyed = {
        "uscc": parse_uscc(text).std, "id_card": parse_id_card(text).std,
        "mobile": parse_phone(text).e164 if len(digits) >= 5 else None,
    }
    keyed["phone"] = keyed["mobile"]
    conds = []
    for name, raw, std in SEARCH_FIELDS:
        if raw not in have:
            continue
        r_raw = f"r.{quote_ident(raw)}"
        if name == "record_id":
            cond = f"starts_with(lower({r_raw}), $s_low)"
        elif name == "customer_name":
            cond = f"contains(lower({r_raw}), $s_low)"
            if std and std in have:
                cond += f" OR contains(lower(r.{quote_ident(std)}), $s_low)"
        else:
            cond = f"contains(lower({r_raw}), $s_low)"
            if keyed.get(name):
                # the match key, and the standardized value kept when it is invalid
                for col in (c for c in (std, f"{raw}_std") if c and c in have):
                    params[f"k_{name}"] = keyed[name]
                    cond += f" OR r.{quote_ident(col)} = $k_{name}"
            if name in ("mobile", "phone") and std and std in have and len(digits) >= 5:
                params["s_digits"] = digits
                cond += f" OR contains(regexp_replace(r.{quote_ident(std)}, '\\D', '', 'g'), $s_digits)"
        conds.append((name, r_raw, f"({cond})"))
    return conds, params


def _queue_where(con, view: QueueView, who: str | None) -> tuple[str, dict, list]:
    where: list[str] = ["true"]
    params: dict[str, Any] = {}
    if view.reason in REASONS:
        where.append(_reason_sql(view.reason))
    if view.source:
        where.append("list_contains(e.source_systems, $source)")
        params["source"] = view.source
    if view.conf_min is not None:
        where.append("q.cluster_confidence >= $cmin")
        params["cmin"] = view.conf_min
    if view.conf_max is not None:
        where.append("q.cluster_confidence <= $cmax")
        params["cmax"] = view.conf_max
    if view.claim == "mine":
        where.append("c.who = $who")
        params["who"] = who
    elif view.claim == "unclaimed":
        where.append("c.who IS NULL")
    conds: list = []
    text = (view.search or "").strip()
    if text:
        conds, more = _search_conditions(con, text)
        params |= more
        any_record = " OR ".join(c for _, _, c in conds) or "false"
        where.append(
            f"""(starts_with(lower(q.entity_id), $s_low) OR contains(lower(e.customer_name), $s_low)
                 OR q.entity_id IN (SELECT x.entity_id FROM crosswalk x
                                    JOIN records r USING (record_id) WHERE {any_record}))"""
        )
    return " AND ".join(where), params, conds


def _order(view: QueueView) -> str:
    if view.sort not in SORTS:
        return DEFAULT_ORDER
    return f"{SORTS[view.sort]} {'DESC' if view.desc else 'ASC'} NULLS LAST, {DEFAULT_ORDER}"


# (the other entity's name is read for the page's rows only: joining it here built a hash
# table of every entity, ~0.1 s a queue page at 185k records)
_QUEUE_FROM = """FROM review_queue q JOIN entities e USING (entity_id)
                 LEFT JOIN claims c USING (entity_id)"""


def queue_order(con: duckdb.DuckDBPyConnection, view: QueueView, who: str | None) -> list[tuple]:
    """Every entity the view shows, in its order: (entity ID, holder)."""
    cond, params, _ = _queue_where(con, view, who)
    return con.execute(
        f"SELECT q.entity_id, c.who {_QUEUE_FROM} WHERE {cond} ORDER BY {_order(view)}", params
    ).fetchall()


def queue(
    con: duckdb.DuckDBPyConnection,
    view: QueueView | None = None,
    page: int = 1,
    who: str | None = None,
    masked: bool = True,
    versions: bool = False,
    memo: Callable = _compute,
) -> dict[str, Any]:
    """One page of the queue as `view` asks for it, for user `who` (the claim filter
    "mine"); `versions` adds each row's entity version (for the bulk confirm form);
    `memo` keeps what only a job changes (`StoreAccess.memo`)."""
    view = view or QueueView()
    cond, params, conds = _queue_where(con, view, who)
    counts = con.execute(
        "SELECT count(*)" + "".join(f", count(*) FILTER (WHERE {_reason_sql(key)})"
                                    for key in REASONS) + " FROM review_queue").fetchall()[0]
    total, by_reason = counts[0], dict(zip(REASONS, counts[1:]))
    shown = total if cond == "true" else con.execute(
        f"SELECT count(*) {_QUEUE_FROM} WHERE {cond}", params).fetchall()[0][0]
    pages = max(1, math.ceil(shown / PAGE_SIZE))
    page = min(max(1, page), pages)  # a page number out of range shows the nearest page
    # the page's entities first, then their columns: reading the names and sources of
    # every queued entity to order them took half the query (~10 ms at 185k records)
    ids = [r[0] for r in con.execute(
        f"""SELECT q.entity_id {_QUEUE_FROM} WHERE {cond} ORDER BY {_order(view)}
            LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}""", params).fetchall()]
    # (the page's IDs drive the joins, so each table is read through its index)
    found = {r["entity_id"]: r for r in _dicts(con.execute(
        """SELECT q.entity_id, e.customer_name, q.record_count, e.source_systems,
                  q.cluster_confidence, q.reason, c.who AS holder, c.claimed_by,
                  q.priority, q.kind, q.wrong_probability, q.other_entity_id
           FROM (SELECT unnest($ids) AS entity_id) i JOIN review_queue q USING (entity_id)
           JOIN entities e USING (entity_id) LEFT JOIN claims c USING (entity_id)""",
        {"ids": ids}))}
    rows = [found[i] for i in ids]
    others = sorted({r["other_entity_id"] for r in rows if r["other_entity_id"]})
    other_names = dict(con.execute(
        "SELECT entity_id, customer_name FROM entities WHERE entity_id IN (SELECT unnest(?))",
        [others]).fetchall()) if others else {}
    dupes = likely_duplicates(con, [r["entity_id"] for r in rows
                                    if REASONS["near"][0] in (r["reason"] or "")], memo)
    matched = _matched(con, ids, conds, params) if conds else {}
    versions_of = entity_versions(con, ids) if versions else {}
    for r in rows:
        r["other_name"] = other_names.get(r["other_entity_id"])
        r["duplicate"] = dupes.get(r["entity_id"])
        m = matched.get(r["entity_id"])
        if m and masked:
            m = {**m, "value": mask_value(m["field"], m["value"])}
        r["matched"] = m
        if versions:
            r["version"] = versions_of[r["entity_id"]]
    by_source = dict(con.execute(
        """SELECT s, count(*) FROM review_queue q JOIN entities e USING (entity_id),
                  unnest(e.source_systems) AS u(s) GROUP BY s ORDER BY s"""
    ).fetchall())
    today = scalar(con, "SELECT count(*) FROM decisions WHERE decided_at >= current_date "
                        "AND NOT list_contains(?, action)", [list(CLAIM_ACTIONS)])
    mine = scalar(con, "SELECT count(*) FROM claims JOIN review_queue USING (entity_id) "
                       "WHERE who = ?", [who]) if who else 0
    return {
        "during_job": decisions_during_last_job(con),
        "rows": rows, "total": total, "shown": shown, "by_reason": by_reason,
        "by_source": by_source, "decisions_today": today, "page": page,
        "pages": pages, "mine": mine,
    }


def _matched(con, ids: list[str], conds: list, params: dict) -> dict[str, dict]:
    """For each of `ids`, the member record field the search matched (the first of
    SEARCH_FIELDS that did): {"field", "value", "record_id"}."""
    if not ids:
        return {}
    field = " ".join(f"WHEN {c} THEN {i}" for i, (_, _, c) in enumerate(conds))
    value = " ".join(f"WHEN {c} THEN CAST({v} AS VARCHAR)" for _, v, c in conds)
    found = con.execute(
        f"""SELECT entity_id, arg_min(struct_pack(f := f, v := v, r := record_id), (f, record_id))
            FROM (SELECT x.entity_id, r.record_id, CASE {field} END AS f, CASE {value} END AS v
                  FROM crosswalk x JOIN records r USING (record_id)
                  WHERE x.entity_id IN (SELECT unnest($ids)))
            WHERE f IS NOT NULL GROUP BY entity_id""",
        {**params, "ids": ids},
    ).fetchall()
    return {eid: {"field": conds[m["f"]][0], "value": m["v"], "record_id": m["r"]}
            for eid, m in found}


# How many records' pairs `pairs_of` keeps (~0.2 KB each) before it starts again.
PAIRS_KEPT = 200_000


def pairs_of(con: duckdb.DuckDBPyConnection, recs: list[str], memo: Callable = _compute
             ) -> list[tuple[str, str, float]]:
    """The scored pairs of `recs` as (one of recs, the other record, probability), a pair
    with both in `recs` once per side. The pairs change only with a job, so `memo` keeps
    each record's (until the next job, `PAIRS_KEPT` records at most) and only the records
    a page has not asked for before are read: after a decision the queue page differs by
    an entity or two, and reading the pairs of all its ~130 records again cost 15-25 ms
    at 185k records."""
    kept: dict = memo(("pairs of records",), dict, lasts="job")  # shared: filled, not changed
    have: dict[str, list | None] = {r: kept.get(r) for r in dict.fromkeys(recs)}
    missing = [r for r, v in have.items() if v is None]
    if missing:
        found: dict[str, list] = {r: [] for r in missing}
        for own, other, prob in con.execute(
            """SELECT record_id_l, record_id_r, match_probability FROM pairs
               WHERE record_id_l IN (SELECT unnest($recs))
               UNION ALL
               SELECT record_id_r, record_id_l, match_probability FROM pairs
               WHERE record_id_r IN (SELECT unnest($recs))""",
            {"recs": missing},
        ).fetchall():
            found[own].append((other, prob))
        if len(kept) + len(found) > PAIRS_KEPT:
            kept.clear()
        kept.update(found)
        have.update(found)
    return [(r, other, prob) for r, pairs in have.items() for other, prob in pairs or []]


def likely_duplicates(con: duckdb.DuckDBPyConnection, entity_ids: list[str],
                      memo: Callable = _compute) -> dict[str, dict]:
    """For entities queued as a possible unmerged duplicate: the pair leaving the entity
    that the model scored highest (not one a steward marked different), with the other
    record's entity: {"record_id", "other_record", "other_entity", "other_name",
    "probability"}."""
    if not entity_ids:
        return {}
    # each step a lookup through the indexes (members, their pairs, the other ends'
    # entities, the steward's cannot-links, the names): joins against the whole
    # crosswalk, constraints and entities tables cost ~0.15 s a queue page at 185k
    member_of = dict(con.execute(
        "SELECT record_id, entity_id FROM crosswalk WHERE entity_id IN (SELECT unnest(?))",
        [entity_ids],
    ).fetchall())
    recs = list(member_of)
    different = {frozenset(k) for k in con.execute(
        """SELECT record_id_l, record_id_r FROM constraints
           WHERE active AND kind = 'cannot_link'
             AND (record_id_l IN (SELECT unnest($r)) OR record_id_r IN (SELECT unnest($r)))""",
        {"r": recs},
    ).fetchall()} if recs else set()
    # of members tied with the same other record, the first by ID: the order below
    # (probability, then the other record descending, then the member ascending)
    ordered = sorted(pairs_of(con, recs, memo), key=lambda t: (-t[2], _desc(t[1]), t[0]))
    # The other end's entity is read only for each entity's strongest candidate (the
    # members' entities are known), then for the next one where that record has none:
    # reading the entities of all ~400 other ends of a page cost ~10 ms at 185k records.
    entity_of: dict[str, str | None] = dict(member_of)
    best: dict[str, tuple] = {}
    while True:
        waiting: dict[str, str] = {}  # entity -> the other record whose entity is asked for
        for member, other, prob in ordered:
            eid = member_of[member]
            if eid in best or eid in waiting or frozenset((member, other)) in different:
                continue
            if other not in entity_of:
                waiting[eid] = other
            elif entity_of[other] not in (None, eid):
                best[eid] = (member, other, entity_of[other], prob)
        if not waiting:
            break
        asked = sorted(set(waiting.values()))
        found = dict(con.execute(
            "SELECT record_id, entity_id FROM crosswalk WHERE record_id IN (SELECT unnest(?))",
            [asked]).fetchall())
        entity_of.update({o: found.get(o) for o in asked})
    names = dict(con.execute(
        "SELECT entity_id, customer_name FROM entities WHERE entity_id IN (SELECT unnest(?))",
        [sorted({b[2] for b in best.values()})],
    ).fetchall()) if best else {}
    return {eid: {"record_id": m, "other_record": o, "other_entity": e,
                  "other_name": names.get(e), "probability": p}
            for eid, (m, o, e, p) in best.items()}


class _desc(str):
    """A string that sorts in descending order (ties after probability: the other record
    by ID descending, as the queue has always shown them)."""

    def __lt__(self, other: str) -> bool:  # type: ignore[override]
        return str.__gt__(self, other)


def decisions_during_last_job(con: duckdb.DuckDBPyConnection) -> dict | None:
    """Decisions taken while the latest job ran: kept as constraints for the next run, but
    the job's commit replaced the entities with what it computed before them."""
    found = con.execute(
        """SELECT j.job_id, count(d.decision_id) FROM
             (SELECT * FROM jobs ORDER BY finished_at DESC LIMIT 1) j
           JOIN decisions d ON d.decided_at >= j.started_at AND d.decided_at <= j.finished_at
                           AND d.action NOT IN ('comment', 'claim', 'release')
           GROUP BY j.job_id"""
    ).fetchall()
    return {"job_id": found[0][0], "n": found[0][1]} if found and found[0][1] else None


def latest_settings(con: duckdb.DuckDBPyConnection) -> dict | None:
    found = scalar(
        con, "SELECT settings FROM jobs WHERE settings IS NOT NULL ORDER BY finished_at DESC LIMIT 1"
    )
    return json.loads(found) if found else None


def _weight(level: dict) -> float:
    m, u = level.get("m_probability"), level.get("u_probability")
    if level.get("is_null_level") or not m or not u:
        return 0.0
    return math.log2(m / u)


def _levels_sql(comparisons: list[dict]) -> list[str]:
    """One CASE per comparison giving the index of the first level whose condition holds."""
    out = []
    for comp in comparisons:
        whens = []
        for i, level in enumerate(comp["comparison_levels"]):
            cond = level["sql_condition"].strip()
            if cond.upper() == "ELSE":
                whens.append(f"ELSE {i}")
                break
            whens.append(f"WHEN {cond} THEN {i}")
        if not whens[-1].startswith("ELSE"):
            whens.append("ELSE NULL")
        out.append(f"CASE {' '.join(whens)} END")
    return out


def _compared_column(comp: dict, have: set[str]) -> str | None:
    """The first record column a comparison's conditions read (shown beside its level)."""
    for level in comp["comparison_levels"]:
        for col in re.findall(r'"?([A-Za-z_]\w*)_l"?', level["sql_condition"]):
            if col in have:
                return col
    return None


def explain_plan(con: duckdb.DuckDBPyConnection, settings: dict) -> dict:
    """What `explain_pairs` needs that depends only on the model and the store's columns
    (the same for every page until a job: kept with `StoreAccess.memo`)."""
    comparisons = settings.get("comparisons", [])
    lam = settings.get("probability_two_random_records_match") or 1e-4
    prior = math.log2(lam / (1 - lam))
    pair_cols = {r[0] for r in con.execute("DESCRIBE pairs").fetchall()}
    rec_cols = [r[0] for r in con.execute("DESCRIBE records").fetchall()]
    # only the columns the conditions compare (`name_core_l`, "city_r"): the records have
    # ~60 columns, and reading them all for the page's pairs was most of the query
    named = {m for c in comparisons for lv in c["comparison_levels"]
             for pattern in (r"(\w+)_[lr]\b", r'"?([A-Za-z_]\w*)_l"?')
             for m in re.findall(pattern, lv["sql_condition"])}
    used = [c for c in rec_cols if c in named or c == "record_id"]
    shown = [_compared_column(c, set(used)) for c in comparisons]
    # a comparison's level comes from the pair's stored gamma_* when the job kept it (it
    # always does now); its SQL, evaluated again here, was a third of an entity page's time
    # at 185k records (the party conditions, character overlaps), so only a comparison
    # without its gamma column is evaluated, and only the columns shown or evaluated read
    kept = [f"gamma_{c['output_column_name']}" in pair_cols for c in comparisons]
    evaluated = {m for c, have in zip(comparisons, kept) if not have
                 for lv in c["comparison_levels"]
                 for pattern in (r"(\w+)_[lr]\b", r'"?([A-Za-z_]\w*)_l"?')
                 for m in re.findall(pattern, lv["sql_condition"])}
    read = [c for c in used if c == "record_id" or c in evaluated or c in shown]
    side = ", ".join(
        f"l.{quote_ident(c)} AS {quote_ident(c + '_l')}, r.{quote_ident(c)} AS {quote_ident(c + '_r')}"
        for c in read
    )
    levels = [case if not have else "NULL"
              for case, have in zip(_levels_sql(comparisons), kept)]
    value_sql = "".join(
        f", {quote_ident(c + '_l')}, {quote_ident(c + '_r')}" if c else ", NULL, NULL"
        for c in shown
    )
    return {"comparisons": comparisons, "prior": prior, "pair_cols": pair_cols,
            "shown": shown, "side": side, "levels": levels, "value_sql": value_sql}


def explain_pairs(
    con: duckdb.DuckDBPyConnection, settings: dict | None, pairs: list[dict],
    masked: bool = False, plan: dict | None = None,
) -> list[dict]:
    """Add `steps` (the waterfall) to each pair dict (record_id_l, record_id_r,
    match_weight, match_probability); `plan` is `explain_plan(con, settings)` when the
    caller kept it."""
    if not settings or not pairs:
        return pairs
    plan = plan or explain_plan(con, settings)
    comparisons, prior, pair_cols = plan["comparisons"], plan["prior"], plan["pair_cols"]
    shown, side, levels, value_sql = plan["shown"], plan["side"], plan["levels"], plan["value_sql"]
    n = len(comparisons)
    found: dict[int, list] = {}
    if all(level == "NULL" for level in levels):
        # every level is stored (gamma_*): only the values shown are read, the records of
        # all the page's pairs at once through the records' index (joining the records to
        # the pairs, as below, cost ~10-20 ms a page at 185k records)
        columns = sorted({c for c in shown if c})
        ids = sorted({p["record_id_l"] for p in pairs} | {p["record_id_r"] for p in pairs})
        values_of = {row[0]: dict(zip(columns, row[1:])) for row in con.execute(
            f"SELECT record_id{''.join(', ' + quote_ident(c) for c in columns)} FROM records "
            "WHERE record_id IN (SELECT unnest($ids))", {"ids": ids}).fetchall()}
        for i, p in enumerate(pairs):
            left, right = values_of.get(p["record_id_l"]), values_of.get(p["record_id_r"])
            if left is not None and right is not None:
                found[i] = [None] * n + [v for c in shown
                                         for v in ((left[c], right[c]) if c else (None, None))]
        return _steps(pairs, found, comparisons, shown, pair_cols, prior, masked)
    # one query for all the page's pairs (a query per pair scanned `records` each time)
    try:
        for row in con.execute(
            f"""SELECT __i, {', '.join(levels)}{value_sql} FROM (
                    SELECT p.i AS __i, {side}
                    FROM (SELECT unnest($ls) AS l, unnest($rs) AS r,
                                 unnest(range(len($ls))) AS i) p
                    JOIN (SELECT * FROM records WHERE record_id IN (SELECT unnest($ls))) l
                      ON l.record_id = p.l
                    JOIN (SELECT * FROM records WHERE record_id IN (SELECT unnest($rs))) r
                      ON r.record_id = p.r)""",
            {"ls": [p["record_id_l"] for p in pairs], "rs": [p["record_id_r"] for p in pairs]},
        ).fetchall():
            found[row[0]] = list(row[1:])
    except duckdb.Error:
        found = {}
    return _steps(pairs, found, comparisons, shown, pair_cols, prior, masked)


def _steps(pairs: list[dict], found: dict[int, list], comparisons: list[dict],
           shown: list, pair_cols: set, prior: float, masked: bool) -> list[dict]:
    """The waterfall of each pair from its levels and values as read (`found`: per pair,
    the level index of each comparison, then the left and right value shown of each)."""
    n = len(comparisons)
    for k_pair, p in enumerate(pairs):
        row = found.get(k_pair) or [None] * (3 * n)
        idx, vals = row[:n], row[n:]
        steps = []
        for k, (comp, i) in enumerate(zip(comparisons, idx)):
            name = comp["output_column_name"]
            gamma_col = f"gamma_{name}"
            if gamma_col in pair_cols and p.get(gamma_col) is not None:
                i = _gamma_to_index(comp, p[gamma_col])
            if i is None:
                continue
            level = comp["comparison_levels"][i]
            values = None
            if shown[k]:
                values = [vals[2 * k], vals[2 * k + 1]]
                if masked:
                    values = [mask_value(shown[k], v) for v in values]
            steps.append({
                "comparison": name, "label": level.get("label_for_charts", ""),
                "weight": _weight(level), "null": bool(level.get("is_null_level")),
                "compared": values,
            })
        total = prior + sum(s["weight"] for s in steps)
        p["prior"] = prior
        p["steps"] = steps
        stored = p.get("match_weight")
        p["other"] = (stored - total) if stored is not None else 0.0
        p["max_abs"] = max([abs(prior)] + [abs(s["weight"]) for s in steps] + [abs(p["other"])])
    return pairs


def _gamma_to_index(comp: dict, gamma: int) -> int | None:
    """Splink numbers a comparison's levels: the null level -1, the others from n-1 down
    to 0 in order."""
    levels = comp["comparison_levels"]
    if gamma == -1:
        return next((i for i, lv in enumerate(levels) if lv.get("is_null_level")), None)
    non_null = [i for i, lv in enumerate(levels) if not lv.get("is_null_level")]
    pos = len(non_null) - 1 - int(gamma)
    return non_null[pos] if 0 <= pos < len(non_null) else None


def _settings_and_plan(con: duckdb.DuckDBPyConnection) -> tuple[dict | None, dict | None]:
    settings = latest_settings(con)
    return settings, explain_plan(con, settings) if settings else None


def entity(con: duckdb.DuckDBPyConnection, entity_id: str, masked: bool,
           memo: Callable = _compute) -> dict | None:
    """One entity's page; `memo(key, compute)` keeps what is the same for every entity
    (`StoreAccess.memo`)."""
    found = _dicts(con.execute("SELECT * FROM entities WHERE entity_id = ?", [entity_id]))
    if not found:
        return None
    golden = found[0]
    lineage = golden.pop("lineage") or {}
    meta = {k: golden.pop(k) for k in ("entity_id", "record_count", "source_systems",
                                       "cluster_confidence", "needs_review")}
    fields = [
        {"field": f, "value": v, "from": (lineage.get(f) or {})}
        for f, v in golden.items()
    ]
    member_fields, member_rows, varying = side_by_side(
        con, [r[0] for r in con.execute(
            "SELECT record_id FROM crosswalk WHERE entity_id = ?", [entity_id]).fetchall()],
        golden, _columns(con, "records", memo))
    queue_row = _dicts(con.execute("SELECT * FROM review_queue WHERE entity_id = ?", [entity_id]))
    # Pairs touching the members first (their indexes), then the entities of their other
    # ends; joining all pairs with the whole crosswalk cost ~0.4 s at 185k. One read of
    # the pairs serves both lists below.
    ids = [m["record_id"] for m in member_rows]
    mine = set(ids)
    touching = pairs_touching(con, ids)
    # the weakest six inside the entity (`pairs_touching` says why filtered here; such a
    # pair comes once per side)
    inside = sorted(
        {(p["record_id_l"], p["record_id_r"]): p for p in touching
         if p["record_id_l"] in mine and p["record_id_r"] in mine}.values(),
        key=lambda p: (p["match_probability"] is None, p["match_probability"] or 0,
                       p["record_id_l"], p["record_id_r"]))[:6]
    # the possible duplicates a confirm cannot-links (with the pairs to the entity the
    # queue says this one probably belongs with, at any probability: `queued_other`, read
    # from the entity's queue row), the strongest five
    other = (queue_row[0].get("other_entity_id") if queue_row else None)
    near = near_misses(con, ids, [other] if other and other != entity_id else [], limit=5,
                       touching=touching)
    names = dict(con.execute(
        "SELECT entity_id, customer_name FROM entities WHERE entity_id IN (SELECT unnest($e))",
        {"e": sorted({p["other_entity"] for p in near})},
    ).fetchall()) if near else {}
    for p in near:
        p["other_name"] = names.get(p["other_entity"])
    # the entity's own version and those of the near misses' entities in one query
    versions = entity_versions(con, [entity_id, *sorted({p["other_entity"] for p in near})])
    for p in near:
        p["other_version"] = versions[p["other_entity"]]
    # the model and what explaining with it takes change only with a job
    settings, plan = memo(("explain",), lambda: _settings_and_plan(con), lasts="job")
    explain_pairs(con, settings, inside + near, masked, plan)  # the records of both in one read
    if masked:
        golden_fields = []
        for f in fields:
            golden_fields.append({**f, "value": mask_row({f["field"]: f["value"]})[f["field"]]})
        fields = golden_fields
        member_rows = [mask_row(m) for m in member_rows]
    events = history(con, entity_id, [m["record_id"] for m in member_rows])
    if masked:  # a steward's comment may quote a customer's mobile or ID card
        for h in events:
            h["comment"] = mask_text(h["comment"])
    return {
        **meta,
        "golden": {f["field"]: f["value"] for f in fields},
        "fields": fields,
        "members": member_rows,
        "member_fields": member_fields,
        "varying": varying,
        "inside_pairs": inside,
        "near": near,
        "queue": queue_row[0] if queue_row else None,
        "history": events,
        "version": versions[entity_id],
        "undoable": last_undoable(con, entity_id),
        "pins": [{**pin, "reason": mask_text(pin["reason"]) if masked else pin["reason"]}
                 for pin in pins_on(con, entity_id, ids)],
        "pinnable": [f["field"] for f in fields if not isinstance(f["value"], list)],
    }


def side_by_side(con: duckdb.DuckDBPyConnection, record_ids: list[str], golden: dict,
                 have: set[str] | None = None) -> tuple[list[str], list[dict], set[str]]:
    """The member-record columns shown, the records (values that differ from `golden`
    marked in `_diff`, values the standardizer derived in `_derived`) and the fields
    whose values vary among them; `have` is the records' columns when the caller kept them."""
    have = have or _columns(con, "records")
    shown = [(f, raw, cmp) for f, raw, cmp in MEMBER_FIELDS if raw in have]
    cols = ", ".join(
        f"r.{quote_ident(raw)} AS {quote_ident(f)}, "
        f"r.{quote_ident(cmp if cmp in have else raw)} AS {quote_ident('_cmp_' + f)}"
        for f, raw, cmp in shown
    )
    member_rows = _dicts(con.execute(
        f"""SELECT r.record_id, r.source_system, c.membership_confidence,
                   {cols}{', r.quality_score' if 'quality_score' in have else ''}
            FROM crosswalk c JOIN records r USING (record_id)
            WHERE r.record_id IN (SELECT unnest($r)) AND c.record_id IN (SELECT unnest($r))
            ORDER BY r.source_system, r.record_id""",
        {"r": record_ids},
    ))
    golden_cmp = {f: golden.get(f) for f, _, _ in shown}
    for m in member_rows:
        m["_diff"], m["_derived"] = {}, {}
        for f, _, _ in shown:
            mine, gold = m.pop("_cmp_" + f), golden_cmp.get(f)
            m["_diff"][f] = mine is not None and gold is not None and str(mine) != str(gold)
            if m.get(f) is None and mine is not None:
                # the record left the field empty and the standardizer read it from another
                # (a province from the address): show that, marked, since lineage may credit
                # the golden value to this record
                m[f], m["_derived"][f] = mine, True
    varying = {
        f for f, _, _ in shown
        if len({str(m.get(f)) for m in member_rows if m.get(f) is not None}) > 1
    }
    return [f for f, _, _ in shown], member_rows, varying


def preview(con: duckdb.DuckDBPyConnection, cfg, kind: str, entity_id: str, target: str,
            record_id: str | None) -> dict:
    """A merge or move before it is made (`actions.preview`), for the preview page: the
    resulting golden record with lineage, the target's records beside the joining ones,
    the model's evidence for the pairs between them, and the versions of both entities
    as shown (the confirm form carries them)."""
    pv = actions_preview(con, cfg, kind, entity_id, target, record_id)
    golden = dict(pv["golden"])
    lineage = golden.pop("lineage", None) or {}
    for k in ("entity_id", "record_count", "source_systems", "cluster_confidence",
              "needs_review"):
        golden.pop(k, None)
    fields = [{"field": f, "value": v, "from": lineage.get(f) or {}} for f, v in golden.items()]
    member_fields, rows, varying = side_by_side(con, pv["joining"] + pv["staying"], golden)
    joining = set(pv["joining"])
    rows.sort(key=lambda m: (m["record_id"] not in joining, m["source_system"], m["record_id"]))
    for m in rows:
        m["_joining"] = m["record_id"] in joining
    pairs = _dicts(con.execute(
        """SELECT * FROM pairs
           WHERE (list_contains($j, record_id_l) AND list_contains($s, record_id_r))
              OR (list_contains($s, record_id_l) AND list_contains($j, record_id_r))
           ORDER BY match_probability DESC, record_id_l, record_id_r LIMIT 5""",
        {"j": pv["joining"], "s": pv["staying"]},
    ))
    explain_pairs(con, latest_settings(con), pairs)
    names = dict(con.execute(
        "SELECT entity_id, customer_name FROM entities WHERE entity_id IN (SELECT unnest(?))",
        [[entity_id, target]]).fetchall())
    return {
        **pv, "fields": fields, "golden": golden, "members": rows,
        "member_fields": member_fields, "varying": varying, "pairs": pairs,
        "entity_id": entity_id, "target": target, "record_id": record_id, "names": names,
        "version": entity_version(con, entity_id), "target_version": entity_version(con, target),
    }


def history(con: duckdb.DuckDBPyConnection, entity_id: str, record_ids: list[str]) -> list[dict]:
    """Entity events and steward decisions about this entity or its records, newest first."""
    # the entity's own events, then those naming it as related, in the table's order: the
    # two conditions joined with OR kept DuckDB from skipping the row groups whose
    # entity IDs cannot match (~5 ms an entity page at 185k records, most of its history)
    events = _dicts(con.execute(
        """SELECT happened_at AS at_time, 'event' AS kind, event AS what, job_id AS ref,
                  NULL AS who, related_entity_ids AS related, record_ids, NULL AS comment,
                  NULL AS undone_by
           FROM (SELECT rowid AS _row, * FROM entity_events WHERE entity_id = $e
                 UNION ALL
                 SELECT rowid AS _row, * FROM entity_events
                 WHERE list_contains(related_entity_ids, $e) AND entity_id IS DISTINCT FROM $e)
           ORDER BY _row""",
        {"e": entity_id},
    ))
    decisions = _dicts(con.execute(
        """SELECT decided_at AS at_time, 'decision' AS kind, action AS what,
                  decision_id AS ref, who, [entity_id, target_entity_id] AS related, record_ids,
                  comment, undone_by
           FROM decisions
           WHERE entity_id = $e OR target_entity_id = $e
              OR len(list_intersect(record_ids, $r)) > 0""",
        {"e": entity_id, "r": record_ids},
    ))
    return sorted(events + decisions, key=lambda h: (h["at_time"], h["ref"]), reverse=True)


def search_entities(con: duckdb.DuckDBPyConnection, q: str, exclude: str | None) -> list[dict]:
    """Entities by ID or record ID prefix or a part of the golden name, with versions."""
    q = (q or "").strip()
    if not q:
        return []
    found = _dicts(con.execute(
        """SELECT e.entity_id, e.customer_name, e.record_count, e.source_systems, e.city
           FROM entities e
           WHERE e.entity_id <> coalesce($x, '')
             AND (e.entity_id ILIKE $p OR e.customer_name ILIKE $c
                  OR e.entity_id IN (SELECT entity_id FROM crosswalk WHERE record_id ILIKE $p))
           ORDER BY (e.customer_name = $q) DESC, e.record_count DESC, e.entity_id LIMIT 20""",
        {"x": exclude, "p": q + "%", "c": f"%{q}%", "q": q},
    ))
    for f in found:
        f["version"] = entity_version(con, f["entity_id"])
    return found


AUDIT_COLUMNS = ["decision_id", "decided_at", "who", "action", "record_ids", "entity_id",
                 "target_entity_id", "comment", "undone_by", "before", "after"]


AUDIT_PAGE = 200


def audit(
    con: duckdb.DuckDBPyConnection,
    filters: dict[str, str | None] | None = None,
    limit: int | None = AUDIT_PAGE,
    offset: int = 0,
) -> list[dict]:
    """Decisions matching the filters (who, action, entity_id, date_from, date_to), newest
    first; `limit` rows from `offset`."""
    where, params = _audit_where(**(filters or {}))
    lim = f"LIMIT {int(limit)} OFFSET {int(offset)}" if limit else ""
    return _dicts(con.execute(
        f"SELECT {', '.join(AUDIT_COLUMNS)} FROM decisions WHERE {where} "
        f"ORDER BY decided_at DESC, decision_id DESC {lim}",
        params,
    ))


def audit_count(con: duckdb.DuckDBPyConnection, filters: dict[str, str | None]) -> int:
    where, params = _audit_where(**filters)
    return con.execute(f"SELECT count(*) FROM decisions WHERE {where}", params).fetchall()[0][0]


def _audit_where(who: str | None = None, action: str | None = None,
                 entity_id: str | None = None, date_from: str | None = None,
                 date_to: str | None = None) -> tuple[str, dict]:
    where, params = ["true"], {}
    if who:
        where.append("who = $who")
        params["who"] = who
    if action:
        where.append("action = $action")
        params["action"] = action
    if entity_id:
        where.append("(entity_id = $e OR target_entity_id = $e)")
        params["e"] = entity_id
    if date_from:
        where.append("decided_at >= CAST($df AS DATE)")
        params["df"] = date_from
    if date_to:
        where.append("decided_at < CAST($dt AS DATE) + INTERVAL 1 DAY")
        params["dt"] = date_to
    return " AND ".join(where), params
