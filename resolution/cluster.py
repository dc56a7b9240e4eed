"""Cluster: group records into entities from the scored pairs, guard against chaining,
and say how sure we are.

1. Links are the pairs at or above the match threshold, plus steward must-links; a pair a
   steward marked as different (cannot-link) is never a link.
2. Connected components of the links come from Splink.
3. The guard (on by default) re-examines components that hold conflicting strong
   evidence or a weak bridge, and splits them:
   - conflicts: two records with different non-empty values in a `conflict_columns`
     column (different valid USCCs or ID cards, different branch designators, or a branch
     and its head office: a record with a legal form and no branch designator), or a
     steward cannot-link. The component is rebuilt by merging its links strongest first
     and refusing any merge that would put a conflict into one group (steward
     must-links always merge).
   - the model's own word: in components of 3 or more records every pair is scored
     again, and two records whose direct comparison gives evidence below
     `separate_below_bits` (their fields say "different" more than "same") are kept
     apart like a cannot-link (a household's two members chained through a shared line).
   - weak bridges: a single link below `bridge_threshold` that alone joins two groups of
     at least two records each is cut (A–B–C chains through one doubtful record).
   Every split is recorded in `cluster_splits` with the reason in words.
4. `entity_id` here is derived from the sorted member record IDs (stable for the same
   input and model). The store (resolution/store/commit.py) then maps entities onto the IDs they
   had in earlier jobs.

Confidence:
- `membership_confidence` (per record): in a multi-record entity, the probability of the
  record's strongest link to another member (1.0 for a steward must-link); for a record
  alone, 1 minus the probability of its strongest link to any other record, i.e. how sure
  we are that it has no duplicate.
- `cluster_confidence` (per entity): the weakest membership confidence among its members —
  the weakest link the entity relies on.

Owns tables `clusters` (record_id, entity_id, cluster_size, membership_confidence,
cluster_confidence), `cluster_splits` and `review_queue`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb

from resolution.config import ClusteringConfig
from resolution.db import insert_rows, quote_ident, quote_literal, scalar

CONSTRAINTS_DDL = """
CREATE TABLE IF NOT EXISTS constraints (
    record_id_l VARCHAR, record_id_r VARCHAR, kind VARCHAR, decision_id VARCHAR
)
"""

REASONS = {
    "uscc_key": "统一社会信用代码不同 (different valid USCCs)",
    "id_card_key": "身份证号不同 (different valid ID cards)",
    "name_branch": "门店/分支机构不同，或门店与总部 (different branches, or a branch and its head office)",
    "cannot_link": "数据管理员标记为不同客户 (a steward marked records as different)",
    "bridge": "两组记录仅由一条较弱的关联连接 (two groups joined by a single weak link)",
    "separate": "其中两条记录直接比较时，证据指向不同客户 (two of its records, compared "
                "directly, look like different customers)",
}


def _reason(key: str) -> str:
    """A split's reason in Chinese and English; a config's own conflict column (any column
    of `records`, `clustering.conflict_columns`) by its name."""
    return REASONS.get(key) or f"{key} 不同 (different {key})"


@dataclass(frozen=True)
class ClusterResult:
    entities: int
    components: int
    split_components: int


class _Groups:
    """Union-find over record IDs that tracks each group's conflict values."""

    def __init__(
        self,
        nodes: dict[str, dict[str, str | None]],
        cannot: set[frozenset],
        separate: set[frozenset] | frozenset = frozenset(),
    ):
        self.parent = {n: n for n in nodes}
        self.values = {n: {c: ({v} if v is not None else set()) for c, v in vals.items()}
                       for n, vals in nodes.items()}
        self.members = {n: {n} for n in nodes}
        # each record's cannot-link partners, so a conflict check costs the smaller group's
        # constraints, not |group a| x |group b| lookups
        # (a steward's cannot-link, or the model's own direct comparison saying "different")
        self.cannot: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for pairs, why in ((cannot, "cannot_link"), (separate, "separate")):
            for pair in pairs:
                x, y = sorted(pair)
                self.cannot[x].append((y, why))
                self.cannot[y].append((x, why))

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def conflict(self, a: str, b: str) -> str | None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        for col, va in self.values[ra].items():
            vb = self.values[rb][col]
            if va and vb and va != vb:
                return col
        if self.cannot:
            small, other = (ra, rb) if len(self.members[ra]) <= len(self.members[rb]) else (rb, ra)
            for x in self.members[small]:
                for y, why in self.cannot.get(x, ()):
                    if self.find(y) == other:
                        return why
        return None

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] |= self.members.pop(rb)
        for col, vals in self.values.pop(rb).items():
            self.values[ra][col] |= vals


