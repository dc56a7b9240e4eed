"""The entity page's workflow over HTTP (issue 16): merge and move shown before they are
made, with an explicit override of the engine's guard; a steward's pinned golden value
that survives later runs; the audit log paged, in words, with before → after values;
Chinese error pages for every status.

Each test works on its own copy of the review store (test_review) and ends with
`er store verify` on it.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import CONFIG, run_cli
from test_review import (  # noqa: F401
    TestClient,
    client_for,
    form_tokens,
    login,
    members,
    multi_record_entity,
    q,
    review_store_template,
    store,
)

from resolution.review.app import create_app


@pytest.fixture(autouse=True)
def verified(store):  # noqa: F811
    yield
    run_cli("store", "verify", "--store", store)


def guarded_pair(store):  # noqa: F811
    """Two entities the engine split apart because their records hold different valid
    USCCs or ID cards or name different branches: (entity, other, the guard's reason)."""
    rows = q(store, """SELECT entity_ids, reason FROM cluster_splits
                       WHERE reason LIKE '%统一社会信用代码%' OR reason LIKE '%门店%'
                       ORDER BY records, component_entity_id""")
    cols = ("uscc_key", "id_card_key", "name_branch")

    def values(eid):
        found = q(store, f"SELECT {', '.join(cols)} FROM records JOIN crosswalk "
                         "USING (record_id) WHERE entity_id = ?", [eid])
        return [{r[i] for r in found if r[i] is not None} for i in range(len(cols))]

    for ids, reason in rows:
        for a, b in zip(ids, ids[1:]):
            if any(x and y and x != y for x, y in zip(values(a), values(b))):
                return a, b, reason
    raise AssertionError("the demo store has no guard split")


def test_merge_is_previewed_and_overriding_the_guard_needs_the_box_and_is_audited(store):  # noqa: F811
    c = client_for(store, "wang")
    a, b, _reason = guarded_pair(store)
    recs_a, recs_b = members(store, a), members(store, b)
    r = c.get(f"/entity/{a}/preview", params={"kind": "merge", "target": b})
    assert r.status_code == 200, r.text[:300]
    page = r.text
    # the resulting golden record, the target's records beside the joining ones, evidence
    assert "操作后的黄金记录" in page and all(x in page for x in recs_a + recs_b)
    assert "先验" in page or "模型未对这些记录打分" in page
    # the engine's reason and the box that overrules it; nothing written by looking
    assert "系统曾因以下原因将这些记录分开" in page and 'name="override"' in page
    assert q(store, "SELECT count(*) FROM decisions") == [(0,)]
    csrf, version = form_tokens(page)
    target = re.search(rf'name="target" value="({b}:[0-9a-f]+)"', page).group(1)
    form = {"csrf": csrf, "version": version, "target": target}
    r = c.post(f"/entity/{a}/merge", data=form, follow_redirects=False)
    assert r.status_code == 400 and "推翻系统拆分" in r.text and f'href="/entity/{a}"' in r.text
    assert q(store, "SELECT count(*) FROM decisions") == [(0,)]
    r = c.post(f"/entity/{a}/merge", data=form | {"override": "1"}, follow_redirects=False)
    assert r.status_code == 303
    assert len({x[0] for x in q(store, "SELECT entity_id FROM crosswalk WHERE "
                                      "list_contains(?, record_id)", [recs_a + recs_b])}) == 1
    (after,) = q(store, "SELECT after FROM decisions WHERE action = 'merge'")[0]
    assert json.loads(after)["override"]
    assert "推翻系统拆分" in c.get("/audit").text
    # a move into an entity the guard does not object to: preview, then no box
    x = multi_record_entity(store)
    y = q(store, "SELECT e.entity_id FROM entities e WHERE e.record_count = 1 AND "
                 "e.entity_id NOT IN (SELECT entity_id FROM crosswalk WHERE "
                 "list_contains(?, record_id)) ORDER BY e.entity_id LIMIT 1",
          [members(store, x) + recs_a + recs_b])[0][0]
    rec = members(store, x)[0]
    page = c.get(f"/entity/{x}/preview", params={"kind": "move", "target": y,
                                               "record_id": rec}).text
    if "系统曾因以下原因" not in page:
        assert 'name="override"' not in page
        csrf, version = form_tokens(page)
        target = re.search(rf'name="target" value="({y}:[0-9a-f]+)"', page).group(1)
        assert c.post(f"/entity/{x}/move", data={"csrf": csrf, "version": version,
                                                 "target": target, "record_id": rec},
                      follow_redirects=False).status_code == 303
        assert rec in members(store, y)


def test_a_pinned_value_survives_decisions_and_runs_until_unpinned(
    store, demo_files, trained_model, tmp_path  # noqa: F811
):
    c = client_for(store, "wang")
    eid = multi_record_entity(store, 3)
    recs = members(store, eid)
    before = q(store, "SELECT customer_name FROM entities WHERE entity_id = ?", [eid])[0][0]
    csrf, version = form_tokens(c.get(f"/entity/{eid}").text)
    pinned = before + "（总部）"
    r = c.post(f"/entity/{eid}/pin", data={"csrf": csrf, "version": version,
                                           "field": "customer_name", "value": pinned,
                                           "comment": "客户来函确认全称"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:400]
    golden = q(store, "SELECT customer_name, lineage.customer_name.rule FROM entities "
                      "WHERE entity_id = ?", [eid])
    assert golden == [(pinned, "steward")]
    page = c.get(f"/entity/{eid}").text
    assert "数据管理员固定" in page and "客户来函确认全称" in page
    audit = c.get("/audit").text
    assert "固定值" in audit and before in audit and pinned in audit

    # a split that takes one record away: the pin stays with the part holding most of them
    csrf, version = form_tokens(page)
    assert c.post(f"/entity/{eid}/split", data={"csrf": csrf, "version": version,
                                                "record_ids": [recs[0]]},
                  follow_redirects=False).status_code == 303
    new_id = q(store, "SELECT entity_id FROM crosswalk WHERE record_id = ?", [recs[0]])[0][0]
    assert q(store, "SELECT customer_name FROM entities WHERE entity_id = ?", [eid]) == [(pinned,)]
    assert q(store, "SELECT lineage.customer_name.rule FROM entities WHERE entity_id = ?",
             [new_id]) != [("steward",)]

    # a later batch run into the same store keeps it on the entity of those records
    customers, _ = demo_files
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", customers,
            "--out", tmp_path / "rerun", "--store", store)
    run_cli("store", "verify", "--store", store)
    holder = q(store, "SELECT entity_id FROM crosswalk WHERE record_id = ?", [recs[1]])[0][0]
    assert q(store, "SELECT customer_name, lineage.customer_name.rule FROM entities "
                    "WHERE entity_id = ?", [holder]) == [(pinned, "steward")]

    # unpinned (audited), the field follows the rules again
    page = c.get(f"/entity/{holder}").text
    csrf, version = form_tokens(page)
    pin_id = re.search(r'name="pin_id" value="([^"]+)"', page).group(1)
    assert c.post(f"/entity/{holder}/unpin", data={"csrf": csrf, "version": version,
                                                   "pin_id": pin_id},
                  follow_redirects=False).status_code == 303
    value, rule = q(store, "SELECT customer_name, lineage.customer_name.rule FROM entities "
                           "WHERE entity_id = ?", [holder])[0]
    assert value != pinned and rule != "steward"
    assert q(store, "SELECT action FROM decisions ORDER BY decided_at DESC LIMIT 1") == [("unpin",)]
    assert q(store, "SELECT active FROM golden_pins") == [(False,)]


def test_audit_pages_through_every_row_keeps_filters_and_says_what_changed(store):  # noqa: F811
    c = client_for(store, "wang")
    eid = multi_record_entity(store)
    recs = members(store, eid)
    csrf, version = form_tokens(c.get(f"/entity/{eid}").text)
    assert c.post(f"/entity/{eid}/split", data={"csrf": csrf, "version": version,
                                                "record_ids": [recs[0]]},
                  follow_redirects=False).status_code == 303
    # 450 older comments by another steward
    q(store, """INSERT INTO decisions SELECT 'D-old-' || lpad(CAST(i AS VARCHAR), 3, '0'),
                TIMESTAMP '2024-01-01' + INTERVAL (i) MINUTE, 'li', 'comment', [], ?, NULL,
                NULL, NULL, '旧备注 ' || i, NULL FROM range(450) t(i)""", [eid])
    first = c.get("/audit", params={"who": "li"}).text
    assert "第 1 / 3 页，共 450 条" in first and "旧备注 449" in first and "旧备注 249" not in first
    nxt = re.search(r'href="([^"]+)" class="next"', first).group(1).replace("&amp;", "&")
    assert "who=li" in nxt and "page=2" in nxt
    second = c.get(nxt).text
    assert "旧备注 249" in second and "旧备注 449" not in second and "第 2 / 3 页" in second
    prev = re.search(r'href="([^"]+)" class="prev"', second).group(1).replace("&amp;", "&")
    assert "who=li" in prev and c.get(prev).text.count("旧备注") == first.count("旧备注")
    last = c.get("/audit", params={"who": "li", "page": "99"}).text
    assert "第 3 / 3 页" in last and re.search(r"旧备注 0\D", last) and "wang" not in last.split("<table")[1]
    # the split in words, with the golden values it changed
    page = c.get("/audit", params={"who": "wang"}).text
    row = page.split("<tbody>")[1]
    assert "must " not in row and "cannot " not in row
    assert "对记录标记为不同客户" in row and "新建实体" in row
    assert re.search(r'class="before">[^<]*</span> → <span class="after">', row)


def test_every_error_is_a_chinese_page_and_a_stale_refusal_links_back(store):  # noqa: F811
    c = client_for(store, "wang")
    eid = multi_record_entity(store)
    for method, path, status in (("GET", "/no/such/page", 404), ("GET", "/static/nope.css", 404),
                                 ("GET", f"/entity/{eid}/confirm", 405),
                                 ("DELETE", "/queue", 405)):
        r = c.request(method, path)
        assert r.status_code == status, path
        assert r.headers["content-type"].startswith("text/html"), path
        assert '"detail"' not in r.text and ("页面不存在" in r.text or "请求方式" in r.text), path
    # a stale page: 409 with the way back to the entity
    csrf, version = form_tokens(c.get(f"/entity/{eid}").text)
    ok = {"csrf": csrf, "version": version}
    assert c.post(f"/entity/{eid}/confirm", data=ok, follow_redirects=False).status_code == 303
    r = c.post(f"/entity/{eid}/confirm", data=ok, follow_redirects=False)
    assert r.status_code == 409 and f'href="/entity/{eid}"' in r.text and "返回实体" in r.text
    # an unexpected failure (a store missing a table the page reads): 500, a page, no traceback
    q(store, "DROP TABLE pairs")
    broken = TestClient(create_app(store, CONFIG), raise_server_exceptions=False)
    assert login(broken, "wang").status_code == 303
    r = broken.get(f"/entity/{eid}")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "服务器内部错误" in r.text and "Traceback" not in r.text and "pairs" not in r.text
    assert r.headers["x-frame-options"] == "DENY"
