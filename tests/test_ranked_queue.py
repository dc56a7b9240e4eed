"""The ranked review queue (issue 17): each entry's priority (the model's chance that the
entity is wrong times its records), kind (possible false or missed merge) and the other
entity of a missed merge, from a real `er dedup`; `review.budget` caps the queue to its
highest-priority entries; the web queue shows them in that order.
"""

from __future__ import annotations

import csv
import math
import re

import duckdb
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
    # parts the guard split apart on a conflict: a reason that is not the model's own word
    # (a weak bridge, a direct comparison)
    siblings = {(a, b) for a, b in q(s, """
        SELECT a.e, b.e FROM cluster_splits, unnest(entity_ids) AS a(e), unnest(entity_ids) AS b(e)
        WHERE a.e <> b.e AND len(list_filter(string_split(reason, '；'), lambda r:
              r NOT LIKE '%(two groups joined by a single weak link)'
              AND r NOT LIKE '%(two of its records, compared directly, look like different customers)')) > 0""")}
    for eid, n, conf, priority, kind, p, other in rows:
        assert 0 <= p <= 1
        if kind == "possible_missed_merge" and other is None:
            # a part of a guard split with no pair to any other entity
            assert p == 0 and priority == 0 and "系统已拆分" in q(
                s, "SELECT reason FROM review_queue WHERE entity_id = ?", [eid])[0][0]
        elif kind == "possible_missed_merge":
            # average linkage: each of its records' best pair into the other entity,
            # averaged over its records; never an entity the guard split it from on a conflict
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
    # a multi-record entity with a likely duplicate in another entity is queued as a
    # possible missed merge
    assert any(kind == "possible_missed_merge" and n > 1 for _, n, _, _, kind, _, _ in rows)
    # parts the guard split on the model's own word (two members compared directly look
    # different) are one customer as often as their pairs say: one names the other
    model_split = {(a, b) for a, b in q(s, """
        SELECT a.e, b.e FROM cluster_splits, unnest(entity_ids) AS a(e), unnest(entity_ids) AS b(e)
        WHERE a.e <> b.e AND reason NOT LIKE '%；%'
              AND reason LIKE '%(two of its records, compared directly, look like different customers)'""")}
    assert model_split and any((eid, other) in model_split
                               for eid, _, _, _, kind, _, other in rows)
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


def _id_card(body17: str) -> str:
    """A valid 18-digit resident ID card number: the 17 digits and their check digit."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


def test_a_split_part_with_a_weak_link_is_queued_naming_the_other_entity(
    tmp_path, trained_model
):
    """A customer whose two records the model scored far below the review threshold (moved
    from Shanghai to Beijing: new mobile, e-mail and address, and one ID card mistyped) is
    two entities. Each is wrong with about the chance that pair says, so each is queued as
    a possible missed merge naming the other, with that chance: not left out because the
    chance is below 1 − thresholds.review."""
    cols = ["record_id", "source_system", "customer_name", "customer_type", "uscc",
            "contact_name", "mobile", "phone", "email", "province", "city", "district",
            "address", "id_card", "updated_at"]
    person = {"customer_name": "杨帆", "customer_type": "个人", "contact_name": "杨帆"}
    rows = [
        {"record_id": "CRM-1", "source_system": "CRM", **person, "mobile": "13812345675",
         "email": "x5@qq.com", "province": "上海市", "city": "上海市", "district": "浦东新区",
         "address": "上海市浦东新区世纪大道105号", "id_card": _id_card("31011519800101523")},
        {"record_id": "SHOP-1", "source_system": "SHOP", **person, "mobile": "13987654325",
         "email": "y5@163.com", "province": "北京市", "city": "北京市", "district": "朝阳区",
         "address": "北京市朝阳区建国路55号", "id_card": _id_card("11010519850202856")},
    ]
    # other customers, alike in nothing
    for i, (name, city, district) in enumerate([
        ("杭州恒达机械有限公司", "杭州市", "西湖区"), ("王芳", "广州市", "天河区"),
        ("成都锦程商贸有限公司", "成都市", "武侯区"), ("李娜", "南京市", "鼓楼区"),
        ("武汉长江电器有限公司", "武汉市", "江汉区"), ("赵敏", "西安市", "雁塔区"),
        ("苏州工业园区新远科技有限公司", "苏州市", "吴中区"), ("陈静", "重庆市", "渝中区"),
        ("厦门海鸥贸易有限公司", "厦门市", "思明区"), ("周杰", "天津市", "和平区"),
    ]):
        rows.append({"record_id": f"ERP-{i}", "source_system": "ERP", "customer_name": name,
                     "mobile": f"1370000{i:04d}", "city": city, "district": district,
                     "address": f"{city}{district}人民路{i + 1}号"})
    src = tmp_path / "customers.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows({c: r.get(c, "") for c in cols} for r in rows)
    out = tmp_path / "job"
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", src, "--out", out)
    con = duckdb.connect(str(out / "job.duckdb"), read_only=True)
    try:
        entity = dict(con.execute("SELECT record_id, entity_id FROM crosswalk").fetchall())
        (p,) = con.execute("SELECT match_probability FROM pairs WHERE record_id_l = 'CRM-1' "
                           "AND record_id_r = 'SHOP-1'").fetchone()
        queued = {r[0]: r[1:] for r in con.execute(
            "SELECT entity_id, kind, other_entity_id, wrong_probability, priority, reason "
            "FROM review_queue").fetchall()}
    finally:
        con.close()
    cfg = yaml.safe_load(CONFIG.read_text("utf-8"))["thresholds"]
    assert cfg["keep_pairs"] <= p < 1 - cfg["review"]  # a weak link, far below review
    assert entity["CRM-1"] != entity["SHOP-1"]
    for mine, theirs in (("CRM-1", "SHOP-1"), ("SHOP-1", "CRM-1")):
        assert entity[mine] in queued, f"{mine}'s entity is not in the review queue"
        kind, other, chance, priority, reason = queued[entity[mine]]
        assert (kind, other) == ("possible_missed_merge", entity[theirs])
        assert chance == pytest.approx(p) and priority == pytest.approx(p)
        assert "possible duplicate not merged" in reason
    # the other customers have no link to anyone: not queued
    assert not {entity[f"ERP-{i}"] for i in range(10)} & set(queued)
