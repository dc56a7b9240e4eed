"""The steward's queue workflow in a real browser (Playwright, Debian's Chromium): search,
sort, claim, save & next, bulk confirm, the likely duplicate. One test per feature;
skipped like test_review_browser when Chromium or playwright is missing. Every test
leaves a store that passes `er store verify`.
"""

from __future__ import annotations

import pytest
from conftest import run_cli
from test_review import members, q, review_store_template  # noqa: F401
from test_review_browser import _login, browser, server  # noqa: F401


@pytest.fixture(autouse=True)
def verified(server):  # noqa: F811
    yield
    run_cli("store", "verify", "--store", server[1])


def _row_ids(page) -> list[str]:
    return page.locator("table.queue tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.entity)")


def _default_order(store, where="true"):
    return [r[0] for r in q(store, f"""
        SELECT q.entity_id FROM review_queue q JOIN entities e USING (entity_id) WHERE {where}
        ORDER BY q.priority DESC NULLS LAST, q.cluster_confidence, q.record_count DESC,
                 len(e.source_systems) DESC,
                 q.entity_id""")]


def test_steward_searches_the_queue_by_a_phone_typed_with_spaces(server, browser):  # noqa: F811
    base, store = server
    eid, rid, key = q(store, """
        SELECT c.entity_id, r.record_id, r.mobile_key FROM review_queue JOIN crosswalk c
        USING (entity_id) JOIN records r USING (record_id) WHERE r.mobile_key IS NOT NULL
        ORDER BY r.record_id LIMIT 1""")[0]
    m = key.removeprefix("+86")
    ctx, page = _login(browser, base, "wang")
    try:
        page.fill("#queue-q", f"+86 {m[:3]} {m[3:7]} {m[7:]}")
        page.press("#queue-q", "Enter")
        page.wait_for_url("**q=**")
        assert eid in _row_ids(page)
        assert rid in page.locator(f"tr[data-entity='{eid}'] .matched").inner_text()
    finally:
        ctx.close()


def test_steward_sorts_by_clicking_headers_and_pages_keep_the_sort(server, browser):  # noqa: F811
    base, store = server
    by_name = [r[0] for r in q(store, """
        SELECT q.entity_id FROM review_queue q JOIN entities e USING (entity_id)
        ORDER BY e.customer_name, q.priority DESC NULLS LAST, q.cluster_confidence,
                 q.record_count DESC,
                 len(e.source_systems) DESC, q.entity_id""")]
    ctx, page = _login(browser, base, "wang")
    try:
        assert _row_ids(page) == _default_order(store)[:50]
        page.click("th a[data-sort=name]")
        page.wait_for_url("**sort=name**")
        assert _row_ids(page) == by_name[:50]
        assert "▲" in page.locator("th.sorted").inner_text()
        page.click("nav.pages >> text=下一页")
        page.wait_for_url("**page=2**")
        assert "sort=name" in page.url and _row_ids(page) == by_name[50:100]
        page.click("th a[data-sort=name]")  # again: the other way round
        page.wait_for_url("**dir=desc**")
        assert "▼" in page.locator("th.sorted").inner_text()
    finally:
        ctx.close()


def test_steward_claims_an_entry_and_another_steward_is_refused(server, browser):  # noqa: F811
    base, store = server
    eid = _default_order(store)[0]
    ctx1, wang = _login(browser, base, "wang")
    ctx2, li = _login(browser, base, "li")
    try:
        wang.click(f"tr[data-entity='{eid}'] button[name=claim]")
        wang.wait_for_selector(".flash")
        assert wang.locator(f"tr[data-entity='{eid}'] td.holder .who").inner_text() == "wang"
        wang.select_option("select[name=claim]", "mine")
        wang.click(".filters button[type=submit]")
        wang.wait_for_url("**claim=mine**")
        assert _row_ids(wang) == [eid]
        li.goto(f"{base}/entity/{eid}")  # viewing is fine
        li.click("#btn-confirm")
        li.wait_for_selector(".refusal")
        assert "wang" in li.locator(".refusal").inner_text()
        assert q(store, "SELECT action FROM decisions") == [("claim",)]
    finally:
        ctx1.close()
        ctx2.close()


def test_save_and_next_opens_the_next_entry_of_the_filtered_queue(server, browser):  # noqa: F811
    base, store = server
    ctx, page = _login(browser, base, "wang")
    try:
        page.click(".chips a.chip[href='/queue?reason=near']")
        page.wait_for_url("**reason=near**")
        first, second = _row_ids(page)[:2]
        page.click(f"tr[data-entity='{first}'] td.name a")
        page.wait_for_url(f"**/entity/{first}")
        page.click("#btn-save-next")
        page.wait_for_url(f"**/entity/{second}")
        assert first in page.locator(".flash").inner_text()
        assert q(store, "SELECT entity_id FROM decisions WHERE action = 'confirm'") == [(first,)]
    finally:
        ctx.close()


def test_bulk_confirm_of_checked_rows_with_a_confirmation_step(server, browser):  # noqa: F811
    base, store = server
    ctx, page = _login(browser, base, "wang")
    try:
        page.click(".chips a.chip[href='/queue?reason=near']")
        page.wait_for_url("**reason=near**")
        chosen = _row_ids(page)[:3]
        for eid in chosen:
            page.check(f"tr[data-entity='{eid}'] input[name=entity]")
        assert page.locator("#checked-count").inner_text() == "3"
        page.click("#btn-bulk-confirm")
        page.wait_for_selector("#bulk-count")
        assert page.locator("#bulk-count").inner_text() == "3"
        assert q(store, "SELECT count(*) FROM decisions") == [(0,)]
        page.click("#btn-bulk-go")
        page.wait_for_selector("#done-count")
        assert page.locator("#done-count").inner_text() == "3"
        assert page.locator("#skipped-count").inner_text() == "0"
        assert sorted(q(store, "SELECT entity_id FROM decisions WHERE action = 'confirm'")) == \
            sorted((e,) for e in chosen)
        # "select the page" checks every row
        page.goto(f"{base}/queue")
        page.check("#check-all")
        assert int(page.locator("#checked-count").inner_text()) == len(_row_ids(page))
    finally:
        ctx.close()


def test_a_possible_duplicate_entry_links_to_its_likely_duplicate(server, browser):  # noqa: F811
    base, store = server
    first = _default_order(store, "q.reason LIKE '%存在可能重复%' AND q.record_count = 1")[0]
    ctx, page = _login(browser, base, "zhao")  # a viewer sees it too
    try:
        page.click(".chips a.chip[href='/queue?reason=near']")
        page.wait_for_url("**reason=near**")
        dupe = page.locator(f"tr[data-entity='{first}'] .dupe")
        other_record = dupe.locator(".mono").nth(1).inner_text()
        dupe.locator("a").click()
        page.wait_for_url("**/entity/**")
        other = page.url.rsplit("/", 1)[1]
        assert other != first and other_record in members(store, other)
    finally:
        ctx.close()
