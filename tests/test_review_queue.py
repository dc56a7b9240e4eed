"""The steward's queue workflow over HTTP (issue 16): search, sort, claim/assign, save &
next, bulk confirm, and the likely duplicate of a queued singleton.

Each test works on its own copy of the store from a real `er dedup` (test_review), drives
the app through its pages and forms, and leaves a store that passes `er store verify`.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli
from test_review import (  # noqa: F401
    client_for,
    form_tokens,
    members,
    q,
    review_store_template,
    store,
)

from resolution.review.app import create_app


@pytest.fixture(autouse=True)
def verified(store):  # noqa: F811
    yield
    run_cli("store", "verify", "--store", store)


def _rows(page: str) -> list[str]:
    """The entity IDs of the queue page's rows, in order."""
    return re.findall(r'<td class="mono"><a href="/entity/([^"]+)">', page)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _shown(page: str) -> int:
    return int(re.search(r'<b[^>]*>(\d+)</b> 符合筛选', page).group(1))


def _default_order(store, where="true", params=None):  # noqa: F811
    return [r[0] for r in q(store, f"""
        SELECT q.entity_id FROM review_queue q JOIN entities e USING (entity_id) WHERE {where}
        ORDER BY q.priority DESC NULLS LAST, q.cluster_confidence, q.record_count DESC,
                 len(e.source_systems) DESC,
                 q.entity_id""", params)]


def _queued_record(store, column):  # noqa: F811
    """(entity, record, raw value, key) of a queued entity's member with `column` set."""
    return q(store, f"""
        SELECT c.entity_id, r.record_id, r.{column}, r.{column}_key
        FROM review_queue q JOIN crosswalk c USING (entity_id) JOIN records r USING (record_id)
        WHERE r.{column}_key IS NOT NULL ORDER BY r.record_id LIMIT 1""")[0]


# --- search ---------------------------------------------------------------------------


def test_queue_search_finds_names_phones_identifiers_and_record_ids(store):  # noqa: F811
    c = client_for(store, "wang")
    total = _shown(c.get("/queue").text)
    eid, rid, _raw, key = _queued_record(store, "mobile")
    mobile = key.removeprefix("+86")
    # typed with +86 and spaces: the standardized key still matches
    typed = f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    page = c.get("/queue", params={"q": typed}).text
    assert eid in _rows(page) and _shown(page) < total
    assert rid in page  # the matched member record is named
    # a record ID by its start, any case; a name by a part of it
    assert eid in _rows(c.get("/queue", params={"q": rid[:-1].lower()}).text)
    name = q(store, "SELECT customer_name FROM records WHERE record_id = ?", [rid])[0][0]
    assert eid in _rows(c.get("/queue", params={"q": name[1:4]}).text)
    for column in ("uscc", "id_card"):
        eid_x, _rid, _raw, key_x = _queued_record(store, column)
        spaced = f"{key_x[:6]}-{key_x[6:]}".lower()  # separators and case do not matter
        assert eid_x in _rows(c.get("/queue", params={"q": spaced}).text), column
    # a search keeps the other filters and finds nothing where nothing matches
    assert _rows(c.get("/queue", params={"q": "不存在的客户名称XYZ"}).text) == []


def test_a_viewer_searches_too_but_sees_the_match_masked(store):  # noqa: F811
    eid, rid, raw, key = _queued_record(store, "mobile")
    mobile = key.removeprefix("+86")
    viewer = client_for(store, "zhao")
    typed = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    if typed == raw:  # typed unlike the stored value, which the search box would echo
        typed = f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    page = viewer.get("/queue", params={"q": typed}).text
    assert eid in _rows(page)
    matched = re.search(r'class="small muted matched">(.*?)</div>', page, re.S).group(1)
    assert f"{mobile[:3]}****{mobile[-4:]}" in matched
    assert mobile not in page and raw not in page and key not in page
    assert 'name="entity"' not in page and "/queue/claim" not in page  # no steward forms