def _weak_bridges(members: set[str], edges: list[tuple[str, str, float]], threshold: float):
    """Links below `threshold` whose removal leaves two parts of at least two records.

    Removing a bridge (a, b) leaves a part of one record exactly when a or b has no other
    link, so each candidate is decided by the two degrees, and cutting it lowers both;
    one linear pass instead of a component search per bridge (giant components at 10M).
    """
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(sorted(members))
    for a, b, p in edges:
        if a in members and b in members:
            if not g.has_edge(a, b) or g[a][b]["p"] < p:
                g.add_edge(a, b, p=p)
    degree = dict(g.degree())
    cut = []
    # each bridge as (smaller, larger) ID: networkx orients it by its search order, which
    # follows set order and so Python's per-process hash seed; cutting in that order made
    # a re-run split a few components differently (39 of 1M demo records)
    for a, b in sorted(tuple(sorted(e)) for e in nx.bridges(g)):
        p = g[a][b]["p"]
        if p < threshold and degree[a] >= 2 and degree[b] >= 2:
            cut.append((a, b, p))
            degree[a] -= 1
            degree[b] -= 1
    g.remove_edges_from((a, b) for a, b, _p in cut)
    return cut, [set(c) for c in nx.connected_components(g)]


def _split_component(
    nodes: dict[str, dict[str, str | None]],
    edges: list[tuple[str, str, float]],
    must: set[frozenset],
    cannot: set[frozenset],
    bridge_threshold: float,
    separate: set[frozenset] | frozenset = frozenset(),
) -> tuple[list[set[str]], list[str]]:
    groups = _Groups(nodes, cannot, separate)
    reasons: set[str] = set()
    for pair in sorted(must, key=sorted):
        a, b = sorted(pair)
        if a in groups.parent and b in groups.parent:
            groups.union(a, b)
    for a, b, _p in sorted(edges, key=lambda e: (-e[2], e[0], e[1])):
        why = groups.conflict(a, b)
        if why:
            reasons.add(why)
        else:
            groups.union(a, b)
    # the links and must-links inside each final group, by one pass over each list
    inside: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for e in edges:
        root = groups.find(e[0])
        if root == groups.find(e[1]):
            inside[root].append(e)
    for pair in must:
        a, b = sorted(pair)
        if a in groups.parent and b in groups.parent and groups.find(a) == groups.find(b):
            inside[groups.find(a)].append((a, b, 1.0))
    parts: list[set[str]] = []
    for root, members in groups.members.items():
        if len(members) >= 4 and bridge_threshold < 1:
            links = inside.get(root, [])
            if all(e[2] >= bridge_threshold for e in links):
                parts.append(set(members))  # no weak link, so no weak bridge
                continue
            cut, pieces = _weak_bridges(members, links, bridge_threshold)
            if cut:
                reasons.add("bridge")
                parts.extend(pieces)
                continue
        parts.append(set(members))
    return parts, sorted(reasons)


