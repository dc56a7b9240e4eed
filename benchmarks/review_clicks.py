"""Clicks and wall time of a steward's work in the review app, driven in Chromium (Debian's
/usr/bin/chromium) by Playwright, on copies of a store (never the store itself).

    er demo --out demo
    python benchmarks/review_clicks.py --store demo/store.duckdb              # both
    python benchmarks/review_clicks.py --store demo/store.duckdb queue --n 10
    python benchmarks/review_clicks.py --store demo/store.duckdb decisions --runs 3

`queue`: N entities confirmed the plain way (open from the queue, confirm, back to the
queue), N with "save & next" (open the first, then one click per entity), and N at once
with the bulk confirm. Prints per path: entities, clicks, clicks per entity, wall time,
seconds per entity.

`decisions`: one confirm, one split, and a merge with its preview made twice (from the
entity's list of possible duplicates, and through the search box; the box that overrules
the engine's guard is ticked when the preview shows it); each run on a fresh copy. The
wall time of an action runs from its entity page being shown to the page after it (the
flash). Prints the median, min and max over the runs.

A click is a mouse click or a tick (typing a search term is not counted). Each copy gets
a throw-away steward, and `er store verify` must pass on it afterwards.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Steward:
    """A logged-in page whose clicks and ticks are counted."""

    def __init__(self, page):
        self.page, self.clicks, self.override = page, 0, False

    def click(self, selector: str) -> None:
        self.clicks += 1
        self.page.click(selector)

    def check(self, selector: str) -> None:
        self.clicks += 1
        self.page.check(selector)


@contextmanager
def served_copy(source: Path, browser) -> Iterator[tuple[str, Path, object]]:
    """A copy of `source` with a steward `bench`, served by the review app; yields (base
    URL, the copy, a page logged in as the steward). `er store verify` must pass after."""
    import uvicorn

    from resolution.review.app import create_app

    work = Path(tempfile.mkdtemp(prefix="review-clicks-"))
    store = work / "store.duckdb"
    shutil.copy(source, store)
    password = secrets.token_urlsafe(12)
    subprocess.run([sys.executable, "-m", "resolution.cli", "users", "add", "bench", "--role",
                    "steward", "--store", str(store), "--password-stdin"],
                   input=password + "\n", text=True, check=True, capture_output=True, cwd=ROOT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port,
                                        log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/queue")
        yield base, store, page
    finally:
        ctx.close()
        srv.should_exit = True
    verify = subprocess.run([sys.executable, "-m", "resolution.cli", "store", "verify",
                             "--store", str(store)], check=False, capture_output=True, text=True,
                            cwd=ROOT)
    if verify.returncode:
        raise SystemExit(f"er store verify failed:\n{verify.stdout}{verify.stderr}")
    shutil.rmtree(work, ignore_errors=True)


def _q(store: Path, sql: str, params=None):
    from resolution import crypto

    con = crypto.open_file(store)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# ------------------------------------------------------------------------------ queue


def queue_paths(source: Path, browser, n: int) -> None:
    results = []
    with served_copy(source, browser) as (base, _store, page):
        s = Steward(page)
        # plain: queue → entity → confirm → back to the queue, per entity
        page.goto(f"{base}/queue?reason=near")
        t0 = time.perf_counter()
        for _ in range(n):
            s.click("table.queue tbody tr td.name a")
            page.wait_for_url("**/entity/**")
            s.click("#btn-confirm")
            page.wait_for_selector(".flash")
            s.click("a.back")
            page.wait_for_url("**/queue**")
        results.append(("confirm (open, confirm, back)", n, s.clicks, time.perf_counter() - t0))

        # save & next: open the first entry, then one click per entity
        s.clicks = 0
        page.goto(f"{base}/queue?reason=near")
        t0 = time.perf_counter()
        s.click("table.queue tbody tr td.name a")
        for _ in range(n):
            url = page.url
            s.click("#btn-save-next")
            page.wait_for_function("u => location.href !== u", arg=url)
            page.wait_for_selector(".flash")
        results.append(("save & next", n, s.clicks, time.perf_counter() - t0))

        # bulk: check N rows, confirm selected, confirm on the confirmation page
        s.clicks = 0
        page.goto(f"{base}/queue?reason=near")
        t0 = time.perf_counter()
        boxes = page.locator("table.queue tbody input[name=entity]")
        for i in range(n):
            s.clicks += 1
            boxes.nth(i).check()
        s.click("#btn-bulk-confirm")
        page.wait_for_selector("#btn-bulk-go")
        s.click("#btn-bulk-go")
        page.wait_for_selector("#done-count")
        done = int(page.locator("#done-count").inner_text())
        results.append(("bulk confirm (check N, confirm, confirm)", done, s.clicks,
                        time.perf_counter() - t0))
    print(f"{'path':42} {'entities':>8} {'clicks':>6} {'clicks/entity':>13} {'wall s':>7} "
          f"{'s/entity':>8}")
    for name, k, clicks, secs in results:
        print(f"{name:42} {k:8d} {clicks:6d} {clicks / k:13.1f} {secs:7.2f} {secs / k:8.2f}")
    print("er store verify: passed")


# ------------------------------------------------------------------------------ decisions


def decisions_once(source: Path, browser) -> dict[str, tuple[int, float, bool]]:
    out: dict[str, tuple[int, float, bool]] = {}
    with served_copy(source, browser) as (base, store, page):
        queued = [r[0] for r in _q(store, """SELECT entity_id FROM review_queue
                                              WHERE record_count >= 2
                                              ORDER BY cluster_confidence, entity_id LIMIT 2""")]

        def timed(name, entity_id, steps):
            page.goto(f"{base}/entity/{entity_id}")
            s, started = Steward(page), time.perf_counter()
            steps(s)
            page.wait_for_selector(".flash")
            out[name] = (s.clicks, time.perf_counter() - started, s.override)

        timed("confirm", queued[0], lambda s: s.click("#btn-confirm"))

        def split(s):
            s.check("input[name=record_ids] >> nth=0")
            s.click("#btn-split")
        timed("split", queued[1], split)

        def confirm_preview(s, kind):
            page.wait_for_selector(f"#btn-confirm-{kind}")
            if page.locator("#override").count():
                s.check("#override")
                s.override = True
            s.click(f"#btn-confirm-{kind}")

        near = _q(store, """SELECT x.entity_id FROM pairs p
                            JOIN crosswalk x ON x.record_id = p.record_id_l
                            JOIN crosswalk y ON y.record_id = p.record_id_r
                            WHERE x.entity_id <> y.entity_id AND p.match_probability >= 0.5
                              AND NOT list_contains(?, x.entity_id)
                              AND NOT list_contains(?, y.entity_id)
                            ORDER BY p.match_probability DESC, 1 LIMIT 1""", [queued, queued])
        if near:
            def merge_near(s):
                s.click(".near form[action$=\"/preview\"] button >> nth=0")
                confirm_preview(s, "merge")
            timed("merge with preview (possible duplicate)", near[0][0], merge_near)

        a, b = [r[0] for r in _q(store, """SELECT entity_id FROM entities
                                            WHERE record_count = 1 AND entity_id NOT IN
                                              (SELECT entity_id FROM review_queue)
                                            ORDER BY entity_id LIMIT 2""")]

        def merge_search(s):
            page.fill("#search-q", b)
            s.click(".search button[type=submit]")
            s.click("#btn-merge")
            confirm_preview(s, "merge")
        timed("merge with preview (search)", a, merge_search)
    return out


def decisions(source: Path, browser, runs: int) -> None:
    results: dict[str, list[tuple[int, float, bool]]] = {}
    for _ in range(runs):
        for name, value in decisions_once(source, browser).items():
            results.setdefault(name, []).append(value)
    print(f"{'action':42} clicks  wall time (median of {runs}, min–max)")
    for name, values in results.items():
        times = [t for _, t, _ in values]
        note = "  (one a tick of the guard-override box)" if values[0][2] else ""
        print(f"{name:42} {values[0][0]:>6}  {statistics.median(times):.2f} s "
              f"({min(times):.2f}–{max(times):.2f}){note}")
    print("er store verify: passed on every copy")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", choices=["queue", "decisions", "both"],
                    default="both")
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--n", type=int, default=10, help="queue: entities per path")
    ap.add_argument("--runs", type=int, default=3, help="decisions: runs (fresh copies)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            if args.scenario in ("queue", "both"):
                queue_paths(args.store, browser, args.n)
            if args.scenario in ("decisions", "both"):
                decisions(args.store, browser, args.runs)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
