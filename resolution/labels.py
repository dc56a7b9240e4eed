"""Active learning on the store: which record pairs a steward should label next
(`er label next`), and recording the answers (`er label add`).

Asking reads only the store (the latest job's scored `pairs` and its match threshold),
never fits a model, so it lives with the runtime and the review app can ask the same
questions; fitting with the answers is `training`'s job.

Which pairs are asked (`ask`, which `next_pairs` writes as CSV and the review app's label
page shows one at a time):
- uncertain ones: a pair's distance to the match threshold in bits (its log2 odds minus
  the threshold's), and only pairs within `SURE_BITS` of it; the model is sure of the
  others, so their labels would teach it little;
- diverse ones: pairs with the same comparison pattern (the levels of the `gamma_*`
  columns) have the same Fellegi-Sunter evidence, so one label speaks for them all. The
  pairs are taken round by round: in each round the most uncertain unasked pair of every
  pattern, patterns in order of that pair's distance (then the more pairs a pattern
  has, the earlier); the next round takes each pattern's second pair, and so on. A
  pattern's pairs labelled already count as its rounds done, so after a label the
  patterns nobody has labelled come first;
- new ones: a pair a steward already decided (an active constraint) or answered
  "unsure" to is not asked again.
The CSV holds both records' fields side by side, unmasked: it is for stewards who work
on the store (which holds the same data) and is written readable by its owner only.

Recording (`add_labels`): a label is a steward decision like the review app's. One
`decisions` row (action `label`, who, the file, the pairs and the answers) and, per pair
answered 1 or 0, a must-link or cannot-link in `constraints` that replaces the pair's
earlier one, so the next `er dedup` keeps the records together or apart and
`er review export-labels` exports them. "Unsure" (blank) answers are kept in the decision
only. The whole file is checked first and written in one transaction: one bad row and
nothing is recorded. The review app's label page records each answer the same way
(`answer`: a decision of one pair, on the app's one writing connection), refusing a
pair answered or decided since the page showed it.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from resolution.db import insert_rows, quote_ident, scalar, transaction
from resolution.errors import InputError, ResolutionError
from resolution.review.actions import new_decision_id
from resolution.store.commit import job_config
from resolution.store.schema import connect_store, has_table

# A pair whose log2 odds are further than this from the threshold's is one the model is
# sure of (at a 0.9 threshold: below p = 0.36 or above p = 0.993), and is not asked.
SURE_BITS = 4.0
# The match threshold when the store keeps no job config (config.Thresholds' default).
DEFAULT_MATCH = 0.9
# Record fields written side by side (those the records table has, in this order).
FIELDS = (
    "source_system", "customer_name", "customer_type", "uscc", "id_card", "contact_name",
    "mobile", "phone", "email", "province", "city", "district", "address", "updated_at",
)
COLUMNS = ("record_id_l", "record_id_r", "is_match")


@dataclass(frozen=True)
class Asked:
    pairs: int
    patterns: int
    uncertain: int  # pairs within SURE_BITS of the threshold, not yet labelled
    threshold: float


@dataclass(frozen=True)
class Recorded:
    decision_id: str
    same: int
    different: int
    unsure: int


def _open(store_path: str | Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not Path(store_path).exists():
        raise ResolutionError(f"store not found: {store_path} (run `er dedup` first)")
    con = connect_store(store_path, read_only=read_only)
    if not has_table(con, "crosswalk") or not has_table(con, "pairs"):
        con.close()
        raise ResolutionError(f"{store_path} has no scored pairs yet; run `er dedup` first")
    return con


def _answered(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """Pairs decided (an active constraint) or answered "unsure" in a label decision."""
    done = {(a, b) for a, b in con.execute(
        "SELECT least(record_id_l, record_id_r), greatest(record_id_l, record_id_r) "
        "FROM constraints WHERE active").fetchall()}
    for (after,) in con.execute(
        "SELECT after FROM decisions WHERE action = 'label' AND undone_by IS NULL"
    ).fetchall():
        for a, b, label in json.loads(after or "{}").get("pairs", []):
            if label is None:
                done.add((min(a, b), max(a, b)))
    return done


def next_pairs(store_path: str | Path, n: int, out: str | Path) -> Asked:
    """Write the `n` pairs whose labels would teach the model most (see the module) to
    the CSV `out`, with an empty `is_match` column to fill in."""
    if n < 1:
        raise InputError("--n must be at least 1")
    con = _open(store_path, read_only=True)
    try:
        header, rows, asked = ask(con, n)
    finally:
        con.close()
    _write_csv(Path(out), header, rows)
    return asked


def ask(con: duckdb.DuckDBPyConnection, n: int, skip: Iterable[tuple[str, str]] = (),
        keep: tuple[str, str] | None = None) -> tuple[list[str], list[tuple], Asked]:
    """The `n` pairs to ask next on an open store (`next_pairs`, the review app's label
    page), leaving out the pairs in `skip` too (those another steward has on screen, or
    one passed over) and with `keep` (record_id_l, record_id_r) first while it is still
    to be asked (the pair on a steward's screen stays there until answered): the header (record_id_l, record_id_r, is_match, match_probability,
    pattern, then each field as FIELD_l, FIELD_r), the rows and what was asked.
    Reads only (its scratch tables are temporary), so it runs in a read-only transaction."""
    cfg = job_config(con) if has_table(con, "job_configs") else None
    t = float(((cfg or {}).get("thresholds") or {}).get("match", DEFAULT_MATCH))
    gammas = [c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE pairs)").fetchall()
              if c.startswith("gamma_")]
    have = {c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE records)").fetchall()}
    fields = [f for f in FIELDS if f in have]
    answered = _answered(con)
    passed = {(min(a, b), max(a, b)) for a, b in skip} - answered
    con.execute("CREATE OR REPLACE TEMP TABLE _answered (l VARCHAR, r VARCHAR, skip BOOLEAN)")
    insert_rows(con, "temp._answered", ["l", "r", "skip"],
                sorted([(a, b, False) for a, b in answered] + [(a, b, True) for a, b in passed]))
    pattern = (" || ',' || ".join(
        f"'{g.removeprefix('gamma_')}:' || coalesce(CAST({quote_ident(g)} AS VARCHAR), '')"
        for g in gammas) or "''")
    # the log2 odds of p, with p kept off 0 and 1 (a must-link's 1.0 is infinitely sure)
    odds = "log2(greatest(least(p.match_probability, 1 - 1e-12), 1e-12)) " \
           "- log2(1 - greatest(least(p.match_probability, 1 - 1e-12), 1e-12))"
    t_odds = f"log2({t!r}) - log2(1 - {t!r})"
    # `labelled`: a pattern's pairs answered already count as rounds it had, so a label
    # on a pattern moves its other pairs behind the patterns nobody has labelled (asking
    # one pair at a time, as the review app does, would otherwise drill one pattern)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ask AS
        WITH cand AS (
            SELECT p.record_id_l, p.record_id_r, p.match_probability,
                   abs(({odds}) - ({t_odds})) AS distance, {pattern} AS pattern,
                   a.skip
            FROM pairs p LEFT JOIN temp._answered a
              ON a.l = least(p.record_id_l, p.record_id_r)
             AND a.r = greatest(p.record_id_l, p.record_id_r)
        ),
        labelled AS (SELECT pattern, count(*) AS labelled FROM cand WHERE NOT skip
                     GROUP BY pattern),
        near AS (SELECT c.*, coalesce(l.labelled, 0) AS labelled
                 FROM cand c LEFT JOIN labelled l USING (pattern)
                 WHERE c.skip IS NULL AND c.distance <= {SURE_BITS!r}),
        ranked AS (
            SELECT *, labelled + row_number() OVER (PARTITION BY pattern
                                                    ORDER BY distance, record_id_l, record_id_r)
                          AS round,
                   min(distance) OVER (PARTITION BY pattern) AS pattern_distance,
                   count(*) OVER (PARTITION BY pattern) AS pattern_pairs
            FROM near
        )
        SELECT record_id_l, record_id_r, match_probability, distance, pattern,
               CASE WHEN record_id_l = $kl AND record_id_r = $kr THEN 0 ELSE round END AS round
        FROM ranked
        ORDER BY 6, pattern_distance, pattern_pairs DESC, pattern, distance,
                 record_id_l, record_id_r
        LIMIT {int(n)}
        """, {"kl": keep[0] if keep else None, "kr": keep[1] if keep else None}
    )
    uncertain = scalar(
        con, f"SELECT count(*) FROM pairs p WHERE abs(({odds}) - ({t_odds})) <= {SURE_BITS!r} "
             "AND NOT EXISTS (SELECT 1 FROM temp._answered a WHERE "
             "a.l = least(p.record_id_l, p.record_id_r) "
             "AND a.r = greatest(p.record_id_l, p.record_id_r))")
    side = "".join(f", l.{quote_ident(f)} AS {quote_ident(f + '_l')}, "
                   f"r.{quote_ident(f)} AS {quote_ident(f + '_r')}" for f in fields)
    cur = con.execute(
        f"""SELECT a.record_id_l, a.record_id_r, NULL AS is_match,
                   round(a.match_probability, 4) AS match_probability, a.pattern{side}
            FROM temp._ask a
            JOIN records l ON l.record_id = a.record_id_l
            JOIN records r ON r.record_id = a.record_id_r
            ORDER BY a.round, a.distance, a.record_id_l, a.record_id_r"""
    )
    header = [d[0] for d in cur.description]
    rows = cur.fetchall()
    patterns = scalar(con, "SELECT count(DISTINCT pattern) FROM temp._ask")
    con.execute("DROP TABLE temp._ask; DROP TABLE temp._answered")
    return header, rows, Asked(pairs=len(rows), patterns=int(patterns or 0),
                               uncertain=int(uncertain or 0), threshold=t)