def cluster_records(
    con: duckdb.DuckDBPyConnection,
    match_threshold: float,
    options: ClusteringConfig | None = None,
    records: str = "records",
    components=None,
    score_within=None,
) -> ClusterResult:
    """Create `clusters` and `cluster_splits`; return counts.

    `components(con, nodes, edges)`, if given, computes the connected components
    elsewhere (the Spark backend) and returns a table of (record_id, cluster_id).

    `score_within(con, table)`, if given, scores every pair of records that share a
    `_component` in `table` (record_id, _component) with the model and creates table
    `_within_pairs` (record_id_l, record_id_r, evidence): the pair's log2 Bayes factor,
    without the prior. The guard keeps pairs below `separate_below_bits` apart.
    """
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    options = options or ClusteringConfig()
    con.execute(CONSTRAINTS_DDL)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE _links AS
        SELECT p.record_id_l, p.record_id_r, p.match_probability
        FROM pairs p
        WHERE p.match_probability >= {match_threshold}
          AND NOT EXISTS (
              SELECT 1 FROM constraints k WHERE k.kind = 'cannot_link'
              AND least(k.record_id_l, k.record_id_r) = p.record_id_l
              AND greatest(k.record_id_l, k.record_id_r) = p.record_id_r)
        UNION ALL
        SELECT DISTINCT least(k.record_id_l, k.record_id_r), greatest(k.record_id_l, k.record_id_r),
               1.0
        FROM constraints k
        WHERE k.kind = 'must_link'
          AND k.record_id_l IN (SELECT record_id FROM {records})
          AND k.record_id_r IN (SELECT record_id FROM {records})
        """
    )
    if components is not None:
        cc_table, cc = components(con, records, "_links"), None
    else:
        cc = cluster_pairwise_predictions_at_threshold(
            nodes=records,
            edges="_links",
            db_api=DuckDBAPI(connection=con),
            node_id_column_name="record_id",
            threshold_match_probability=0.0,
        )
        cc_table = cc.physical_name
    con.execute(
        f"""
        CREATE OR REPLACE TABLE _components AS
        SELECT CAST(record_id AS VARCHAR) AS record_id, CAST(cluster_id AS VARCHAR) AS component
        FROM {cc_table}
        """
    )
    if cc is not None:
        cc.drop_table_from_database_and_remove_from_cache()
    n_components = scalar(con, "SELECT count(DISTINCT component) FROM _components")

    con.execute("CREATE OR REPLACE TABLE _assign AS SELECT record_id, component AS grp FROM _components")
    con.execute(
        "CREATE OR REPLACE TABLE cluster_splits (component_entity_id VARCHAR, "
        "entity_ids VARCHAR[], records INTEGER, reason VARCHAR)"
    )
    split_components = 0
    if options.guard:
        _separate_pairs(con, options, score_within)
        split_components = _guard(con, options, records)
        con.execute("DROP TABLE _separate")

    con.execute(
        """
        CREATE OR REPLACE TABLE _entity_ids AS
        SELECT grp,
               'E' || upper(substr(md5(string_agg(record_id, chr(31) ORDER BY record_id)), 1, 16))
                   AS entity_id,
               count(*) AS cluster_size
        FROM _assign GROUP BY grp
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE cluster_splits AS
        SELECT s.component_entity_id, list(e.entity_id ORDER BY e.entity_id) AS entity_ids,
               any_value(s.records) AS records, any_value(s.reason) AS reason
        FROM cluster_splits s, unnest(s.entity_ids) AS u(grp)
        JOIN _entity_ids e ON e.grp = u.grp
        GROUP BY s.component_entity_id
        """
    )
    _confidence(con)
    con.execute("DROP TABLE _components; DROP TABLE _entity_ids; DROP TABLE _assign; DROP TABLE _links")
    return ClusterResult(
        entities=scalar(con, "SELECT count(DISTINCT entity_id) FROM clusters"),
        components=n_components,
        split_components=split_components,
    )


HEAD_OFFICE = "(head office)"


def _conflict_value_sql(col: str, have: set[str]) -> str:
    """The value a record holds in conflict column `col`.

    A record of the registered legal entity itself (a legal form such as 有限公司 and no
    branch designator) is the head office, and `name_branch` gives it the value
    "(head office)": a branch and its head office are different customers (DOMAIN.md:
    a branch is a ship-to of its own), so the guard never merges the two through a bare
    short name (物美超市) or a chain of shared HQ landlines. A bare name without legal form
    or branch stays unknown (NULL) and may join either.
    """
    if col == "name_branch" and "name_legal_form" in have:
        return (
            f"coalesce(r.name_branch, CASE WHEN r.name_legal_form IS NOT NULL "
            f"THEN '{HEAD_OFFICE}' END)"
        )
    return f"r.{quote_ident(col)}"


def _separate_pairs(con: duckdb.DuckDBPyConnection, options: ClusteringConfig, score_within) -> None:
    """Table `_separate`: pairs of records in one component that the model, comparing them
    directly, finds more likely different than the same (evidence below
    `separate_below_bits`).

    Links chain: A–B and B–C are strong, but A and C (a household's two members sharing
    B's landline, two namesakes sharing a salesperson's mobile) were never a link, and
    their own comparison often says "different". Stored pairs are only those above
    `thresholds.keep_pairs`, so the pairs inside each component of 3 or more records are
    scored again. Two records with a strong link between them are never kept apart:
    their own evidence is high.
    """
    con.execute("CREATE OR REPLACE TABLE _separate (record_id_l VARCHAR, record_id_r VARCHAR)")
    if score_within is None or options.separate_below_bits is None:
        return
    con.execute(
        f"""
        CREATE OR REPLACE TABLE _rescore AS
        SELECT record_id, component AS _component FROM _components
        WHERE component IN (
            SELECT component FROM _components GROUP BY component
            HAVING count(*) BETWEEN 3 AND {int(options.rescore_max_records)})
        """
    )
    if scalar(con, "SELECT count(*) FROM _rescore"):
        score_within(con, "_rescore")
        con.execute(
            f"""
            INSERT INTO _separate
            SELECT least(record_id_l, record_id_r), greatest(record_id_l, record_id_r)
            FROM _within_pairs WHERE evidence < {float(options.separate_below_bits)!r}
            """
        )
        con.execute("DROP TABLE _within_pairs")
    con.execute("DROP TABLE _rescore")


def _guard(con: duckdb.DuckDBPyConnection, options: ClusteringConfig, records: str) -> int:
    cols = [c for c in options.conflict_columns]
    have = {r[0] for r in con.execute(f"DESCRIBE {records}").fetchall()}
    cols = [c for c in cols if c in have]
    distinct = " OR ".join(f"count(DISTINCT {_conflict_value_sql(c, have)}) > 1" for c in cols) or "false"
    # Only components that can split are examined in Python: those holding a conflict, and
    # those of at least 4 records with a link below the bridge threshold (without a conflict
    # the component stays whole, and only a weak link can be a cut bridge).
    con.execute(
        f"""
        CREATE OR REPLACE TABLE _suspects AS
        WITH weak AS (
            SELECT DISTINCT c.component
            FROM _links l JOIN _components c ON c.record_id = l.record_id_l
            WHERE l.match_probability < {float(options.bridge_threshold)!r}
        )
        SELECT c.component
        FROM _components c JOIN {records} r USING (record_id)
        GROUP BY c.component
        HAVING (count(*) >= 4 AND c.component IN (SELECT component FROM weak))
            OR (count(*) >= 2 AND ({distinct}))
        UNION
        SELECT a.component FROM constraints k
        JOIN _components a ON a.record_id = k.record_id_l
        JOIN _components b ON b.record_id = k.record_id_r
        WHERE k.kind = 'cannot_link' AND a.component = b.component
        UNION
        SELECT a.component FROM _separate k
        JOIN _components a ON a.record_id = k.record_id_l
        """
    )
    col_sql = "".join(f", {_conflict_value_sql(c, have)}" for c in cols)
    node_rows = con.execute(
        f"""SELECT c.component, c.record_id{col_sql}
            FROM _components c JOIN _suspects USING (component) JOIN {records} r USING (record_id)
            ORDER BY c.component, c.record_id"""
    ).fetchall()
    if not node_rows:
        return 0
    edge_rows = con.execute(
        """SELECT a.component, l.record_id_l, l.record_id_r, l.match_probability
           FROM _links l JOIN _components a ON a.record_id = l.record_id_l
           JOIN _suspects s ON s.component = a.component"""
    ).fetchall()
    must_rows = con.execute(
        "SELECT record_id_l, record_id_r FROM constraints WHERE kind = 'must_link'"
    ).fetchall()
    cannot_rows = con.execute(
        "SELECT record_id_l, record_id_r FROM constraints WHERE kind = 'cannot_link'"
    ).fetchall()
    must = {frozenset(p) for p in must_rows}
    cannot = {frozenset(p) for p in cannot_rows}
    separate = {frozenset(p) for p in con.execute("SELECT * FROM _separate").fetchall()}

    nodes: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in node_rows:
        nodes[row[0]][row[1]] = dict(zip(cols, row[2:]))
    edges: dict[str, list] = defaultdict(list)
    for comp, a, b, p in edge_rows:
        edges[comp].append((a, b, float(p)))

    # each constraint under the component holding both its records
    component_of = {rid: comp for comp, members in nodes.items() for rid in members}
    must_in: dict[str, set[frozenset]] = defaultdict(set)
    cannot_in: dict[str, set[frozenset]] = defaultdict(set)
    separate_in: dict[str, set[frozenset]] = defaultdict(set)
    for pairs, by_component in ((must, must_in), (cannot, cannot_in), (separate, separate_in)):
        for pair in pairs:
            comps = {component_of.get(rid) for rid in pair}
            if len(comps) == 1 and None not in comps:
                by_component[comps.pop()].add(pair)

    reassign: list[tuple[str, str]] = []
    splits: list[tuple[str, list[str], int, str]] = []
    for comp in sorted(nodes):
        members = nodes[comp]
        parts, reasons = _split_component(
            members,
            edges.get(comp, []),
            must_in.get(comp, set()),
            cannot_in.get(comp, set()),
            options.bridge_threshold,
            separate_in.get(comp, set()),
        )
        if len(parts) <= 1:
            continue
        parts.sort(key=lambda s: min(s))
        grps = [f"{comp}/{i}" for i in range(len(parts))]
        for g, part in zip(grps, parts):
            reassign.extend((rid, g) for rid in part)
        component_id = _members_id(members.keys())
        splits.append((component_id, grps, len(members), "；".join(_reason(r) for r in reasons)))
    if reassign:
        con.execute("CREATE OR REPLACE TEMP TABLE _reassign (record_id VARCHAR, grp VARCHAR)")
        insert_rows(con, "_reassign", ["record_id", "grp"], reassign)
        con.execute(  # one join, not an UPDATE of the records' rows one by one
            "CREATE OR REPLACE TABLE _assign AS SELECT a.record_id, coalesce(r.grp, a.grp) AS grp "
            "FROM _assign a LEFT JOIN _reassign r USING (record_id)"
        )
        insert_rows(con, "cluster_splits", ["component_entity_id", "entity_ids", "records", "reason"], splits)
        con.execute("DROP TABLE _reassign")
    con.execute("DROP TABLE _suspects")
    return len(splits)


def _members_id(record_ids) -> str:
    import hashlib

    joined = chr(31).join(sorted(record_ids))
    return "E" + hashlib.md5(joined.encode("utf-8")).hexdigest()[:16].upper()


def _confidence(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE OR REPLACE TABLE _edges AS
        WITH scored AS (   -- a pair a steward marked as different is no evidence either way
            SELECT record_id_l, record_id_r, match_probability FROM pairs p
            WHERE NOT EXISTS (
                SELECT 1 FROM constraints k WHERE k.kind = 'cannot_link'
                AND least(k.record_id_l, k.record_id_r) = p.record_id_l
                AND greatest(k.record_id_l, k.record_id_r) = p.record_id_r)
        )
        SELECT record_id_l AS a, record_id_r AS b, match_probability AS p FROM scored
        UNION ALL SELECT record_id_r, record_id_l, match_probability FROM scored
        UNION ALL SELECT record_id_l, record_id_r, 1.0 FROM constraints WHERE kind = 'must_link'
        UNION ALL SELECT record_id_r, record_id_l, 1.0 FROM constraints WHERE kind = 'must_link'
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE clusters AS
        WITH m AS (
            SELECT a.record_id, e.entity_id, e.cluster_size, a.grp
            FROM _assign a JOIN _entity_ids e USING (grp)
        ),
        membership AS (
            SELECT m.record_id, m.entity_id, m.cluster_size,
                   max(x.p) FILTER (WHERE mx.grp = m.grp) AS best_inside,
                   max(x.p) AS best_any
            FROM m
            LEFT JOIN _edges x ON x.a = m.record_id
            LEFT JOIN _assign mx ON mx.record_id = x.b
            GROUP BY ALL
        ),
        conf AS (
            SELECT record_id, entity_id, cluster_size,
                   CASE WHEN cluster_size > 1 THEN coalesce(best_inside, 0)
                        ELSE 1 - coalesce(best_any, 0) END AS membership_confidence
            FROM membership
        )
        SELECT record_id, entity_id, cluster_size, membership_confidence,
               min(membership_confidence) OVER (PARTITION BY entity_id) AS cluster_confidence
        FROM conf
        ORDER BY entity_id, record_id
        """
    )
    con.execute("DROP TABLE _edges")