# --- sort -----------------------------------------------------------------------------


def test_queue_sorts_by_any_column_stably_across_pages_and_searches(store):  # noqa: F811
    c = client_for(store, "wang")
    default = _default_order(store)
    assert _rows(c.get("/queue").text) == default[:50]  # the default order is unchanged
    # by name, ties broken by the default order: page 1 and 2 are one ordered list
    by_name = [r[0] for r in q(store, """
        SELECT q.entity_id FROM review_queue q JOIN entities e USING (entity_id)
        ORDER BY e.customer_name NULLS LAST, q.priority DESC NULLS LAST, q.cluster_confidence,
                 q.record_count DESC,
                 len(e.source_systems) DESC, q.entity_id""")]
    first = c.get("/queue", params={"sort": "name"}).text
    assert _rows(first) == by_name[:50]
    nxt = html.unescape(re.search(r'<a href="([^"]+)">下一页', first).group(1))
    assert "sort=name" in nxt and "dir=asc" in nxt
    assert _rows(c.get(nxt).text) == by_name[50:100]
    # the header link of the sorted column turns the order around
    assert "sort=name&amp;dir=desc" in first
    desc = c.get("/queue", params={"sort": "records", "dir": "desc"}).text
    counts = [r[0] for r in q(store, "SELECT record_count FROM review_queue WHERE "
                                     "list_contains(?, entity_id)", [_rows(desc)])]
    assert sorted(counts, reverse=True) == [
        dict(q(store, "SELECT entity_id, record_count FROM review_queue"))[e] for e in _rows(desc)]
    for col in ("confidence", "name", "records", "sources", "reason", "entity", "holder"):
        assert f'data-sort="{col}"' in first, col  # every header sorts
    # a search from the sorted page keeps the sort (the form carries it)
    assert 'name="sort" value="records"' in desc and 'name="dir" value="desc"' in desc


# --- claims ---------------------------------------------------------------------------


def _claim(c, **fields):
    page = c.get("/queue").text
    return c.post("/queue/claim", data={"csrf": _csrf(page), **fields}, follow_redirects=False)


def test_claims_show_filter_audit_and_keep_others_from_deciding(store):  # noqa: F811
    e1, e2 = _default_order(store)[:2]
    wang, li, boss = client_for(store, "wang"), client_for(store, "li"), client_for(store, "boss")
    assert _claim(wang, claim=e1).status_code == 303
    page = wang.get("/queue").text
    row = re.search(rf'<tr data-entity="{e1}">.*?</tr>', page, re.S).group(0)
    assert '<span class="who">wang</span>' in row
    assert _rows(wang.get("/queue", params={"claim": "mine"}).text) == [e1]
    assert e1 not in _rows(wang.get("/queue", params={"claim": "unclaimed"}).text)
    assert _rows(li.get("/queue", params={"claim": "mine"}).text) == []
    # audited as a decision, which is not what "undo" would revert
    assert q(store, "SELECT who, action, entity_id FROM decisions") == [("wang", "claim", e1)]
    assert 'id="btn-undo"' not in wang.get(f"/entity/{e1}").text

    # another steward sees the entity but a decision on it is refused, nothing applied
    other = li.get(f"/entity/{e1}")
    assert other.status_code == 200
    csrf, version = form_tokens(other.text)
    r = li.post(f"/entity/{e1}/confirm", data={"csrf": csrf, "version": version},
                follow_redirects=False)
    assert r.status_code == 409 and "wang" in r.text and "认领" in r.text
    assert q(store, "SELECT count(*) FROM decisions WHERE action = 'confirm'") == [(0,)]
    assert _claim(li, claim=e1).status_code == 409  # nor can they take it over
    assert _claim(li, release=e1).status_code == 409
    assert _claim(li, assign=e1, **{f"to_{e1}": "li"}).status_code == 400  # not an admin

    # an admin assigns another entity to li, and reassigns wang's to li
    assert _claim(boss, assign=e2, **{f"to_{e2}": "li"}).status_code == 303
    assert _claim(boss, assign=e1, **{f"to_{e1}": "li"}).status_code == 303
    assert sorted(_rows(li.get("/queue", params={"claim": "mine"}).text)) == sorted([e1, e2])
    assert "分配人 boss" in li.get("/queue").text
    assert q(store, "SELECT who, action, entity_id, comment FROM decisions "
                    "ORDER BY decided_at, decision_id")[1:] == [
        ("boss", "claim", e2, "分配给 li (assigned to li)"),
        ("boss", "claim", e1, "分配给 li (assigned to li)")]
    # now the holder decides; the claim ends with the entity leaving the queue
    csrf, version = form_tokens(li.get(f"/entity/{e1}").text)
    assert li.post(f"/entity/{e1}/confirm", data={"csrf": csrf, "version": version},
                   follow_redirects=False).status_code == 303
    assert _rows(li.get("/queue", params={"claim": "mine"}).text) == [e2]
    # li releases e2; it is unclaimed again
    assert _claim(li, release=e2).status_code == 303
    assert e2 in _rows(wang.get("/queue", params={"claim": "unclaimed"}).text)


