"""Entities stewards can trust: guarded clustering, stable IDs, constraints, survivorship."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from conftest import CONFIG, run_cli

from resolution.cluster import build_review_queue, cluster_records
from resolution.config import ClusteringConfig, FieldRule, SurvivorshipConfig
from resolution.survivorship import survive


def _graph(records: list[dict], pairs: list[tuple[str, str, float]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    df = pd.DataFrame(records)
    for col in ("uscc_key", "id_card_key", "name_branch"):
        if col not in df:
            df[col] = None
        df[col] = df[col].astype("object")
    con.register("df", df)
    con.execute("CREATE TABLE records AS SELECT * FROM df")
    con.execute(
        "CREATE TABLE pairs (record_id_l VARCHAR, record_id_r VARCHAR, match_probability DOUBLE)"
    )
    con.executemany("INSERT INTO pairs VALUES (?, ?, ?)", [tuple(sorted(p[:2])) + (p[2],) for p in pairs])
    return con


def _entities(con) -> list[set[str]]:
    groups: dict[str, set[str]] = {}
    for rid, eid in con.execute("SELECT record_id, entity_id FROM clusters").fetchall():
        groups.setdefault(eid, set()).add(rid)
    return sorted(groups.values(), key=lambda s: sorted(s))


def _scorer(evidence: dict[tuple[str, str], float], scored: list[set[str]]):
    """A `score_within` that answers from a table of direct comparisons, and remembers
    which records it was asked about."""
    def score(con, groups):
        members = con.execute(f"SELECT record_id, _component FROM {groups}").fetchall()
        by = {}
        for rid, comp in members:
            by.setdefault(comp, set()).add(rid)
        scored.extend(by.values())
        con.execute("CREATE OR REPLACE TABLE _within_pairs "
                    "(record_id_l VARCHAR, record_id_r VARCHAR, evidence DOUBLE)")
        rows = [(a, b, evidence.get((a, b), 20.0)) for g in by.values()
                for a in sorted(g) for b in sorted(g) if a < b]
        con.executemany("INSERT INTO _within_pairs VALUES (?, ?, ?)", rows)
    return score


def test_a_chain_through_records_the_model_finds_different_is_split():
    # A household: A–B strong (one person), B–C strong through a shared landline and
    # address, C–D strong (the other person). A and C, compared directly, look different
    # (−6 bits): without that comparison the chain makes one entity of two people.
    records = [{"record_id": r} for r in "ABCD"]
    links = [("A", "B", 0.999), ("B", "C", 0.995), ("C", "D", 0.999)]  # no weak bridge
    scored: list[set[str]] = []
    con = _graph(records, links)
    res = cluster_records(con, 0.9, ClusteringConfig(),
                          score_within=_scorer({("A", "C"): -6.0}, scored))
    assert scored == [{"A", "B", "C", "D"}]  # only components of 3+ are re-scored
    assert _entities(con) == [{"A", "B"}, {"C", "D"}]
    assert res.split_components == 1
    reason = con.execute("SELECT reason FROM cluster_splits").fetchall()[0][0]
    assert "look like different customers" in reason

    # evidence above the line, or the check turned off: the chain stays one entity
    con = _graph(records, links)
    cluster_records(con, 0.9, ClusteringConfig(), score_within=_scorer({("A", "C"): 1.5}, []))
    assert _entities(con) == [{"A", "B", "C", "D"}]
    con = _graph(records, links)
    cluster_records(con, 0.9, ClusteringConfig(separate_below_bits=None),
                    score_within=_scorer({("A", "C"): -6.0}, []))
    assert _entities(con) == [{"A", "B", "C", "D"}]


def test_chain_with_conflicting_uscc_is_split_and_explained():
    # A–B and B–C link; A and C carry different valid credit codes: plain components
    # would make one entity of all three.
    con = _graph(
        [
            {"record_id": "A", "uscc_key": "91310000MA1FL0001X"},
            {"record_id": "B"},
            {"record_id": "C", "uscc_key": "91310000MA1FL0002Y"},
        ],
        [("A", "B", 0.97), ("B", "C", 0.93)],
    )
    res = cluster_records(con, 0.9, ClusteringConfig())
    assert _entities(con) == [{"A", "B"}, {"C"}]  # B goes with its stronger link
    assert res.split_components == 1
    reason = con.execute("SELECT reason FROM cluster_splits").fetchall()[0][0]
    assert "统一社会信用代码" in reason and "USCC" in reason
    build_review_queue(con, 0.95, 50)
    queued = con.execute("SELECT reason FROM review_queue").fetchall()
    assert any("split by the guard" in r[0] for r in queued)

    plain = _graph(
        [{"record_id": "A", "uscc_key": "X1"}, {"record_id": "B"}, {"record_id": "C", "uscc_key": "X2"}],
        [("A", "B", 0.97), ("B", "C", 0.93)],
    )
    cluster_records(plain, 0.9, ClusteringConfig(guard=False))
    assert _entities(plain) == [{"A", "B", "C"}]


def test_two_branches_never_become_one_entity():
    con = _graph(
        [
            {"record_id": "HQ"},
            {"record_id": "S1", "name_branch": "张江"},
            {"record_id": "S2", "name_branch": "金桥"},
        ],
        [("HQ", "S1", 0.99), ("HQ", "S2", 0.98), ("S1", "S2", 0.95)],
    )
    cluster_records(con, 0.9, ClusteringConfig())
    ents = _entities(con)
    assert {"S1", "S2"} not in ents and not any({"S1", "S2"} <= e for e in ents)


def test_a_branch_and_its_head_office_stay_apart_but_a_bare_name_may_join_either():
    # HQ is the registered legal entity (legal form, no branch); S1 is one of its stores;
    # B is the bare brand name (no legal form, no branch): unknown, so it may join.
    records = [
        {"record_id": "HQ", "name_legal_form": "股份有限公司"},
        {"record_id": "HQ2", "name_legal_form": "有限公司"},
        {"record_id": "S1", "name_branch": "longhua", "name_legal_form": "股份有限公司"},
        {"record_id": "B", "name_legal_form": None},
    ]
    pairs = [("HQ", "B", 0.99), ("B", "S1", 0.97), ("HQ", "HQ2", 0.98)]
    con = _graph(records, pairs)
    cluster_records(con, 0.9, ClusteringConfig())
    assert _entities(con) == [{"B", "HQ", "HQ2"}, {"S1"}]  # B follows its stronger link
    reason = con.execute("SELECT reason FROM cluster_splits").fetchall()[0][0]
    assert "总部" in reason and "head office" in reason

    # without the legal-form column nothing marks HQ as the head office: one entity
    no_form = _graph([{k: v for k, v in r.items() if k != "name_legal_form"} for r in records], pairs)
    cluster_records(no_form, 0.9, ClusteringConfig())
    assert _entities(no_form) == [{"B", "HQ", "HQ2", "S1"}]


def test_weak_bridge_between_dense_groups_is_cut():
    dense = [("A", "B", 0.999), ("B", "C", 0.999), ("A", "C", 0.998),
             ("D", "E", 0.999), ("E", "F", 0.999), ("D", "F", 0.997)]
    con = _graph([{"record_id": r} for r in "ABCDEF"], dense + [("C", "D", 0.93)])
    res = cluster_records(con, 0.9, ClusteringConfig())
    assert _entities(con) == [{"A", "B", "C"}, {"D", "E", "F"}]
    assert "weak link" in con.execute("SELECT reason FROM cluster_splits").fetchall()[0][0]
    assert res.split_components == 1
    # a strong bridge is kept
    con = _graph([{"record_id": r} for r in "ABCDEF"], dense + [("C", "D", 0.999)])
    cluster_records(con, 0.9, ClusteringConfig())
    assert _entities(con) == [set("ABCDEF")]


_SEEDED_RUN = """
import json, sys
sys.path.insert(0, "tests")
from test_entities import _graph, _entities
from resolution.cluster import cluster_records
from resolution.config import ClusteringConfig
records, pairs = json.loads(sys.argv[1])
con = _graph(records, [tuple(p) for p in pairs])
cluster_records(con, 0.9, ClusteringConfig())
print(json.dumps([sorted(e) for e in _entities(con)]))
"""


def test_weak_bridges_are_cut_the_same_whatever_the_hash_seed():
    """A record between two dense groups, weakly linked to both: which link is cut must not
    depend on Python's per-process string hashing (a re-run must give the same entities)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    records, pairs = [], []
    for k in range(12):  # twelve groups-record-group chains with different IDs
        a, b = [f"a{k}-{i}" for i in range(3)], [f"b{k}-{i}" for i in range(3)]
        x = f"x{k}"
        records += [{"record_id": r} for r in a + b + [x]]
        pairs += [(a[0], a[1], 0.999), (a[1], a[2], 0.999), (a[0], a[2], 0.999),
                  (b[0], b[1], 0.999), (b[1], b[2], 0.999), (b[0], b[2], 0.999),
                  (a[2], x, 0.93), (x, b[0], 0.93)]
    root = Path(__file__).resolve().parents[1]
    results = set()
    for seed in range(6):
        out = subprocess.run(
            [sys.executable, "-c", _SEEDED_RUN, json.dumps([records, pairs])], cwd=root,
            env={**os.environ, "PYTHONHASHSEED": str(seed)}, capture_output=True, text=True,
            check=True,
        ).stdout
        results.add(out.strip().splitlines()[-1])
    assert len(results) == 1
    entities = json.loads(results.pop())
    assert len(entities) == 24  # each chain split once: x joins one group, never both