def build_review_queue(
    con: duckdb.DuckDBPyConnection,
    review_threshold: float,
    max_cluster_size: int,
    budget: float | None = None,
    min_probability: float = 0.05,
) -> int:
    """Create `review_queue`: entities a steward should look at, with the reasons in words,
    ranked by what a review is worth.

    An entity is queued when the model's chance that it is wrong (`wrong_probability`,
    below) is at least `min_probability` (config `thresholds.keep_pairs`: the job stores
    no pair below it, so a smaller chance rests on evidence the job threw away), when its
    confidence is below the review threshold, when one of its records has a likely
    duplicate in another entity (a pair above 1 − the review threshold), when the guard
    split it out of a larger component, when two of its members were compared and scored
    as probably different, or when it is unusually large. Not the review threshold alone:
    a part of a split customer whose best pair to its other part scored 0.02 is wrong
    with a chance of about 0.02 (the stored pairs' probabilities held up down to 0.01 on
    both data sets: of the entity pairs linked at 0.01–0.05, 4–5% were one customer), so
    it belongs in the queue, ranked by that chance, below the likelier mistakes;
    `budget` caps the queue.

    Each entry gets `wrong_probability`, the model's own estimate (from the stored pair
    probabilities, steward cannot-links excluded) that the entity is wrong, in one of two
    ways, and `kind` says which is the larger:
    - `possible_false_merge` (an entity of 2 or more records holding two customers):
      1 − its weakest membership confidence, the chance that the member with the weakest
      best link is another customer. Not the lowest score of two members compared
      directly: records of one customer that differ a lot often score low against each
      other while a third record links both (on the second data set, 124 entities with
      such a pair held 7 false merges), so that score is a reason to look, not a chance;
    - `possible_missed_merge` (the entity belongs with another): the average linkage to
      the other entity most like it, i.e. the mean over the entity's records of each
      one's best pair probability into that entity (0 for a record without a stored pair
      to it); for a single record, its best pair. Not the best pair of a larger entity:
      the more records, the more chances of one spuriously high pair (a chain's shared
      phone), and the other members' silence is evidence too (a 4-record entity whose
      best outside pair was 0.8–1 was wrong 2 times in 17 on the second data set, by
      average linkage 0.6–0.8, 11 in 12). Entities the guard split out of the same
      component do not count: the guard kept them apart on evidence the pairs' scores
      do not include (different valid USCCs or ID cards, different branches, a steward's
      cannot-link, a config's own conflict column); 12% of such parts were wrong,
      against the 0.98 their links said. A split on the model's own word (a weak
      bridge, two members compared directly looking different) adds no evidence beyond
      the scores, so those parts count like any other entities (pairs of parts the
      guard split on a direct comparison were one customer 5 times in 5 on the second
      data set, 3 in 16 on the demo data). `other_entity_id` names that entity.
    `priority` = `wrong_probability` × the records whose entity would change if the
    entity is wrong: for a false merge, the weakest member (1); for a missed merge, the
    smaller of the two entities (stable IDs keep the larger one's ID). Higher is reviewed
    first, and the table is in that order.

    `budget` (config `review.budget`) keeps only the highest-priority entries: below 1 a
    share of all entities, else a count.
    """
    con.execute(CONSTRAINTS_DDL)
    floor = float(min_probability)
    # the guard's reasons that are the model's own word (cluster_splits.reason joins
    # `_reason` texts with '；')
    model_reasons = "[" + ", ".join(quote_literal(REASONS[k]) for k in ("bridge", "separate")) + "]"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE review_queue AS
        WITH ent AS (
            SELECT entity_id, any_value(cluster_size) AS record_count,
                   min(cluster_confidence) AS cluster_confidence
            FROM clusters GROUP BY entity_id
        ),
        scored AS (
            SELECT c.entity_id AS e1, d.entity_id AS e2, p.match_probability AS p,
                   p.record_id_l AS r1, p.record_id_r AS r2
            FROM pairs p
            JOIN clusters c ON c.record_id = p.record_id_l
            JOIN clusters d ON d.record_id = p.record_id_r
            WHERE NOT EXISTS (
                SELECT 1 FROM constraints k WHERE k.kind = 'cannot_link'
                AND least(k.record_id_l, k.record_id_r) = p.record_id_l
                AND greatest(k.record_id_l, k.record_id_r) = p.record_id_r)
        ),
        split_apart AS ( -- entities the guard split out of one component on a conflict
                         -- (the split's reasons are not all the model's own word)
            SELECT DISTINCT a.e AS e1, b.e AS e2
            FROM cluster_splits s, unnest(s.entity_ids) AS a(e), unnest(s.entity_ids) AS b(e)
            WHERE a.e <> b.e AND NOT list_has_all({model_reasons}, string_split(s.reason, '；'))
        ),
        near_miss AS (   -- a possible duplicate that was not linked
            SELECT entity_id, max(p) AS p FROM (
                SELECT e1 AS entity_id, p FROM scored WHERE e1 <> e2
                UNION ALL SELECT e2, p FROM scored WHERE e1 <> e2)
            GROUP BY entity_id
        ),
        record_best AS ( -- each record's best pair into each other entity, but those
                         -- the guard's conflicts kept apart
            SELECT x.entity_id, x.other, x.r, max(x.p) AS p FROM (
                SELECT e1 AS entity_id, e2 AS other, r1 AS r, p FROM scored WHERE e1 <> e2
                UNION ALL SELECT e2, e1, r2, p FROM scored WHERE e1 <> e2) x
            WHERE NOT EXISTS (SELECT 1 FROM split_apart s
                              WHERE s.e1 = x.entity_id AND s.e2 = x.other)
            GROUP BY ALL
        ),
        linkage AS (     -- average linkage: the mean over the entity's records (0 without a pair)
            SELECT b.entity_id, b.other, sum(b.p) / any_value(ent.record_count) AS p
            FROM record_best b JOIN ent USING (entity_id)
            GROUP BY ALL
        ),
        missed AS (
            SELECT m.entity_id, m.p, m.other, o.record_count AS other_records FROM (
                SELECT entity_id, max(p) AS p, arg_max(other, (p, other)) AS other
                FROM linkage GROUP BY entity_id) m
            JOIN ent o ON o.entity_id = m.other
        ),
        doubtful AS (    -- members the model scored as probably different
            SELECT e1 AS entity_id, min(p) AS p FROM scored WHERE e1 = e2 AND p < 0.5
            GROUP BY e1
        ),
        split AS (
            SELECT u.entity_id, any_value(s.reason) AS reason
            FROM cluster_splits s, unnest(s.entity_ids) AS u(entity_id)
            GROUP BY u.entity_id
        ),
        reasons AS (
            SELECT ent.*, list_filter([
                CASE WHEN ent.record_count > {max_cluster_size} THEN
                    '实体过大：' || ent.record_count || ' 条记录，可能误合并 (unusually large entity)' END,
                CASE WHEN split.reason IS NOT NULL THEN
                    '系统已拆分：' || split.reason || ' (split by the guard)' END,
                CASE WHEN doubtful.p IS NOT NULL THEN
                    '成员间存在低匹配概率 ' || round(doubtful.p, 3)
                    || ' (two members scored as probably different)' END,
                CASE WHEN ent.cluster_confidence < {review_threshold} AND ent.record_count > 1 THEN
                    '最弱关联置信度 ' || round(ent.cluster_confidence, 3)
                    || '，低于复核阈值 (weakest link below review threshold)'
                     WHEN ent.record_count > 1 AND 1 - ent.cluster_confidence >= {floor}
                          AND ent.cluster_confidence < 1 THEN
                    '最弱关联置信度 ' || round(ent.cluster_confidence, 3)
                    || '，成员可能属于另一客户 (weakest link: a member may be another customer)'
                END,
                CASE WHEN ent.cluster_confidence < {review_threshold} AND ent.record_count = 1
                          OR ent.record_count > 1 AND missed.p > 1 - {review_threshold}
                          OR missed.p >= {floor} AND missed.p > 0 THEN
                    '存在可能重复的记录（匹配概率 ' || round(coalesce(near_miss.p, 0), 3)
                    || '），未合并 (possible duplicate not merged)' END
            ], lambda x: x IS NOT NULL) AS why,
                CASE WHEN ent.record_count > 1 THEN 1 - ent.cluster_confidence ELSE 0 END
                    AS p_false,
                coalesce(missed.p, 0) AS p_missed,
                missed.other, missed.other_records
            FROM ent
            LEFT JOIN near_miss USING (entity_id)
            LEFT JOIN missed USING (entity_id)
            LEFT JOIN doubtful USING (entity_id)
            LEFT JOIN split USING (entity_id)
        ),
        ranked AS (
            SELECT entity_id, record_count, cluster_confidence, array_to_string(why, '；') AS reason,
                   CASE WHEN record_count > 1 AND p_false >= p_missed THEN p_false
                        ELSE p_missed * least(record_count, coalesce(other_records, 1))
                   END AS priority,
                   CASE WHEN record_count > 1 AND p_false >= p_missed THEN 'possible_false_merge'
                        ELSE 'possible_missed_merge' END AS kind,
                   greatest(p_false, p_missed) AS wrong_probability,
                   CASE WHEN record_count = 1 OR p_false < p_missed THEN other END
                       AS other_entity_id
            FROM reasons
            WHERE len(why) > 0
        )
        SELECT * FROM ranked
        ORDER BY priority DESC, record_count DESC, entity_id
        LIMIT {_budget_rows(con, budget)}
        """
    )
    return scalar(con, "SELECT count(*) FROM review_queue")


def _budget_rows(con: duckdb.DuckDBPyConnection, budget: float | None) -> int:
    """How many queue entries `budget` allows: a share of all entities below 1, else a
    count; no budget, no cap."""
    if budget is None:
        return 2**62
    if budget >= 1:
        return int(budget)
    return scalar(con, "SELECT CAST(ceil(? * count(DISTINCT entity_id)) AS BIGINT) FROM clusters",
                  [float(budget)])
