"""Steward review: actions on a real store, the web app over HTTP, users, labels.

A store comes from a real `er dedup` on the shared demo data (conftest); each test works
on its own copy.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import shutil
import time
import warnings

import pytest
from conftest import CONFIG, run_cli

pytest.importorskip("fastapi")
with warnings.catch_warnings():  # Starlette suggests httpx2; httpx is what FastAPI documents
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from resolution import crypto
from resolution.config import load_config
from resolution.review import actions
from resolution.review.app import create_app
from resolution.review.store_access import StoreAccess

PASSWORD = "correct horse 1"


@pytest.fixture(scope="session")
def review_store_template(tmp_path_factory, demo_files, trained_model):
    """A store after one dedup job, with a steward, a viewer and an admin."""
    customers, _ = demo_files
    out = tmp_path_factory.mktemp("review-job")
    store = out / "store.duckdb"
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", customers,
            "--out", out, "--store", store)
    for name, role in (("wang", "steward"), ("li", "steward"), ("zhao", "viewer"),
                       ("boss", "admin")):
        add_user(store, name, role)
    return store


def add_user(store, name, role):
    from typer.testing import CliRunner

    from resolution.cli import app

    r = CliRunner().invoke(app, ["users", "add", name, "--role", role, "--store", str(store),
                                 "--password-stdin"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output


@pytest.fixture
def store(tmp_path, review_store_template):
    path = tmp_path / "store.duckdb"
    shutil.copy(review_store_template, path)
    return path


def q(store, sql, params=None):
    con = crypto.open_file(store)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def multi_record_entity(store, n=3):
    """A queued entity with at least n records (else any entity with n records)."""
    rows = q(store, f"""SELECT entity_id FROM review_queue WHERE record_count >= {n}
                        ORDER BY cluster_confidence, entity_id LIMIT 1""")
    rows = rows or q(store, f"SELECT entity_id FROM entities WHERE record_count >= {n} "
                            "ORDER BY entity_id LIMIT 1")
    return rows[0][0]


def members(store, eid):
    return [r[0] for r in q(store, "SELECT record_id FROM crosswalk WHERE entity_id = ? "
                                   "ORDER BY record_id", [eid])]


def login(client, name, password=PASSWORD):
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"csrf": token, "username": name, "password": password,
                                       "next": "/queue"}, follow_redirects=False)


def form_tokens(html):
    return (re.search(r'name="csrf" value="([^"]+)"', html).group(1),
            re.search(r'name="version" value="([^"]+)"', html).group(1))


def client_for(store, user=None):
    c = TestClient(create_app(store, CONFIG))
    if user:
        assert login(c, user).status_code == 303
    return c


# --- actions on the store -------------------------------------------------------------


def test_split_move_merge_different_update_the_store_and_feed_the_next_run(
    store, demo_files, trained_model, tmp_path
):
    cfg = load_config(CONFIG)
    access = StoreAccess(store)
    eid = multi_record_entity(store)
    recs = members(store, eid)
    with access.connect() as con:
        v = actions.entity_version(con, eid)
        d_split = actions.split(con, cfg, "wang", eid, v, [recs[0]], "不同门店")
    new_id = q(store, "SELECT entity_id FROM crosswalk WHERE record_id = ?", [recs[0]])[0][0]
    assert new_id != eid and members(store, eid) == recs[1:]
    # golden records recomputed from the members; lineage points inside the entity
    assert q(store, "SELECT record_count FROM entities WHERE entity_id = ?", [eid]) == [(len(recs) - 1,)]
    assert q(store, "SELECT record_count, lineage.customer_name.record_id FROM entities "
                    "WHERE entity_id = ?", [new_id]) in ([(1, recs[0])], [(1, None)])
    # out of the queue unless still below the review threshold (a split is a partial fix)
    uncertain = q(store, "SELECT entity_id FROM crosswalk WHERE entity_id IN (?, ?) GROUP BY 1 "
                         "HAVING min(membership_confidence) < ? ORDER BY 1",
                  [eid, new_id, cfg.thresholds.review])
    assert q(store, "SELECT entity_id FROM review_queue WHERE entity_id IN (?, ?) ORDER BY 1",
             [eid, new_id]) == uncertain
    ev = q(store, "SELECT event, entity_id, related_entity_ids, record_ids FROM entity_events "
                  "WHERE job_id = ?", [d_split])
    assert ("split", new_id, [eid], [recs[0]]) in ev
    assert q(store, "SELECT count(*) FROM entity_registry WHERE entity_id = ? AND retired_at IS NULL",
             [new_id]) == [(1,)]
    # the decision row: who, action, records, before/after, comment; and its constraints
    who, action, rids, before, after, note = q(
        store, "SELECT who, action, record_ids, before, after, comment FROM decisions "
               "WHERE decision_id = ?", [d_split])[0]
    assert (who, action, rids, note) == ("wang", "split", [recs[0]], "不同门店")
    assert json.loads(before)["membership"][recs[0]] == eid
    assert json.loads(after)["membership"][recs[0]] == new_id
    kinds = q(store, "SELECT kind, count(*) FROM constraints WHERE decision_id = ? AND active "
                     "GROUP BY 1", [d_split])
    assert kinds == [("cannot_link", len(recs) - 1)]

    # merge two other entities; move a record; mark two records of one entity different
    others = [r[0] for r in q(store, "SELECT entity_id FROM entities WHERE record_count = 1 "
                                     "AND entity_id <> ? ORDER BY entity_id LIMIT 2", [new_id])]
    with access.connect() as con:
        a, b = others
        d_merge = actions.merge(con, cfg, "li", a, actions.entity_version(con, a), b)
    survivor = q(store, "SELECT DISTINCT entity_id FROM crosswalk WHERE record_id IN "
                        "(SELECT unnest(record_ids) FROM decisions WHERE decision_id = ?)", [d_merge])
    merged = set(members(store, a) + members(store, b))
    assert len(merged) == 2 and len(survivor) == 1
    assert q(store, "SELECT count(*) FROM entity_registry WHERE retired_job = ?", [d_merge]) == [(1,)]

    with access.connect() as con:
        v = actions.entity_version(con, eid)
        actions.move(con, cfg, "wang", eid, v, recs[1], new_id)
    assert set(members(store, new_id)) == {recs[0], recs[1]}

    # the next batch run honours every decision (constraints)
    customers, _ = demo_files
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", customers,
            "--out", tmp_path / "rerun", "--store", store)
    ent = dict(q(store, "SELECT record_id, entity_id FROM crosswalk"))
    assert ent[recs[0]] == ent[recs[1]]
    assert all(ent[r] != ent[recs[0]] for r in recs[2:])
    pair = sorted(merged)
    assert ent[pair[0]] == ent[pair[1]]


def test_mark_different_inside_an_entity_separates_the_records(store):
    cfg = load_config(CONFIG)
    eid = multi_record_entity(store, 2)
    recs = members(store, eid)
    with StoreAccess(store).connect() as con:
        actions.different(con, cfg, "wang", eid, actions.entity_version(con, eid), recs[0], recs[-1])
    ent = dict(q(store, "SELECT record_id, entity_id FROM crosswalk WHERE list_contains(?, record_id)",
                 [recs]))
    assert ent[recs[0]] != ent[recs[-1]]
    assert q(store, "SELECT kind FROM constraints WHERE active AND record_id_l = ? AND record_id_r = ?",
             sorted([recs[0], recs[-1]])) == [("cannot_link",)]
    # every record still in exactly one entity, every entity has its golden record
    assert q(store, "SELECT count(*) FROM crosswalk") == q(store, "SELECT count(DISTINCT record_id) FROM crosswalk")
    assert q(store, "SELECT count(*) FROM (SELECT DISTINCT entity_id FROM crosswalk) c "
                    "ANTI JOIN entities USING (entity_id)") == [(0,)]


def test_confirm_then_undo_restores_queue_and_constraints(store):
    cfg = load_config(CONFIG)
    eid = multi_record_entity(store)
    n = len(members(store, eid))
    queued = q(store, "SELECT * FROM review_queue WHERE entity_id = ?", [eid])
    with StoreAccess(store).connect() as con:
        did = actions.confirm(con, cfg, "wang", eid, actions.entity_version(con, eid))
        assert actions.last_undoable(con, eid)["decision_id"] == did
        assert q_con(con, "SELECT needs_review, cluster_confidence FROM entities WHERE entity_id = ?",
                     [eid]) == [(False, 1.0)]
        assert q_con(con, "SELECT count(*) FROM constraints WHERE decision_id = ? AND kind = "
                          "'must_link'", [did]) == [(n * (n - 1) // 2,)]
        undo_id = actions.undo(con, cfg, "li", eid, actions.entity_version(con, eid), did)
        assert q_con(con, "SELECT * FROM review_queue WHERE entity_id = ?", [eid]) == queued
        assert q_con(con, "SELECT count(*) FROM constraints WHERE decision_id = ? AND active",
                     [did]) == [(0,)]
        assert q_con(con, "SELECT undone_by FROM decisions WHERE decision_id = ?", [did]) == [(undo_id,)]
        with pytest.raises(actions.ActionRefused):
            actions.undo(con, cfg, "li", eid, actions.entity_version(con, eid), did)


def q_con(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def test_export_labels_trains_with_labels_pairs(store, demo_files, tmp_path):
    cfg = load_config(CONFIG)
    eid = multi_record_entity(store)
    recs = members(store, eid)
    with StoreAccess(store).connect() as con:
        actions.confirm(con, cfg, "wang", eid, actions.entity_version(con, eid))
        other = multi_record_entity(store, 2) if multi_record_entity(store, 2) != eid else None
        if other:
            o = members(store, other)
            actions.different(con, cfg, "wang", other, actions.entity_version(con, other), o[0], o[1])
    out = tmp_path / "pairs.csv"
    r = run_cli("review", "export-labels", "--store", store, "--out", out)
    assert "labelled pairs" in r.output
    import pandas as pd

    labels = pd.read_csv(out, dtype=str)
    assert list(labels.columns) == ["record_id_l", "record_id_r", "is_match"]
    assert (labels.record_id_l < labels.record_id_r).all()
    assert set(labels.is_match) <= {"0", "1"} and "1" in set(labels.is_match)
    assert {tuple(sorted(recs[:2]))} <= set(zip(labels.record_id_l, labels.record_id_r))
    customers, _ = demo_files
    run_cli("train", "--config", CONFIG, "--input", customers, "--name", "review_labels",
            "--labels-pairs", out, "--calibration", "none", "--no-charts")


# --- the web app over HTTP ------------------------------------------------------------


def test_login_sessions_csrf_and_refusals_are_logged(store):
    c = client_for(store)
    r = c.get("/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    c.get("/login")
    r = c.post("/login", data={"username": "wang", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    r = login(c, "wang", "wrong password")
    assert r.status_code == 401
    assert login(c, "wang").status_code == 303
    page = c.get("/queue")
    total = q(store, "SELECT count(*) FROM review_queue")[0][0]
    assert page.status_code == 200 and f"<b>{total}</b>" in page.text
    # filters by reason, source and confidence narrow the list
    r = c.get("/queue", params={"reason": "near", "source": "CRM", "cmin": "0", "cmax": "0.5"})
    assert r.status_code == 200
    eid = multi_record_entity(store)
    _csrf, version = form_tokens(c.get(f"/entity/{eid}").text)
    r = c.post(f"/entity/{eid}/confirm", data={"csrf": "forged", "version": version},
               follow_redirects=False)
    assert r.status_code == 403
    reasons = [r[0] for r in q(store, "SELECT reason FROM access_log ORDER BY happened_at")]
    assert any("login failed" in x for x in reasons)
    assert sum("csrf" in x for x in reasons) == 2
    assert q(store, "SELECT count(*) FROM decisions") == [(0,)]
    # the English switch
    c.get("/lang/en?next=/queue")
    assert "left to review" in c.get("/queue").text


def test_viewer_sees_masked_data_and_cannot_act(store):
    eid = q(store, """SELECT c.entity_id FROM crosswalk c JOIN records r USING (record_id)
                      WHERE r.mobile_key IS NOT NULL GROUP BY 1 HAVING count(*) >= 2
                      ORDER BY 1 LIMIT 1""")[0][0]
    mobiles = [m for (m,) in q(store, "SELECT r.mobile FROM crosswalk c JOIN records r USING "
                                      "(record_id) WHERE c.entity_id = ? AND r.mobile IS NOT NULL",
                                      [eid])]
    keys = [m for (m,) in q(store, "SELECT r.mobile_key FROM crosswalk c JOIN records r USING "
                                   "(record_id) WHERE c.entity_id = ? AND r.mobile_key IS NOT NULL",
                                   [eid])]
    viewer = client_for(store, "zhao")
    page = viewer.get(f"/entity/{eid}").text
    assert re.search(r"1[3-9]\d\*{4}\d{4}", page)
    for m in mobiles + keys:
        assert m not in page
    assert "/split" not in page and "/confirm" not in page
    steward = client_for(store, "wang")
    assert keys[0] in steward.get(f"/entity/{eid}").text

    # acting anyway, with a valid session token and version, is refused and logged
    _csrf, version = form_tokens(steward.get(f"/entity/{eid}").text)
    viewer_csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    before = q(store, "SELECT entity_id FROM crosswalk ORDER BY record_id")
    r = viewer.post(f"/entity/{eid}/split", data={"csrf": viewer_csrf, "version": version,
                                                  "record_ids": members(store, eid)[:1]},
                    follow_redirects=False)
    assert r.status_code == 403
    assert viewer.get("/users").status_code == 403
    assert q(store, "SELECT entity_id FROM crosswalk ORDER BY record_id") == before
    log = q(store, "SELECT who, role, status, path FROM access_log WHERE who = 'zhao'")
    assert ("zhao", "viewer", 403, f"/entity/{eid}/split") in log and len(log) == 2


def test_steward_splits_sees_audit_and_csv_then_undoes(store):
    c = client_for(store, "wang")
    eid = multi_record_entity(store)
    recs = members(store, eid)
    queued = q(store, "SELECT * FROM review_queue WHERE entity_id = ?", [eid])
    golden = q(store, "SELECT * EXCLUDE (needs_review) FROM entities WHERE entity_id = ?", [eid])
    csrf, version = form_tokens(c.get(f"/entity/{eid}").text)
    r = c.post(f"/entity/{eid}/split", data={"csrf": csrf, "version": version,
                                             "record_ids": [recs[0]], "comment": "两个客户"},
               follow_redirects=False)
    assert r.status_code == 303
    page = c.get(f"/entity/{eid}").text
    assert "已完成" in page and f"<b>{len(recs) - 1}</b>" in page
    audit = c.get("/audit", params={"who": "wang", "action": "split"}).text
    assert "两个客户" in audit and recs[0] in audit
    csv_text = c.get("/audit.csv").text
    assert csv_text.startswith("\ufeffdecision_id,decided_at,who,action")
    assert "wang,split," + recs[0] in csv_text
    csrf, version = form_tokens(page)
    undo_id = re.search(r'name="decision_id" value="([^"]+)"', page).group(1)
    r = c.post(f"/entity/{eid}/undo", data={"csrf": csrf, "version": version,
                                            "decision_id": undo_id}, follow_redirects=False)
    assert r.status_code == 303
    assert members(store, eid) == recs
    assert q(store, "SELECT * FROM review_queue WHERE entity_id = ?", [eid]) == queued
    assert q(store, "SELECT * EXCLUDE (needs_review) FROM entities WHERE entity_id = ?",
             [eid]) == golden


def test_stale_page_is_refused_and_nothing_is_applied(store):
    wang, li = client_for(store, "wang"), client_for(store, "li")
    eid = multi_record_entity(store)
    recs = members(store, eid)
    w_csrf, w_version = form_tokens(wang.get(f"/entity/{eid}").text)
    l_csrf, l_version = form_tokens(li.get(f"/entity/{eid}").text)
    assert wang.post(f"/entity/{eid}/split", data={"csrf": w_csrf, "version": w_version,
                                                   "record_ids": [recs[0]]},
                     follow_redirects=False).status_code == 303
    n = q(store, "SELECT count(*) FROM decisions")
    r = li.post(f"/entity/{eid}/split", data={"csrf": l_csrf, "version": l_version,
                                              "record_ids": [recs[1]]}, follow_redirects=False)
    assert r.status_code == 409 and "请刷新后重试" in r.text and "reload" in r.text
    # the same request twice (a double click) is refused the same way
    r = wang.post(f"/entity/{eid}/split", data={"csrf": w_csrf, "version": w_version,
                                                "record_ids": [recs[0]]}, follow_redirects=False)
    assert r.status_code == 409
    assert q(store, "SELECT count(*) FROM decisions") == n
    assert q(store, "SELECT count(*) FROM access_log WHERE status = 409") == [(2,)]


def test_admin_manages_users_from_the_page(store):
    c = client_for(store, "boss")
    page = c.get("/users")
    assert page.status_code == 200 and "wang" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = c.post("/users", data={"csrf": csrf, "op": "add", "name": "sun", "password": "long enough 1",
                               "role": "steward"}, follow_redirects=False)
    assert r.status_code == 303
    assert login(client_for(store), "sun", "long enough 1").status_code == 303
    c.post("/users", data={"csrf": csrf, "op": "disable", "name": "wang"})
    assert login(client_for(store), "wang").status_code == 401
    assert client_for(store, "li").get("/users").status_code == 403


def _hold(path, seconds, ready):
    con = crypto.open_file(path)
    ready.set()
    time.sleep(seconds)
    con.close()


def test_app_waits_for_a_job_holding_the_store_then_says_busy(store):
    c = TestClient(create_app(store, CONFIG, wait=0.3))
    assert login(c, "wang").status_code == 303
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold, args=(store, 1.5, ready))
    holder.start()
    try:
        assert ready.wait(20)
        r = c.get("/queue")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "busy" in r.text
    finally:
        holder.join()
    assert c.get("/queue").status_code == 200
    # and the other way round: a job's store connection waits for the app's request
    from resolution.store import connect_store

    ready2 = ctx.Event()
    holder = ctx.Process(target=_hold, args=(store, 1.0, ready2))
    holder.start()
    assert ready2.wait(20)
    t0 = time.monotonic()
    con = connect_store(store, wait=20)
    con.close()
    holder.join()
    assert time.monotonic() - t0 < 15


def test_users_cli_hashes_passwords_and_never_takes_one_as_argument(tmp_path, review_store_template):
    store = tmp_path / "s.duckdb"
    shutil.copy(review_store_template, store)
    r = run_cli("users", "add", "x", "--role", "steward", "--store", store, "--password", "pw123456",
                expect=2)
    assert "No such option" in r.output or "no such option" in r.output.lower()
    add_user(store, "qian", "admin")
    salt, digest = q(store, "SELECT salt, password_hash FROM users WHERE name = 'qian'")[0]
    assert PASSWORD not in (salt + digest) and len(salt) == 32 and len(digest) == 64
    r = run_cli("users", "add", "qian", "--role", "viewer", "--store", store, "--password-stdin",
                expect=2)
    r = run_cli("users", "add", "zz", "--role", "boss", "--store", store, expect=2)
    assert "unknown role" in r.output
    assert "qian\tadmin" in run_cli("users", "list", "--store", store).output
    # without --password-stdin the password is asked for twice, hidden
    from typer.testing import CliRunner

    from resolution.cli import app

    r = CliRunner().invoke(app, ["users", "add", "sun", "--store", str(store)],
                           input="a long password\na long password\n")
    assert r.exit_code == 0 and "a long password" not in r.output
    assert login(client_for(store), "sun", "a long password").status_code == 303


def test_move_and_merge_through_search_refuse_a_target_that_changed(store):
    wang, li = client_for(store, "wang"), client_for(store, "li")
    a = multi_record_entity(store)
    recs = members(store, a)
    b = q(store, "SELECT entity_id FROM entities WHERE entity_id <> ? AND record_count = 1 "
                 "ORDER BY entity_id LIMIT 1", [a])[0][0]
    page = wang.get(f"/entity/{a}", params={"q": b}).text
    csrf, version = form_tokens(page)
    target = re.search(rf'name="target" value="({b}:[0-9a-f]+)"', page).group(1)
    # another steward confirms the target meanwhile: its version changes
    l_csrf, l_version = form_tokens(li.get(f"/entity/{b}").text)
    assert li.post(f"/entity/{b}/confirm", data={"csrf": l_csrf, "version": l_version},
                   follow_redirects=False).status_code == 303
    r = wang.post(f"/entity/{a}/merge", data={"csrf": csrf, "version": version, "target": target},
                  follow_redirects=False)
    assert r.status_code == 409 and b in r.text
    # reloaded, the move goes through
    page = wang.get(f"/entity/{a}", params={"q": b}).text
    csrf, version = form_tokens(page)
    target = re.search(rf'name="target" value="({b}:[0-9a-f]+)"', page).group(1)
    r = wang.post(f"/entity/{a}/move", data={"csrf": csrf, "version": version, "target": target,
                                             "record_id": recs[0]}, follow_redirects=False)
    assert r.status_code == 303
    assert set(members(store, b)) >= {recs[0]} and recs[0] not in members(store, a)
    # and a merge of what is left into the target
    page = wang.get(f"/entity/{a}", params={"q": b}).text
    csrf, version = form_tokens(page)
    target = re.search(rf'name="target" value="({b}:[0-9a-f]+)"', page).group(1)
    r = wang.post(f"/entity/{a}/merge", data={"csrf": csrf, "version": version, "target": target},
                  follow_redirects=False)
    assert r.status_code == 303
    survivor = q(store, "SELECT DISTINCT entity_id FROM crosswalk WHERE list_contains(?, record_id)",
                 [recs])
    assert len(survivor) == 1 and r.headers["location"] == f"/entity/{survivor[0][0]}"


def test_queue_says_when_decisions_were_taken_while_the_last_job_ran(store):
    c = client_for(store, "wang")
    assert "批处理作业运行期间" not in c.get("/queue").text
    q(store, """INSERT INTO decisions SELECT 'D-during', started_at + INTERVAL 1 SECOND, 'li',
                'split', ['X'], 'E0', NULL, NULL, NULL, NULL, NULL FROM jobs""")
    page = c.get("/queue").text
    assert "批处理作业运行期间" in page and q(store, "SELECT job_id FROM jobs")[0][0] in page


# --- security (issue 16, first part): an undo is bound to the entity it is posted from,
# the audit CSV never hands Excel a formula, pages carry the headers personal data needs


def _two_entities(store):
    rows = q(store, "SELECT entity_id FROM entities WHERE record_count >= 2 "
                    "ORDER BY entity_id LIMIT 2")
    return rows[0][0], rows[1][0]


def test_undo_is_bound_to_the_entity_it_is_posted_from(store):
    c = client_for(store, "wang")
    a, b = _two_entities(store)
    csrf, version = form_tokens(c.get(f"/entity/{b}").text)
    assert c.post(f"/entity/{b}/confirm", data={"csrf": csrf, "version": version},
                  follow_redirects=False).status_code == 303
    decision = q(store, "SELECT decision_id FROM decisions WHERE entity_id = ? AND action = "
                        "'confirm'", [b])[0][0]
    csrf, version = form_tokens(c.get(f"/entity/{a}").text)
    r = c.post(f"/entity/{a}/undo", data={"csrf": csrf, "version": version,
                                          "decision_id": decision}, follow_redirects=False)
    assert r.status_code == 400 and "does not concern" in r.text
    assert q(store, "SELECT undone_by FROM decisions WHERE decision_id = ?",
             [decision]) == [(None,)]


def test_audit_csv_writes_formulas_as_text(store):
    c = client_for(store, "wang")
    eid = multi_record_entity(store)
    csrf, version = form_tokens(c.get(f"/entity/{eid}").text)
    evil = '=HYPERLINK("http://example.invalid","点我")'
    assert c.post(f"/entity/{eid}/split", data={
        "csrf": csrf, "version": version, "record_ids": [members(store, eid)[0]],
        "comment": evil}, follow_redirects=False).status_code == 303
    text = c.get("/audit.csv").text
    assert "'=HYPERLINK(" in text
    assert not re.search(r'(^|,)"?=HYPERLINK', text, re.M)


def test_pages_carry_security_headers(store):
    c = client_for(store, "wang")
    for path in ("/login", "/queue", f"/entity/{multi_record_entity(store)}", "/audit"):
        r = c.get(path)
        assert r.status_code == 200, path
        h = r.headers
        assert "frame-ancestors 'none'" in h["content-security-policy"], path
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["cache-control"] == "no-store", path


# --- security (issue 16, sessions and login): logout and a changed password or a disabled
# user end sessions server-side, failed logins are throttled, a huge failed-login name is
# stored capped and never widens the users page


def test_a_cookie_copied_before_logout_is_signed_out(store):
    c = client_for(store, "wang")
    eid = multi_record_entity(store)
    csrf, version = form_tokens(c.get(f"/entity/{eid}").text)
    copied = dict(c.cookies)
    assert c.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    thief = TestClient(c.app, cookies=copied)
    r = thief.get("/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = thief.post(f"/entity/{eid}/comment", data={"csrf": csrf, "version": version,
                                                   "comment": "after logout"},
                   follow_redirects=False)
    assert r.status_code == 401
    assert q(store, "SELECT count(*) FROM decisions") == [(0,)]
    assert q(store, "SELECT count(*) FROM review_sessions WHERE user_name = 'wang' AND "
                    "revoked_at IS NULL") == [(0,)]


def test_disabling_a_user_or_changing_their_password_ends_their_sessions(store):
    wang, li = client_for(store, "wang"), client_for(store, "li")
    admin = client_for(store, "boss")
    csrf = re.search(r'name="csrf" value="([^"]+)"', admin.get("/users").text).group(1)
    for op in ("disable", "enable"):
        assert admin.post("/users", data={"csrf": csrf, "op": op, "name": "wang"},
                          follow_redirects=False).status_code == 303
    assert wang.get("/queue", follow_redirects=False).status_code == 303
    assert li.get("/queue").status_code == 200
    from typer.testing import CliRunner

    from resolution.cli import app

    r = CliRunner().invoke(app, ["users", "set-password", "li", "--store", str(store),
                                 "--password-stdin"], input="another horse 2\n")
    assert r.exit_code == 0, r.output
    assert li.get("/queue", follow_redirects=False).status_code == 303
    assert login(li, "li", "another horse 2").status_code == 303
    assert li.get("/queue").status_code == 200


def _from(store, address):
    return TestClient(create_app(store, CONFIG), client=(address, 50000))


def test_failed_logins_are_throttled_until_a_success_resets(store):
    c = _from(store, "10.0.0.1")
    for _ in range(5):
        assert login(c, "wang", "wrong password").status_code == 401
    r = login(c, "wang")  # the right password, refused
    assert r.status_code == 429
    assert "登录失败次数过多" in r.text and "Too many failed logins" in r.text
    assert 0 < int(r.headers["retry-after"]) <= 15 * 60
    assert c.get("/queue", follow_redirects=False).status_code == 303
    assert login(_from(store, "10.0.0.2"), "wang").status_code == 429  # from anywhere
    # another user is not locked out, and a success resets their count
    for _ in range(4):
        assert login(_from(store, "10.0.0.3"), "li", "wrong password").status_code == 401
    assert login(_from(store, "10.0.0.3"), "li").status_code == 303
    for _ in range(4):
        assert login(_from(store, "10.0.0.3"), "li", "wrong password").status_code == 401
    assert login(_from(store, "10.0.0.3"), "li").status_code == 303
    # one client trying many names is stopped too
    spray = _from(store, "10.0.0.4")
    codes = [login(spray, f"guess{i}", "wrong password").status_code for i in range(25)]
    assert codes[0] == 401 and codes[-1] == 429
    assert login(spray, "zhao").status_code == 429
    assert login(_from(store, "10.0.0.5"), "zhao").status_code == 303


def test_a_huge_failed_login_name_is_capped_and_the_users_page_wraps(store):
    c = client_for(store)
    huge = "A" * 100_000
    assert login(c, huge, "wrong password").status_code == 401
    (who,) = q(store, "SELECT who FROM access_log WHERE reason LIKE 'login failed%'")[0]
    assert len(who) <= 65 and who.startswith("A" * 60)
    page = client_for(store, "boss").get("/users")
    assert page.status_code == 200 and "A" * 100 not in page.text
    css = c.get("/static/style.css").text
    assert "overflow-wrap: anywhere" in css


# --- robustness and viewer privacy (issue 16): comments masked for viewers, no audit.csv
# for viewers, bad query values and oversized input give pages (not 500/JSON), and a
# partial fix keeps a still-uncertain entity in the queue

MOBILE, ID_CARD = "13812345678", "11010119900307123X"


def _post_comment(client, eid, text):
    csrf, _version = form_tokens(client.get(f"/entity/{eid}").text)
    return client.post(f"/entity/{eid}/comment", data={"csrf": csrf, "comment": text},
                       follow_redirects=False)


def test_viewer_sees_comments_masked_and_cannot_download_the_audit_csv(store):
    eid = multi_record_entity(store)
    wang = client_for(store, "wang")
    note = f"客户电话 {MOBILE}，身份证 {ID_CARD}"
    assert _post_comment(wang, eid, note).status_code == 303
    assert note in wang.get(f"/entity/{eid}").text and note in wang.get("/audit").text
    viewer = client_for(store, "zhao")
    for path in (f"/entity/{eid}", "/audit"):
        page = viewer.get(path).text
        assert MOBILE not in page and ID_CARD not in page, path
        assert "138****5678" in page and "110101********123X" in page, path
    r = viewer.get("/audit.csv")
    assert r.status_code == 403 and MOBILE not in r.text
    assert ("zhao", "viewer", 403, "/audit.csv") in q(
        store, "SELECT who, role, status, path FROM access_log")
    assert wang.get("/audit.csv").status_code == 200


def test_bad_query_values_and_oversized_input_give_pages_not_500(store):
    c = client_for(store, "wang")
    pages = max(1, -(-q(store, "SELECT count(*) FROM review_queue")[0][0] // 50))  # ceil
    for page in ("99999999999999999999", "abc", "-3", "1.5"):
        r = c.get("/queue", params={"page": page})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), page
    assert f"{pages} / {pages}" in c.get("/queue", params={"page": "99999999999999999999"}).text \
        or pages == 1
    for path in ("/audit", "/audit.csv"):
        for bad in ({"from": "2024-13-45"}, {"to": "yesterday"}, {"from": "99999-01-01"}):
            r = c.get(path, params=bad)
            assert r.status_code == 400 and "日期" in r.text and "date" in r.text, (path, bad)
            assert r.headers["content-type"].startswith("text/html")
    eid = multi_record_entity(store)
    r = _post_comment(c, eid, "长" * 2001)
    assert r.status_code == 400 and "2000" in r.text and "备注" in r.text
    assert q(store, "SELECT count(*) FROM decisions") == [(0,)]
    assert _post_comment(c, eid, "长" * 2000).status_code == 303
    r = _post_comment(c, eid, "x" * 1_100_000)
    assert r.status_code == 413 and "请求" in r.text and r.headers["content-type"].startswith(
        "text/html")
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    assert q(store, "SELECT count(*) FROM decisions") == [(1,)]


def test_a_partial_fix_keeps_an_entity_still_below_the_review_threshold_queued(store):
    threshold = load_config(CONFIG).thresholds.review
    eid, weakest = q(store, """SELECT q.entity_id, arg_min(c.record_id, c.membership_confidence)
                              FROM review_queue q JOIN crosswalk c USING (entity_id)
                              WHERE q.record_count >= 3 AND q.cluster_confidence < ?
                              GROUP BY q.entity_id, q.cluster_confidence
                              ORDER BY q.cluster_confidence, q.entity_id LIMIT 1""",
                     [threshold])[0]
    # split off a record that is not the weakest: what is left still has its weak link
    other = next(r for r in members(store, eid) if r != weakest)
    c = client_for(store, "wang")
    csrf, version = form_tokens(c.get(f"/entity/{eid}").text)
    assert c.post(f"/entity/{eid}/split", data={"csrf": csrf, "version": version,
                                                "record_ids": [other]},
                  follow_redirects=False).status_code == 303
    (conf,) = q(store, "SELECT min(membership_confidence) FROM crosswalk WHERE entity_id = ?",
                [eid])[0]
    assert conf < threshold
    assert q(store, "SELECT record_count, round(cluster_confidence, 6) FROM review_queue "
                    "WHERE entity_id = ?", [eid]) == [(len(members(store, eid)), round(conf, 6))]
    page = c.get(f"/entity/{eid}").text
    assert "不在待复核队列中" not in page
    # a confirm is the steward's word that the entity is right: it leaves the queue
    csrf, version = form_tokens(page)
    assert c.post(f"/entity/{eid}/confirm", data={"csrf": csrf, "version": version},
                  follow_redirects=False).status_code == 303
    assert q(store, "SELECT count(*) FROM review_queue WHERE entity_id = ?", [eid]) == [(0,)]


# --- lineage and masking agree with what the member table shows (issue 16)


def test_member_table_shows_values_the_standardizer_derived_and_masks_phones_alike(store):
    rows = q(store, """SELECT x.entity_id, r.province_std FROM records r
                       JOIN crosswalk x USING (record_id) JOIN entities e USING (entity_id)
                       WHERE r.province IS NULL AND r.province_std IS NOT NULL
                         AND e.record_count >= 2
                       ORDER BY x.entity_id LIMIT 1""")
    assert rows, "the demo store has records whose province came from the address"
    eid, province = rows[0]
    page = client_for(store, "wang").get(f"/entity/{eid}").text
    assert re.search(r'class="[^"]*derived[^"]*"[^>]*>' + re.escape(province) + "<sup>", page)
    # a landline written with its trunk 0 and the same number in E.164 mask alike
    rows = q(store, """SELECT x.entity_id, r.phone FROM records r JOIN crosswalk x USING (record_id)
                       JOIN entities e USING (entity_id)
                       WHERE regexp_full_match(r.phone, '0[1-9][0-9]{1,2}-[0-9]{7,8}')
                         AND e.phone = r.phone_key
                       ORDER BY x.entity_id LIMIT 1""")
    assert rows
    eid, raw = rows[0]
    digits = raw.replace("-", "")[1:]
    masked = f"{digits[:3]}****{digits[-4:]}"
    page = client_for(store, "zhao").get(f"/entity/{eid}").text
    assert page.count(masked) >= 2, masked  # the golden record and the member row
    trunk = f"0{digits[:2]}****{digits[-4:]}"  # the same number masked with its trunk 0
    assert trunk not in page, trunk