# --- save & next ------------------------------------------------------------------------


def test_save_and_next_records_the_decision_and_opens_the_next_entry_of_the_view(store):  # noqa: F811
    c = client_for(store, "wang")
    view = {"reason": "near", "sort": "entity", "dir": "desc"}
    rows = _rows(c.get("/queue", params=view).text)
    assert len(rows) >= 4
    e1, e2, e3, e4 = rows[:4]

    def save_and_next(eid):
        csrf, version = form_tokens(c.get(f"/entity/{eid}").text)
        return c.post(f"/entity/{eid}/confirm",
                      data={"csrf": csrf, "version": version, "next": "1"},
                      follow_redirects=False)

    r = save_and_next(e1)
    assert r.status_code == 303 and r.headers["location"] == f"/entity/{e2}"
    assert q(store, "SELECT who, action, entity_id FROM decisions WHERE action = 'confirm'") == [
        ("wang", "confirm", e1)]
    assert e1 in c.get(r.headers["location"]).text  # the flash says what was done where
    # someone else holds e3: "next" passes over it
    assert _claim(client_for(store, "li"), claim=e3).status_code == 303
    assert save_and_next(e2).headers["location"] == f"/entity/{e4}"
    # the plain confirm button still stays on the entity
    csrf, version = form_tokens(c.get(f"/entity/{e4}").text)
    r = c.post(f"/entity/{e4}/confirm", data={"csrf": csrf, "version": version},
               follow_redirects=False)
    assert r.headers["location"] == f"/entity/{e4}"
    assert q(store, "SELECT count(*) FROM decisions WHERE action = 'confirm'") == [(3,)]


# --- bulk confirm -----------------------------------------------------------------------