def test_steward_constraints_beat_the_model():
    con = _graph([{"record_id": r} for r in "ABCD"], [("A", "B", 0.999), ("C", "D", 0.2)])
    con.execute(
        "CREATE TABLE constraints (record_id_l VARCHAR, record_id_r VARCHAR, kind VARCHAR, decision_id VARCHAR)"
    )
    con.execute("INSERT INTO constraints VALUES ('A', 'B', 'cannot_link', 'd1'), ('C', 'D', 'must_link', 'd2')")
    cluster_records(con, 0.9, ClusteringConfig())
    assert _entities(con) == [{"A"}, {"B"}, {"C", "D"}]
    conf = dict(con.execute("SELECT record_id, membership_confidence FROM clusters").fetchall())
    assert conf["C"] == conf["D"] == 1.0


def test_confidence_definitions():
    con = _graph([{"record_id": r} for r in "ABCD"], [("A", "B", 0.99), ("B", "C", 0.95), ("C", "D", 0.3)])
    cluster_records(con, 0.9, ClusteringConfig())
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT record_id, membership_confidence, cluster_confidence FROM clusters").fetchall()}
    assert rows["A"][0] == pytest.approx(0.99)
    assert rows["C"][0] == pytest.approx(0.95)
    assert rows["A"][1] == pytest.approx(0.95)  # the weakest link of the entity
    assert rows["D"][0] == pytest.approx(0.7)   # alone: 1 - its best near miss