def _cell(value):
    """Text Excel would run as a formula (=, +, -, @, a leading tab or carriage return)
    gets a leading apostrophe, as in the review app's audit CSV."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write_csv(out: Path, header: list[str], rows: list[tuple]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    # personal data, like the store: the file is created readable by its owner only
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(out, 0o600)
    with open(fd, "w", newline="", encoding="utf-8-sig") as f:  # the BOM: Excel reads UTF-8
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            # the IDs exactly (`er label add` looks them up), the fields safe for Excel
            w.writerow([*("" if v is None else v for v in row[:3]),
                        *(_cell(v) for v in row[3:])])


def _read_labels(path: Path) -> list[tuple[int, str, str, int | None]]:
    """The file's rows as (row number, record_id_l, record_id_r, 1 / 0 / None); the
    header is row 1, as a spreadsheet numbers it."""
    if not path.is_file():
        raise InputError(f"labels file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            table = list(csv.reader(f))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 CSV file (save it as CSV UTF-8)") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None
    if not table:
        raise InputError(f"{path}: the file is empty; it needs the columns {', '.join(COLUMNS)}")
    names = [h.strip().lower() for h in table[0]]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise InputError(f"{path} row 1: missing column(s) {', '.join(missing)}; a labels file "
                         f"needs {', '.join(COLUMNS)}")
    at = [names.index(c) for c in COLUMNS]
    found: list[tuple[int, str, str, int | None]] = []
    for i, row in enumerate(table[1:], start=2):
        if not any(v.strip() for v in row):
            continue  # an empty line (a spreadsheet's last row)
        cells = [row[j] if j < len(row) else "" for j in at]
        a, b, label = (c.strip() for c in cells)
        if not a or not b:
            raise InputError(f"{path} row {i}: record_id_l and record_id_r must both be given")
        if a == b:
            raise InputError(f"{path} row {i}: record_id_l and record_id_r are the same "
                             f"record ({a})")
        if label not in ("1", "0", ""):
            raise InputError(f"{path} row {i}: is_match is '{label[:40]}'; use 1 (same "
                             "customer), 0 (different customers) or leave it blank (unsure)")
        found.append((i, a, b, int(label) if label else None))
    if not found:
        raise InputError(f"{path}: no labelled rows below the header")
    return found


def add_labels(store_path: str | Path, path: str | Path, who: str = "cli") -> Recorded:
    """Record the labels CSV `path` (record_id_l, record_id_r, is_match: 1 / 0 / blank)
    as one audited steward decision (see the module); every row is checked first."""
    path = Path(path)
    rows = _read_labels(path)
    if not who.strip():
        raise InputError("--user must name who labelled the pairs")
    con = _open(store_path, read_only=False)
    try:
        ids = sorted({x for _, a, b, _ in rows for x in (a, b)})
        known = _known(con, ids)
        labels: dict[tuple[str, str], tuple[int, int | None]] = {}
        for i, a, b, label in rows:
            for side, rid in (("record_id_l", a), ("record_id_r", b)):
                if rid not in known:
                    raise InputError(f"{path} row {i}: {side} '{rid[:60]}' is not in the store")
            pair = (min(a, b), max(a, b))
            if pair in labels and labels[pair][1] != label:
                raise InputError(f"{path} row {i}: the pair {pair[0]} ~ {pair[1]} is labelled "
                                 f"differently in row {labels[pair][0]}")
            labels.setdefault(pair, (i, label))
        return _record(con, who, {pair: lab for pair, (_, lab) in labels.items()},
                       path.name, {"file": path.name})
    finally:
        con.close()


class AlreadyAnswered(ResolutionError):
    """The pair was labelled (or decided) since it was shown: another steward's answer."""