def test_bulk_confirm_asks_first_then_confirms_each_and_lists_the_skipped(store):  # noqa: F811
    c = client_for(store, "wang")
    page = c.get("/queue", params={"sort": "records", "dir": "desc"}).text
    boxes = dict(b.split(":") for b in re.findall(r'name="entity" value="([^"]+)"', page))
    sizes = dict(q(store, "SELECT entity_id, record_count FROM review_queue"))
    stale = next(e for e in boxes if sizes[e] >= 2)  # one a steward can split
    ok1, ok2, held = [e for e in boxes if e != stale][:3]
    chosen = [f"{e}:{boxes[e]}" for e in (ok1, ok2, stale, held)]
    csrf = _csrf(page)
    # the first post only asks: the count and the entities, nothing applied yet
    ask = c.post("/queue/confirm", data={"csrf": csrf, "entity": chosen})
    assert ask.status_code == 200 and 'id="bulk-count">4<' in ask.text
    assert all(b in ask.text for b in chosen)
    assert q(store, "SELECT count(*) FROM decisions") == [(0,)]
    # meanwhile li changes one of them and claims another
    li = client_for(store, "li")
    li_csrf, li_version = form_tokens(li.get(f"/entity/{stale}").text)
    assert li.post(f"/entity/{stale}/split", data={
        "csrf": li_csrf, "version": li_version, "record_ids": members(store, stale)[:1]},
        follow_redirects=False).status_code == 303
    assert _claim(li, claim=held).status_code == 303
    done = c.post("/queue/confirm", data={"csrf": _csrf(ask.text), "entity": chosen, "go": "1",
                                          "comment": "批量"})
    assert done.status_code == 200
    assert 'id="done-count">2<' in done.text and 'id="skipped-count">2<' in done.text
    skipped = dict(re.findall(r'<li data-entity="([^"]+)">.*?class="refusal-inline">(.*?)</span>',
                              done.text, re.S))
    assert set(skipped) == {stale, held}
    assert "请刷新" in skipped[stale] and "li" in skipped[held]
    assert sorted(q(store, "SELECT entity_id, who, comment FROM decisions "
                           "WHERE action = 'confirm'")) == sorted(
        [(ok1, "wang", "批量"), (ok2, "wang", "批量")])
    assert q(store, "SELECT count(*) FROM review_queue WHERE list_contains(?, entity_id)",
             [[ok1, ok2]]) == [(0,)]
    # nothing chosen, or a viewer: refused
    assert c.post("/queue/confirm", data={"csrf": csrf}).status_code == 400
    viewer = client_for(store, "zhao")
    assert viewer.post("/queue/confirm", data={"csrf": _csrf(viewer.get("/queue").text),
                                               "entity": chosen, "go": "1"}).status_code == 403


# --- the likely duplicate of a possible-duplicate entry --------------------------------


def test_a_possible_duplicate_entry_names_and_links_the_likely_duplicate(store):  # noqa: F811
    c = client_for(store, "zhao")
    page = c.get("/queue", params={"reason": "near"}).text
    # the first singleton queued as a possible duplicate (the queue starts with them)
    first = _default_order(store, "q.reason LIKE '%存在可能重复%' AND q.record_count = 1")[0]
    assert first in _rows(page)
    row = re.search(rf'<tr data-entity="{first}">.*?</tr>', page, re.S).group(0)
    rec = members(store, first)[0]
    other_rec, prob = q(store, """
        SELECT CASE WHEN record_id_l = $r THEN record_id_r ELSE record_id_l END, match_probability
        FROM pairs WHERE $r IN (record_id_l, record_id_r)
        ORDER BY match_probability DESC, 1 DESC LIMIT 1""", {"r": rec})[0]
    other = q(store, "SELECT entity_id FROM crosswalk WHERE record_id = ?", [other_rec])[0][0]
    dupe = re.search(r'class="dupe">(.*?)</div>', row, re.S).group(1)
    assert f'href="/entity/{other}"' in dupe and other_rec in dupe
    assert f"{prob * 100:.1f}%" in dupe