# --- survivorship on hand-made clusters ---------------------------------------------

def _members() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE records AS SELECT * FROM (VALUES
          ('r1', 'CRM',  '华联超市',         '+8613800000001', true,  TIMESTAMP '2024-01-01', 'a@x.cn'),
          ('r2', 'ERP',  '上海华联超市有限公司', '+8613800000002', false, TIMESTAMP '2023-01-01', NULL),
          ('r3', 'SHOP', '华联',             '+8613800000003', true,  TIMESTAMP '2025-01-01', 'b@x.cn'),
          ('r4', 'SHOP', '华联超市',         '+8613800000003', true,  TIMESTAMP '2022-01-01', 'a@x.cn')
        ) t(record_id, source_system, name, mobile, mobile_valid, updated_at_ts, email)"""
    )
    con.execute(
        "CREATE TABLE clusters AS SELECT record_id, 'E1' AS entity_id, 4 AS cluster_size, "
        "0.97 AS membership_confidence, 0.96 AS cluster_confidence FROM records"
    )
    con.execute("CREATE TABLE review_queue AS SELECT 'E1' AS entity_id")
    return con


@pytest.mark.parametrize(
    "rule, expected_value, expected_record",
    [
        (FieldRule(rule="source_priority", column="name"), "上海华联超市有限公司", "r2"),
        (FieldRule(rule="most_recent", column="name"), "华联", "r3"),
        (FieldRule(rule="most_frequent", column="name", tie_breakers=["most_recent"]), "华联超市", "r1"),
        (FieldRule(rule="longest", column="name"), "上海华联超市有限公司", "r2"),
        (FieldRule(rule="fixed_source", column="name", source="SHOP", tie_breakers=["most_recent"]), "华联", "r3"),
        (FieldRule(rule="source_priority", column="mobile", valid_only="mobile_valid"), "+8613800000001", "r1"),
        (FieldRule(rule="most_recent", column="mobile", valid_only="mobile_valid"), "+8613800000003", "r3"),
    ],
)
def test_survivorship_rules_with_lineage(rule, expected_value, expected_record):
    con = _members()
    survive(con, SurvivorshipConfig(source_priority=["ERP", "CRM", "SHOP"], fields={"f": rule}))
    value, rid, src, used, needs_review, count, sources = con.execute(
        "SELECT f, lineage.f.record_id, lineage.f.source_system, lineage.f.rule, needs_review, "
        "record_count, source_systems FROM entities"
    ).fetchall()[0]
    assert (value, rid) == (expected_value, expected_record)
    assert src == {"r1": "CRM", "r2": "ERP", "r3": "SHOP", "r4": "SHOP"}[rid]
    assert used == rule.rule
    assert needs_review is True and count == 4 and sources == ["CRM", "ERP", "SHOP"]


def test_aggregate_keeps_all_distinct_values():
    con = _members()
    survive(con, SurvivorshipConfig(fields={"emails": FieldRule(rule="aggregate", column="email")}))
    emails, lineage = con.execute("SELECT emails, lineage.emails.record_id FROM entities").fetchall()[0]
    assert emails == ["a@x.cn", "b@x.cn"]
    assert lineage == "r1,r3,r4"


def test_entities_of_one_record_follow_the_same_rules():
    """An entity of one record skips the grouping; its golden record must be what the
    rules give: the record's values, NULL where valid_only or fixed_source rules it out,
    aggregates as one-element lists, lineage to the record."""
    con = _members()
    con.execute("CREATE OR REPLACE TABLE clusters AS SELECT record_id, 'E' || record_id AS "
                "entity_id, 0.8::DOUBLE AS cluster_confidence FROM records")
    fields = {
        "name": FieldRule(rule="source_priority", column="name"),
        "shop_name": FieldRule(rule="fixed_source", column="name", source="SHOP"),
        "mobile": FieldRule(rule="most_recent", column="mobile", valid_only="mobile_valid"),
        "emails": FieldRule(rule="aggregate", column="email"),
        "common": FieldRule(rule="most_frequent", column="name", tie_breakers=["longest"]),
    }
    survive(con, SurvivorshipConfig(source_priority=["ERP", "CRM", "SHOP"], fields=fields))
    rows = con.execute(
        "SELECT entity_id, name, lineage.name.record_id, shop_name, lineage.shop_name.record_id,"
        " mobile, lineage.mobile.rule, emails, lineage.emails.record_id, "
        "lineage.emails.source_system, common, record_count, source_systems, "
        "cluster_confidence, needs_review FROM entities ORDER BY entity_id"
    ).fetchall()
    assert rows == [
        ("Er1", "华联超市", "r1", None, None, "+8613800000001", "most_recent", ["a@x.cn"], "r1",
         "CRM", "华联超市", 1, ["CRM"], 0.8, False),
        ("Er2", "上海华联超市有限公司", "r2", None, None, None, "most_recent", None, None, None,
         "上海华联超市有限公司", 1, ["ERP"], 0.8, False),
        ("Er3", "华联", "r3", "华联", "r3", "+8613800000003", "most_recent", ["b@x.cn"], "r3",
         "SHOP", "华联", 1, ["SHOP"], 0.8, False),
        ("Er4", "华联超市", "r4", "华联超市", "r4", "+8613800000003", "most_recent", ["a@x.cn"],
         "r4", "SHOP", "华联超市", 1, ["SHOP"], 0.8, False),
    ]


# --- stable IDs and the store, through the CLI -------------------------------------

def _crosswalk(out) -> dict[str, str]:
    con = duckdb.connect(str(out / "job.duckdb"), read_only=True)
    return dict(con.execute("SELECT record_id, entity_id FROM crosswalk").fetchall())


def _groups(xwalk: dict[str, str]) -> dict[str, frozenset]:
    g: dict[str, set] = {}
    for r, e in xwalk.items():
        g.setdefault(e, set()).add(r)
    return {e: frozenset(m) for e, m in g.items()}


def test_ids_stable_across_added_records_and_reruns(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    df = pd.read_csv(customers, dtype=str)
    first = tmp_path / "first.csv"
    df.head(900).to_csv(first, index=False)
    store = tmp_path / "store.duckdb"
    args = ["--config", CONFIG, "--model", trained_model, "--store", store]
    run_cli("dedup", *args, "--input", first, "--out", tmp_path / "a")
    run_cli("dedup", *args, "--input", first, "--out", tmp_path / "b")
    a, b = _crosswalk(tmp_path / "a"), _crosswalk(tmp_path / "b")
    assert a == b  # a re-run changes nothing
    run_cli("dedup", *args, "--input", customers, "--out", tmp_path / "c")
    c = _crosswalk(tmp_path / "c")
    ga, gc = _groups(a), _groups(c)
    kept = [e for e in ga if e in gc]
    # an entity whose records stay together, joined at most by new records, keeps its ID;
    # when entities merge, the surviving ID is one of theirs
    for e, members in ga.items():
        new_ids = {c[r] for r in members}
        if len(new_ids) == 1:
            (ne,) = new_ids
            old_ids_inside = {a[r] for r in gc[ne] if r in a}
            assert ne in old_ids_inside
            if old_ids_inside == {e}:
                assert ne == e
    assert len(kept) > 0.9 * len(ga)  # IDs only go away when their entity merges into another
    con = duckdb.connect(str(store), read_only=True)
    events = dict(con.execute("SELECT event, count(*) FROM entity_events GROUP BY 1").fetchall())
    assert events.get("create", 0) >= len(ga)
    assert con.execute("SELECT count(*) FROM jobs").fetchall()[0][0] == 3


def test_steward_decisions_override_the_model_on_the_next_run(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    small = tmp_path / "small.csv"
    pd.read_csv(customers, dtype=str).head(600).to_csv(small, index=False)
    store = tmp_path / "store.duckdb"
    args = ["--config", CONFIG, "--model", trained_model, "--store", store, "--input", small]
    run_cli("dedup", *args, "--out", tmp_path / "r1")
    x1 = _crosswalk(tmp_path / "r1")
    g1 = _groups(x1)
    multi = sorted((e, sorted(m)) for e, m in g1.items() if len(m) >= 2)
    singles = sorted(sorted(m)[0] for m in g1.values() if len(m) == 1)
    split_entity, (ra, rb, *_rest) = multi[0]
    merge_a, merge_b = singles[0], singles[1]
    ea, eb = x1[merge_a], x1[merge_b]
    run_cli("store", "cannot-link", "--store", store, ra, rb)
    run_cli("store", "must-link", "--store", store, merge_a, merge_b)
    mover = singles[2]
    target = multi[1][0]
    run_cli("store", "move", "--store", store, mover, "--to", target)
    run_cli("dedup", *args, "--out", tmp_path / "r2")
    x2 = _crosswalk(tmp_path / "r2")
    assert x2[ra] != x2[rb]
    assert x2[merge_a] == x2[merge_b]
    assert x2[merge_a] in {ea, eb}  # the surviving ID is one of the merged entities' IDs
    assert x2[mover] == target
    con = duckdb.connect(str(store), read_only=True)
    ev = con.execute("SELECT event, entity_id, related_entity_ids FROM entity_events "
                     "WHERE event IN ('merge', 'retire')").fetchall()
    retired = {ea, eb} - {x2[merge_a]}
    assert any(e == "retire" and eid in retired for e, eid, _ in ev)
    assert con.execute("SELECT count(*) FROM decisions").fetchall()[0][0] == 3


def test_constraint_on_unknown_record_is_a_clear_error(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    store = tmp_path / "store.duckdb"
    r = run_cli("store", "must-link", "--store", store, "X1", "X2", expect=2)
    assert "no entities yet" in r.output
    small = tmp_path / "s.csv"
    pd.read_csv(customers, dtype=str).head(50).to_csv(small, index=False)
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--store", store,
            "--input", small, "--out", tmp_path / "o")
    r = run_cli("store", "must-link", "--store", store, "NOPE-1", "NOPE-2", expect=2)
    assert "not in the store" in r.output


# --- incremental matching ------------------------------------------------------------

def test_incremental_match_agrees_with_batch(tmp_path, demo_files, trained_model):
    from training.evaluation import metrics_from_tables

    customers, _ = demo_files
    df = pd.read_csv(customers, dtype=str).sample(frac=1.0, random_state=3)
    first, rest = tmp_path / "first.csv", tmp_path / "rest.csv"
    df.iloc[:1200].to_csv(first, index=False)
    df.iloc[1200:].to_csv(rest, index=False)
    base = ["--config", CONFIG, "--model", trained_model]
    run_cli("dedup", *base, "--input", customers, "--out", tmp_path / "b", "--store", tmp_path / "batch.duckdb")
    run_cli("dedup", *base, "--input", first, "--out", tmp_path / "i", "--store", tmp_path / "inc.duckdb")
    r = run_cli("match", *base, "--input", rest, "--store", tmp_path / "inc.duckdb")
    assert "attached to existing entities" in r.output
    con = duckdb.connect()
    for name in ("batch", "inc"):
        con.execute(f"ATTACH '{tmp_path / (name + '.duckdb')}' AS {name}_s (READ_ONLY)")
    agree = metrics_from_tables(con, "inc_s.crosswalk", "batch_s.crosswalk")
    assert agree.records == len(df)
    assert agree.pairwise_f1 > 0.97
    # every record once, golden records consistent with the crosswalk
    assert con.execute("SELECT count(*), count(DISTINCT record_id) FROM inc_s.crosswalk").fetchall()[0] == (len(df), len(df))
    bad = con.execute(
        """SELECT count(*) FROM inc_s.entities e FULL JOIN
           (SELECT entity_id, count(*) n FROM inc_s.crosswalk GROUP BY 1) c USING (entity_id)
           WHERE e.record_count IS DISTINCT FROM c.n"""
    ).fetchall()[0][0]
    assert bad == 0


def test_match_attaches_a_copy_to_its_entity(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    df = pd.read_csv(customers, dtype=str).head(400)
    base = tmp_path / "base.csv"
    df.to_csv(base, index=False)
    store = tmp_path / "store.duckdb"
    args = ["--config", CONFIG, "--model", trained_model]
    run_cli("dedup", *args, "--input", base, "--out", tmp_path / "o", "--store", store)
    con = duckdb.connect(str(store), read_only=True)
    rid, eid = con.execute(
        "SELECT c.record_id, c.entity_id FROM crosswalk c JOIN records r USING (record_id) "
        "WHERE r.uscc_key IS NOT NULL ORDER BY 1 LIMIT 1"
    ).fetchall()[0]
    con.close()
    copy = df[df.record_id == rid].copy()
    copy["record_id"] = "NEW-1"
    new = tmp_path / "new.csv"
    copy.to_csv(new, index=False)
    run_cli("match", *args, "--input", new, "--store", store)
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT entity_id FROM crosswalk WHERE record_id = 'NEW-1'").fetchall() == [(eid,)]
    assert con.execute("SELECT count(*) FROM jobs WHERE kind = 'match'").fetchall()[0][0] == 1