def answer(con: duckdb.DuckDBPyConnection, who: str, record_l: str, record_r: str,
           label: int | None) -> Recorded:
    """One pair answered on the review app's label page (1 same, 0 different, None
    unsure), recorded as `er label add` records a file of one row, on an open store
    connection that may write (the app's one writer). A pair answered or decided since
    the page showed it is refused (`AlreadyAnswered`): the first answer stands."""
    if label not in (1, 0, None):
        raise InputError(f"an answer is 1 (same), 0 (different) or unsure, not {label!r}")
    if not record_l or not record_r or record_l == record_r:
        raise InputError("a pair needs two different record IDs")
    missing = sorted({record_l, record_r} - _known(con, [record_l, record_r]))
    if missing:
        raise InputError(f"record {missing[0][:60]} is not in the store")
    pair = (min(record_l, record_r), max(record_l, record_r))
    if pair in _answered(con):
        raise AlreadyAnswered(
            f"记录对 {pair[0]} ~ {pair[1]} 已有标注或决定，本次回答未记录 (the pair {pair[0]} ~ "
            f"{pair[1]} was labelled or decided since the page showed it; this answer was not "
            "recorded)")
    return _record(con, who, {pair: label}, WEB_SOURCE, {"page": "label"})


# How a label decision from the review app's page names where it came from (a file's
# name for `er label add`).
WEB_SOURCE = "标注页面 (label page)"