def test_a_likely_duplicate_marked_different_gives_way_to_the_next_on_the_kept_page(
        store):  # noqa: F811
    """The app keeps the scored pairs between decisions (only a job changes them); what a
    decision changes (here a cannot-link) still shows on the next queue page."""
    # a record alone, queued as a possible duplicate, with two pairs leaving it
    rec, eid, best, best_entity, second, second_entity = q(store, """
        WITH s AS (SELECT x.record_id, x.entity_id FROM review_queue q
                   JOIN crosswalk x USING (entity_id)
                   WHERE q.reason LIKE '%存在可能重复%' AND q.record_count = 1),
        p AS (SELECT s.record_id, s.entity_id,
                     CASE WHEN p.record_id_l = s.record_id THEN p.record_id_r
                          ELSE p.record_id_l END AS other, p.match_probability AS prob
              FROM s JOIN pairs p ON s.record_id IN (p.record_id_l, p.record_id_r)),
        o AS (SELECT p.*, x.entity_id AS other_entity,
                     row_number() OVER (PARTITION BY p.record_id
                                        ORDER BY prob DESC, other DESC) AS k
              FROM p JOIN crosswalk x ON x.record_id = p.other)
        SELECT a.record_id, a.entity_id, a.other, a.other_entity, b.other, b.other_entity
        FROM o a JOIN o b ON a.record_id = b.record_id AND a.k = 1 AND b.k = 2
        WHERE a.prob > b.prob ORDER BY a.record_id LIMIT 1""")[0]
    c = _held_client(store)
    try:
        def dupe() -> str:
            page = c.get("/queue", params={"q": eid}).text
            row = re.search(rf'<tr data-entity="{eid}">.*?</tr>', page, re.S).group(0)
            return re.search(r'class="dupe">(.*?)</div>', row, re.S).group(1)

        assert f'href="/entity/{best_entity}"' in dupe() and best in dupe()
        csrf, version = form_tokens(c.get(f"/entity/{best_entity}").text)
        r = c.post(f"/entity/{best_entity}/different", data={
            "csrf": csrf, "version": version, "record_a": best, "record_b": rec},
            follow_redirects=False)
        assert r.status_code == 303, r.text[:300]
        now = dupe()
        assert best not in now
        assert f'href="/entity/{second_entity}"' in now and second in now
    finally:
        c.app.state.store.close()


# --- the queue page kept between requests (StoreAccess.memo) ----------------------------


def _held_client(store):  # noqa: F811
    """A steward's client of an app that keeps the store open between requests (as
    `er review serve --hold-store` does), so the queue page is kept between them."""
    from fastapi.testclient import TestClient
    from test_review import CONFIG, login

    c = TestClient(create_app(store, CONFIG, hold=30))
    assert login(c, "wang").status_code == 303
    return c


def test_a_decision_shows_at_once_on_the_kept_queue_page(store):  # noqa: F811
    c = _held_client(store)
    try:
        page = c.get("/queue").text
        first, shown = _rows(page)[0], _shown(page)
        csrf, version = form_tokens(c.get(f"/entity/{first}").text)
        r = c.post(f"/entity/{first}/confirm", data={"csrf": csrf, "version": version},
                   follow_redirects=False)
        assert r.status_code == 303, r.text[:300]
        after = c.get("/queue").text
        assert first not in _rows(after) and _shown(after) == shown - 1
    finally:
        c.app.state.store.close()


def test_a_job_committed_while_the_app_runs_shows_on_the_kept_queue_page(
        store, tmp_path, demo_files, trained_model):  # noqa: F811
    c = _held_client(store)
    try:
        shown = _shown(c.get("/queue").text)
        # a job in another process that queues fewer entities (a budget of half the
        # queue): it waits for the app to let go of the store, commits, and the app opens
        # it again
        from test_review import CONFIG

        config = tmp_path / "config.yaml"
        text = CONFIG.read_text("utf-8")
        assert "  budget: null" in text
        config.write_text(text.replace("  budget: null", f"  budget: {shown // 2}"), "utf-8")
        customers, _ = demo_files
        job = subprocess.run(
            [sys.executable, "-m", "resolution.cli", "dedup", "--config", str(config),
             "--model", trained_model, "--input", str(customers), "--out",
             str(tmp_path / "rerun"), "--store", str(store)],
            cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300,
            check=False)
        assert job.returncode == 0, job.stdout[-1000:] + job.stderr[-2000:]
        queued = q(store, "SELECT count(*) FROM review_queue")[0][0]
        assert queued != shown
        assert _shown(c.get("/queue").text) == queued
    finally:
        c.app.state.store.close()
