"""The label pairs page in a real browser (Playwright, Debian's Chromium): a steward
presses 1, 2 and 3 and sees the next pair each time; the answers are recorded as
`er label add` records them. Skipped like test_review_browser when Chromium or
playwright is missing; the store passes `er store verify` afterwards.
"""

from __future__ import annotations

import json

from conftest import run_cli
from test_review import q, review_store_template  # noqa: F401
from test_review_browser import _login, browser, server  # noqa: F401


def _pair(page) -> tuple[str, str]:
    return tuple(page.locator("#label-pair").get_attribute("data-pair").split("~"))


def test_steward_labels_pairs_with_the_keys_1_2_3(server, browser):  # noqa: F811
    base, store = server
    ctx, page = _login(browser, base, "wang")
    try:
        page.click("nav >> a[href='/label']")
        page.wait_for_url("**/label")
        shown = [_pair(page)]
        for key in ("1", "2", "3"):
            before = "~".join(shown[-1])
            page.keyboard.press(key)
            page.wait_for_function(
                "before => { const p = document.querySelector('#label-pair');"
                " return p && p.dataset.pair !== before; }", arg=before)
            assert shown[-1][0] in page.locator(".flash").inner_text()
            shown.append(_pair(page))
        assert len(set(shown)) == 4  # a new pair each time, none asked twice

        rows = q(store, "SELECT who, action, after FROM decisions ORDER BY decided_at")
        assert [(w, a) for w, a, _ in rows] == [("wang", "label")] * 3
        assert [json.loads(after)["pairs"] for *_, after in rows] == [
            [[*sorted(p), label]] for p, label in zip(shown, (1, 0, None))]
        active = q(store, "SELECT record_id_l, record_id_r, kind FROM constraints WHERE active "
                          "ORDER BY kind")
        assert active == [(*sorted(shown[1]), "cannot_link"), (*sorted(shown[0]), "must_link")]

        page.keyboard.press("n")  # next: passes over the pair, records nothing
        page.wait_for_function(
            "before => document.querySelector('#label-pair').dataset.pair !== before",
            arg="~".join(shown[-1]))
        assert _pair(page) not in shown
        assert q(store, "SELECT count(*) FROM decisions") == [(3,)]
    finally:
        ctx.close()
    run_cli("store", "verify", "--store", store)