def _known(con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[str]:
    return {r for (r,) in con.execute(
        "SELECT record_id FROM crosswalk WHERE list_contains(?, record_id)", [sorted(ids)]
    ).fetchall()}


def _record(con: duckdb.DuckDBPyConnection, who: str,
            labels: dict[tuple[str, str], int | None], source: str, origin: dict) -> Recorded:
    """Write the checked `labels` ({(l, r) with l < r: 1 / 0 / None}) as one decision
    (`origin` says where they came from) and their constraints, in one transaction."""
    ids = sorted({x for pair in labels for x in pair})
    decided = [(a, b, "must_link" if lab == 1 else "cannot_link")
               for (a, b), lab in labels.items() if lab is not None]
    same = sum(1 for *_, k in decided if k == "must_link")
    unsure = sum(1 for lab in labels.values() if lab is None)
    decision_id = new_decision_id()
    with transaction(con):
        con.execute("CREATE OR REPLACE TEMP TABLE _labelled (l VARCHAR, r VARCHAR, "
                    "kind VARCHAR)")
        insert_rows(con, "temp._labelled", ["l", "r", "kind"], decided)
        replaced = con.execute(
            """SELECT k.record_id_l, k.record_id_r, k.kind, k.decision_id
               FROM constraints k JOIN temp._labelled n
                 ON n.l = least(k.record_id_l, k.record_id_r)
                AND n.r = greatest(k.record_id_l, k.record_id_r)
               WHERE k.active ORDER BY 1, 2"""
        ).fetchall()
        # a pair's latest decision replaces its earlier one (as the review app's do)
        con.execute(
            """UPDATE constraints SET active = false FROM temp._labelled n
               WHERE constraints.active
                 AND n.l = least(constraints.record_id_l, constraints.record_id_r)
                 AND n.r = greatest(constraints.record_id_l, constraints.record_id_r)"""
        )
        con.execute("INSERT INTO constraints SELECT l, r, kind, ?, true FROM temp._labelled",
                    [decision_id])
        con.execute(
            "INSERT INTO decisions VALUES (?, now(), ?, 'label', ?, NULL, NULL, ?, ?, ?, NULL)",
            [decision_id, who, ids,
             json.dumps({"superseded_constraints": [list(r) for r in replaced]},
                        ensure_ascii=False),
             # `constraints` as the review app's decisions keep them (the audit page
             # counts them)
             json.dumps({**origin,
                         "pairs": [[a, b, lab] for (a, b), lab in labels.items()],
                         "constraints": [list(k) for k in decided]},
                        ensure_ascii=False),
             f"{source}: {same} same, {len(decided) - same} different, {unsure} unsure"],
        )
        con.execute("DROP TABLE temp._labelled")
    return Recorded(decision_id, same, len(decided) - same, unsure)
