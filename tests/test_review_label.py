"""The review app's "label pairs" page over HTTP (issue 17): the queue of `er label next`
one pair at a time, each answer recorded as `er label add` records it (an audited `label`
decision, 1/0 as must-/cannot-links, unsure in the decision only), exported by
`er review export-labels`; never the same pair twice, nor to two stewards at once.

Each test works on its own copy of the store from a real `er dedup` (test_review).
"""

from __future__ import annotations

import csv
import json
import re
import warnings

from conftest import CONFIG, run_cli
from test_review import (  # noqa: F401
    client_for,
    login,
    q,
    review_store_template,
    store,
)

from resolution.review.app import create_app
from resolution.review.mask import mask_value

with warnings.catch_warnings():  # as test_review: Starlette suggests httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PII = ("mobile", "phone", "id_card", "email")


def _read(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _shown(html: str) -> tuple[str, str] | None:
    found = re.search(r'data-pair="([^"~]+)~([^"]+)"', html)
    return (found.group(1), found.group(2)) if found else None


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _answer(client, page: str, answer: str, follow=False):
    l, r = _shown(page)
    return client.post("/label", data={"csrf": _csrf(page), "l": l, "r": r, "answer": answer},
                       follow_redirects=follow)


def _counts(store):  # noqa: F811
    return q(store, "SELECT (SELECT count(*) FROM constraints), (SELECT count(*) FROM decisions)")[0]


def test_label_page_asks_er_label_next_pairs_and_records_answers_like_er_label_add(
    store, tmp_path  # noqa: F811
):
    def first_asked() -> tuple[str, str]:
        ask = tmp_path / "ask.csv"
        run_cli("label", "next", "--store", store, "--n", "1", "--out", ask)
        row = _read(ask)[0]
        return row["record_id_l"], row["record_id_r"]

    wang = client_for(store, "wang")
    page = wang.get("/label")
    assert page.status_code == 200 and 'href="/label"' in page.text  # in the navigation
    assert _shown(page.text) == first_asked()  # the pair `er label next` asks first
    assert 'data-key="1"' in page.text and 'data-key="3"' in page.text
    assert "class=\"waterfall\"" in page.text  # the model's per-comparison evidence

    # same, different, unsure: each answer shows the next pair of the same queue
    answered: list[tuple[str, str]] = []
    for answer in ("1", "0", "unsure"):
        answered.append(_shown(page.text))
        r = _answer(wang, page.text, answer)
        assert r.status_code == 303 and r.headers["location"] == "/label"
        page = wang.get("/label")
        assert _shown(page.text) == first_asked() and _shown(page.text) not in answered
        assert answered[-1][0] in page.text  # the flash names the pair answered
    # one pair per comparison pattern first: the pairs asked came from three patterns
    patterns = [row[0] for row in (q(store, "SELECT " + " || ',' || ".join(
        f"coalesce(CAST({g} AS VARCHAR), '')" for (g,) in q(
            store, "SELECT column_name FROM (DESCRIBE pairs) WHERE column_name LIKE 'gamma_%'"))
        + " FROM pairs WHERE record_id_l = ? AND record_id_r = ?", list(p))[0] for p in answered)]
    assert len(set(patterns)) == 3

    rows = q(store, "SELECT who, action, record_ids, after, comment FROM decisions "
                    "ORDER BY decided_at, decision_id")
    assert [(w, a) for w, a, *_ in rows] == [("wang", "label")] * 3
    said = ("1 same, 0 different, 0 unsure", "0 same, 1 different, 0 unsure",
            "0 same, 0 different, 1 unsure")
    for (l, r), (*_, rids, after, comment), label, words in zip(answered, rows, (1, 0, None),
                                                                 said):
        assert rids == sorted([l, r])
        assert json.loads(after)["pairs"] == [[*sorted([l, r]), label]]
        assert comment.endswith(words)
    kinds = dict(((a, b), k) for a, b, k in q(
        store, "SELECT record_id_l, record_id_r, kind FROM constraints WHERE active"))
    assert kinds == {tuple(sorted(answered[0])): "must_link",
                     tuple(sorted(answered[1])): "cannot_link"}  # unsure: the decision only

    out = tmp_path / "labels.csv"
    run_cli("review", "export-labels", "--store", store, "--out", out)
    assert {(row["record_id_l"], row["record_id_r"]): row["is_match"] for row in _read(out)} \
        == {tuple(sorted(answered[0])): "1", tuple(sorted(answered[1])): "0"}

    # an answered pair is not asked again, on the page or by `er label next`
    again = tmp_path / "again.csv"
    run_cli("label", "next", "--store", store, "--n", "50", "--out", again)
    assert not {(row["record_id_l"], row["record_id_r"]) for row in _read(again)} & set(answered)
    # answering it again (a page left open) is refused and records nothing
    before = _counts(store)
    now = _shown(page.text)
    stale = page.text.replace(now[0], answered[0][0]).replace(now[1], answered[0][1])
    r = _answer(wang, stale, "0")
    assert r.status_code == 409 and _counts(store) == before
    run_cli("store", "verify", "--store", store)


def test_label_page_needs_a_steward_and_the_csrf_token_and_masks_for_viewers(store):  # noqa: F811
    viewer = client_for(store, "zhao")
    page = viewer.get("/label")
    assert page.status_code == 200 and 'data-key="1"' not in page.text
    l, r = _shown(page.text)
    cols = ", ".join(PII)
    values = {f: v for rid in (l, r) for f, v in zip(PII, q(
        store, f"SELECT {cols} FROM records WHERE record_id = ?", [rid])[0]) if v}
    assert values, "the pair shown has no personal data to mask; pick another check"
    for f, v in values.items():
        assert v not in page.text and mask_value(f, v) in page.text
    before = _counts(store)
    r_ = viewer.post("/label", data={"csrf": _csrf(page.text), "l": l, "r": r, "answer": "1"},
                     follow_redirects=False)
    assert r_.status_code == 403

    wang = client_for(store, "wang")
    page = wang.get("/label")
    assert all(v in page.text for v in values.values())  # a steward sees the data
    r_ = wang.post("/label", data={"l": l, "r": r, "answer": "1"}, follow_redirects=False)
    assert r_.status_code == 403  # no CSRF token
    r_ = _answer(wang, page.text, "yes")
    assert r_.status_code == 400
    anonymous = client_for(store)
    assert anonymous.get("/label", follow_redirects=False).status_code == 303  # to log in
    assert _counts(store) == before


def test_two_stewards_labelling_at_once_get_different_pairs_and_next_passes_one_over(store):  # noqa: F811
    app = create_app(store, CONFIG)  # one app, as stewards share one server
    wang, li = TestClient(app), TestClient(app)
    assert login(wang, "wang").status_code == 303 and login(li, "li").status_code == 303
    first = _shown(wang.get("/label").text)
    second = _shown(li.get("/label").text)
    assert first and second and first != second
    assert _shown(wang.get("/label").text) == first  # a reload keeps one's own pair

    # "next" passes over the pair for this session: wang gets another one, not li's
    page = wang.get("/label")
    r = wang.get(re.search(r'id="btn-next" href="([^"]+)"|href="([^"]+)" id="btn-next"',
                           page.text).group(2).replace("&amp;", "&"), follow_redirects=False)
    assert r.status_code == 303
    third = _shown(wang.get("/label").text)
    assert third not in (first, second)
    assert q(store, "SELECT count(*) FROM decisions") == [(0,)]  # passing over records nothing
    # li's answer reorders the queue, but the pair on wang's screen stays there until
    # wang answers it; then wang is shown neither li's pair nor the one passed over
    assert _answer(li, li.get("/label").text, "1").status_code == 303
    page = wang.get("/label")
    assert _shown(page.text) == third
    assert _answer(wang, page.text, "0").status_code == 303
    assert _shown(wang.get("/label").text) not in (first, second, third)
    assert q(store, "SELECT who, action FROM decisions ORDER BY decided_at") == [
        ("li", "label"), ("wang", "label")]


def _exported(store, tmp_path) -> dict[tuple[str, str], str]:  # noqa: F811
    out = tmp_path / "export.csv"
    run_cli("review", "export-labels", "--store", store, "--out", out)
    return {(row["record_id_l"], row["record_id_r"]): row["is_match"] for row in _read(out)}


def _constraints_of(store, decision_id) -> dict[tuple[str, str], str]:  # noqa: F811
    return {(a, b): "1" if k == "must_link" else "0" for a, b, k in q(
        store, "SELECT least(record_id_l, record_id_r), greatest(record_id_l, record_id_r), kind "
               "FROM constraints WHERE active AND decision_id = ?", [decision_id])}


def test_confirm_split_different_merge_and_move_count_as_labels(store, tmp_path):  # noqa: F811
    """Issue 17: every steward decision is a label `er review export-labels` exports: a
    confirm (also of a record alone queued for a possible duplicate the model scored
    below 0.5: it says the record is not the queue's "probably belongs with"), a split,
    a mark-different, a merge and a move."""
    from resolution.config import load_config
    from resolution.review import actions
    from resolution.review.store_access import StoreAccess

    cfg = load_config(CONFIG)
    access = StoreAccess(store)
    alone, other = q(store, """
        SELECT entity_id, other_entity_id FROM review_queue
        WHERE record_count = 1 AND kind = 'possible_missed_merge' AND wrong_probability < 0.5
          AND other_entity_id IS NOT NULL ORDER BY priority DESC, entity_id LIMIT 1""")[0]
    rid = q(store, "SELECT record_id FROM crosswalk WHERE entity_id = ?", [alone])[0][0]
    theirs = {r for (r,) in q(store, "SELECT record_id FROM crosswalk WHERE entity_id = ?",
                              [other])}
    scored = {tuple(sorted((a, b))) for a, b in q(
        store, "SELECT record_id_l, record_id_r FROM pairs WHERE record_id_l = ? "
               "OR record_id_r = ?", [rid, rid]) if {a, b} - {rid} <= theirs}
    assert scored  # the pairs that made the queue name the other entity
    big = q(store, "SELECT entity_id FROM review_queue WHERE record_count >= 3 "
                   "ORDER BY priority DESC, entity_id LIMIT 2")
    pair_ent = q(store, "SELECT entity_id FROM entities WHERE record_count = 2 "
                        "ORDER BY entity_id LIMIT 1")[0][0]
    singles = [r for (r,) in q(store, "SELECT entity_id FROM entities WHERE record_count = 1 "
                                      "AND entity_id NOT IN (?, ?) ORDER BY entity_id LIMIT 3",
                               [alone, other])]
    decided = {}
    with access.connect() as con:
        def v(e):
            return actions.entity_version(con, e)

        decided["confirm alone"] = actions.confirm(con, cfg, "wang", alone, v(alone))
        e1 = big[0][0]
        recs = actions.members(con, e1)
        decided["confirm"] = actions.confirm(con, cfg, "wang", e1, v(e1))
        e2 = big[1][0]
        recs2 = actions.members(con, e2)
        decided["split"] = actions.split(con, cfg, "wang", e2, v(e2), recs2[:2])
        pr = actions.members(con, pair_ent)
        decided["different"] = actions.different(con, cfg, "wang", pair_ent, v(pair_ent),
                                                 pr[0], pr[1])
        decided["merge"] = actions.merge(con, cfg, "wang", singles[0], v(singles[0]),
                                         singles[1], override=True)
        decided["move"] = actions.move(con, cfg, "wang", e1, v(e1), recs[0], singles[2],
                                       override=True)
    exported = _exported(store, tmp_path)
    for what, did in decided.items():
        labels = _constraints_of(store, did)
        assert labels, f"{what} wrote no label"
        assert all(exported.get(pair) == lab for pair, lab in labels.items()), what
    assert {p: exported.get(p) for p in scored} == {p: "0" for p in scored}
    assert "1" in set(exported.values()) and "0" in set(exported.values())
    run_cli("store", "verify", "--store", store)
