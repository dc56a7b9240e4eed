"""The review app in a real browser: Playwright driving Debian's Chromium, headless.

Skipped, with the reason, when /usr/bin/chromium or the playwright package is missing
(CI installs Debian's `chromium`; `playwright install` is never used). Set
ER_REVIEW_SCREENSHOTS=DIR to keep screenshots of the queue and entity pages.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import CONFIG
from test_review import PASSWORD, members, multi_record_entity, q, review_store_template  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, review_store_template):  # noqa: F811
    import uvicorn

    from resolution.review.app import create_app

    store = tmp_path / "store.duckdb"
    shutil.copy(review_store_template, store)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(store, CONFIG), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the review app did not start"
    yield f"http://127.0.0.1:{port}", store
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _login(browser, base, user):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")
    return ctx, page


def _shot(page, name):
    folder = os.environ.get("ER_REVIEW_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=name.endswith("entity"))


def _record_count(page) -> int:
    return int(page.locator(".badges .badge").first.locator("b").inner_text())


def test_steward_splits_a_record_sees_it_audited_and_undoes_it(server, browser):
    base, store = server
    eid = multi_record_entity(store)
    recs = members(store, eid)
    ctx, page = _login(browser, base, "wang")
    try:
        total = q(store, "SELECT count(*) FROM review_queue")[0][0]
        assert page.locator(".counts .big b").inner_text() == str(total)
        _shot(page, "queue")
        page.select_option("select[name=reason]", "doubtful")
        page.click(".filters button[type=submit]")
        page.wait_for_url("**reason=doubtful**")
        assert page.locator("table.queue tbody tr").count() >= 1
        page.goto(f"{base}/entity/{eid}")
        _shot(page, "steward-entity")
        assert _record_count(page) == len(recs)
        golden_before = page.locator(".golden").inner_text()
        # a record the golden record draws on, so that splitting it off changes the golden record
        split_id = next((r for r in recs if r in golden_before), recs[0])
        page.check(f"input[name=record_ids][value='{split_id}']")
        page.click("#btn-split")
        page.wait_for_selector(".flash")
        assert "拆分" in page.locator(".flash").inner_text()
        assert _record_count(page) == len(recs) - 1
        assert split_id not in page.locator("table.side thead").inner_text()
        golden_after = page.locator(".golden").inner_text()
        assert split_id not in golden_after and golden_after != golden_before

        page.click("nav >> text=审计日志")
        page.wait_for_url("**/audit")
        row = page.locator("table.audit tbody tr").first
        assert "拆分" in row.inner_text() and "wang" in row.inner_text() and split_id in row.inner_text()

        page.goto(f"{base}/entity/{eid}")
        page.click("#btn-undo")
        page.wait_for_selector(".flash")
        assert "撤销" in page.locator(".flash").inner_text()
        assert _record_count(page) == len(recs)
        assert page.locator(".golden").inner_text() == golden_before
        page.click("nav >> text=审计日志")
        assert "已被撤销" in page.locator("table.audit tbody tr").nth(1).inner_text()
    finally:
        ctx.close()


def test_viewer_sees_masked_data_and_no_actions(server, browser):
    base, store = server
    eid = q(store, """SELECT c.entity_id FROM crosswalk c JOIN records r USING (record_id)
                      WHERE r.mobile_key IS NOT NULL GROUP BY 1 HAVING count(*) >= 2
                      ORDER BY 1 LIMIT 1""")[0][0]
    ctx, page = _login(browser, base, "zhao")
    try:
        page.goto(f"{base}/entity/{eid}")
        _shot(page, "viewer-entity")
        text = page.locator("main").inner_text()
        assert re.search(r"1[3-9]\d\*{4}\d{4}", text)
        assert "查看者" in page.locator(".notice").inner_text()
        for selector in ("#btn-confirm", "#btn-split", "#btn-undo", "input[name=record_ids]"):
            assert page.locator(selector).count() == 0
        # the English switch keeps the page
        page.click("text=English")
        assert "Golden record" in page.locator("main").inner_text()
    finally:
        ctx.close()


def test_an_action_from_a_stale_page_is_refused(server, browser):
    base, store = server
    eid = multi_record_entity(store)
    ctx1, first = _login(browser, base, "wang")
    ctx2, second = _login(browser, base, "li")
    try:
        first.goto(f"{base}/entity/{eid}")
        second.goto(f"{base}/entity/{eid}")
        first.click("#btn-confirm")
        first.wait_for_selector(".flash")
        n = q(store, "SELECT count(*) FROM decisions")[0][0]
        second.click("#btn-confirm")
        second.wait_for_selector(".refusal")
        assert "请刷新后重试" in second.locator(".refusal").inner_text()
        assert q(store, "SELECT count(*) FROM decisions")[0][0] == n
    finally:
        ctx1.close()
        ctx2.close()
