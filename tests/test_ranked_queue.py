"""The ranked review queue (issue 17): each entry's priority (the model's chance that the
entity is wrong times its records), kind (possible false or missed merge) and the other
entity of a missed merge, from a real `er dedup`; `review.budget` caps the queue to its
highest-priority entries; the web queue shows them in that order.
"""

from __future__ import annotations

import math
import re

import pytest
import yaml
from conftest import CONFIG, run_cli
from test_review import client_for, q, review_store_template, store  # noqa: F401

RANK = "priority DESC, record_count DESC, entity_id"


def test_dedup_ranks_the_queue_by_the_chance_an_entity_is_wrong(review_store_template):  # noqa: F811
    s = review_store_template
    rows = q(s, """SELECT entity_id, record_count, cluster_confidence, priority, kind,
                          wrong_probability, other_entity_id FROM review_queue""")
    assert rows and {r[4] for r in rows} == {"possible_false_merge", "possible_missed_merge"}
    size = dict(q(s, "SELECT entity_id, record_count FROM entities"))
    siblings = {(a, b) for a, b in q(s, """
        SELECT a.e, b.e FROM cluster_splits, unnest(entity_ids) AS a(e), unnest(entity_ids) AS b(e)
        WHERE a.e <> b.e""")}
    for eid, n, conf, priority, kind, p, other in rows:
        assert 0 <= p <= 1
        if kind == "possible_missed_merge" and other is None:
            # a part of a guard split with no pair to any other entity
            assert p == 0 and priority == 0 and "系统已拆分" in q(
                s, "SELECT reason FROM review_queue WHERE entity_id = ?", [eid])[0][0]
        elif kind == "possible_missed_merge":
            # average linkage: each of its records' best pair into the other entity,
            # averaged over its records; never an entity the guard split it from
            assert other in size and other != eid and (eid, other) not in siblings
            best = q(s, """
                WITH x AS (
                    SELECT a.record_id AS r, p.match_probability AS p FROM pairs p
                    JOIN crosswalk a ON a.record_id = p.record_id_l
                    JOIN crosswalk b ON b.record_id = p.record_id_r
                    WHERE a.entity_id = $e AND b.entity_id = $o
                    UNION ALL
                    SELECT b.record_id, p.match_probability FROM pairs p
                    JOIN crosswalk a ON a.record_id = p.record_id_l
                    JOIN crosswalk b ON b.record_id = p.record_id_r
                    WHERE b.entity_id = $e AND a.entity_id = $o)
                SELECT sum(p) FROM (SELECT r, max(p) AS p FROM x GROUP BY r)""",
                     {"e": eid, "o": other})[0][0]
            assert p == pytest.approx(best / n)
            # times the records that would move: the smaller of the two entities
            assert priority == pytest.approx(p * min(n, size[other]))
        else:
            # 1 - the weakest membership confidence, for the weakest member
            assert n > 1 and other is None
            assert p == pytest.approx(1 - conf) and priority == pytest.approx(p)
    # the review threshold still decides who is queued: a multi-record entity with a
    # likely duplicate in another entity is queued as a possible missed merge
    assert any(kind == "possible_missed_merge" and n > 1 for _, n, _, _, kind, _, _ in rows)
    run_cli("store", "verify", "--store", s)


def _config_with(tmp_path, **review) -> str:
    cfg = yaml.safe_load(CONFIG.read_text("utf-8"))
    cfg["review"] = review
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
    return str(path)


def test_review_budget_keeps_the_highest_priority_entries(
    tmp_path, demo_files, trained_model, review_store_template  # noqa: F811
):
    customers, _ = demo_files
    entities = q(review_store_template, "SELECT count(*) FROM entities")[0][0]
    ranked = [e for (e,) in q(review_store_template, f"SELECT entity_id FROM review_queue "
                                                     f"ORDER BY {RANK}")]
    share = 0.01  # of all entities, rounded up
    keep = math.ceil(entities * share)
    assert keep < len(ranked)
    out = tmp_path / "job"
    run_cli("dedup", "--config", _config_with(tmp_path, budget=share), "--model", trained_model,
            "--input", customers, "--out", out, "--store", out / "store.duckdb")
    capped = [e for (e,) in q(out / "store.duckdb", f"SELECT entity_id FROM review_queue "
                                                     f"ORDER BY {RANK}")]
    assert capped == ranked[:keep]
    # the entities outside the budget are not flagged for review either
    assert q(out / "store.duckdb", "SELECT count(*) FROM entities WHERE needs_review")[0][0] == keep


@pytest.mark.parametrize("budget, words", [(2.5, "whole number"), (0, "greater than 0")])
def test_a_bad_review_budget_is_one_error_line(tmp_path, demo_files, budget, words):
    customers, _ = demo_files
    r = run_cli("dedup", "--config", _config_with(tmp_path, budget=budget), "--model", "x",
                "--input", customers, "--out", tmp_path / "job", expect=2)
    assert r.output.startswith("error:") and "review.budget" in r.output and words in r.output


def test_the_web_queue_shows_the_highest_priority_first_with_kind_and_other_entity(store):  # noqa: F811
    c = client_for(store, "wang")
    page = c.get("/queue").text
    shown = re.findall(r'<td class="mono"><a href="/entity/([^"]+)">', page)
    ranked = [e for (e,) in q(store, """SELECT q.entity_id FROM review_queue q
                                          JOIN entities e USING (entity_id)
                                          ORDER BY q.priority DESC, q.cluster_confidence,
                                                   q.record_count DESC,
                                                   len(e.source_systems) DESC, q.entity_id""")]
    assert shown == ranked[:50]
    kinds = dict(q(store, "SELECT entity_id, kind FROM review_queue"))
    others = dict(q(store, "SELECT entity_id, other_entity_id FROM review_queue"))
    for eid in shown:
        row = re.search(rf'<tr data-entity="{eid}">(.*?)</tr>', page, re.S).group(1)
        label = {"possible_false_merge": "可能误合并", "possible_missed_merge": "可能漏合并"}
        assert label[kinds[eid]] in row
        if others[eid]:
            assert f'<a href="/entity/{others[eid]}">' in row
    assert 'data-sort="priority"' in page and 'data-sort="kind"' in page
    c.cookies.set("lang", "en")
    en = c.get("/queue", params={"sort": "kind"}).text
    assert "possible missed merge" in en


def test_a_store_written_before_the_ranking_gets_its_columns_and_still_verifies(store):  # noqa: F811
    from resolution import crypto

    con = crypto.open_file(store)  # a queue as jobs wrote it before: no ranking columns
    try:
        con.execute("""CREATE OR REPLACE TABLE review_queue AS
                       SELECT entity_id, record_count, cluster_confidence, reason
                       FROM review_queue""")
    finally:
        con.close()
    page = client_for(store, "wang").get("/queue")
    assert page.status_code == 200 and 'data-sort="priority"' in page.text
    cols = {c for (c,) in q(store, "SELECT column_name FROM (DESCRIBE review_queue)")}
    assert {"priority", "kind", "wrong_probability", "other_entity_id"} <= cols
    run_cli("store", "verify", "--store", store)
