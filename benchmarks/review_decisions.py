"""Clicks and wall time of a steward's confirm, split and merge (with its preview) in the
review app, driven in Chromium by Playwright, on a copy of a store.

    er demo --out demo
    python benchmarks/review_decisions.py --store demo/store.duckdb [--runs 3]

Each run works on a fresh copy of the store with a steward of its own. The wall time of
an action runs from its entity page being shown to the page after it (the flash); a
click is a mouse click or a tick (typing a search term is not counted). The merge is
made twice: from the entity's list of possible duplicates (its button leads to the
preview) and through the search box; the box that overrules the engine's guard is
ticked when the preview shows it.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "bench password 1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _q(store: Path, sql: str, params=None):
    from resolution import crypto

    con = crypto.open_file(store)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


class Steward:
    def __init__(self, page):
        self.page, self.clicks, self.override = page, 0, False

    def click(self, selector):
        self.clicks += 1
        self.page.click(selector)

    def check(self, selector):
        self.clicks += 1
        self.page.check(selector)


def one_run(source: Path, browser) -> dict[str, tuple[int, float, bool]]:
    import uvicorn

    from resolution.review.app import create_app

    work = Path(tempfile.mkdtemp(prefix="review-clicks-"))
    store = work / "store.duckdb"
    shutil.copy(source, store)
    subprocess.run([sys.executable, "-m", "resolution.cli", "users", "add", "bench", "--role",
                    "steward", "--store", str(store), "--password-stdin"],
                   input=PASSWORD + "\n", text=True, check=True, capture_output=True, cwd=ROOT)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port,
                                        log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, tuple[int, float, bool]] = {}
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/queue")
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
                s.click(".near form.inline button >> nth=0")
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
    finally:
        ctx.close()
        srv.should_exit = True
    verify = subprocess.run([sys.executable, "-m", "resolution.cli", "store", "verify",
                             "--store", str(store)], check=False, capture_output=True, text=True,
                            cwd=ROOT)
    if verify.returncode:
        raise SystemExit(f"er store verify failed:\n{verify.stdout}{verify.stderr}")
    shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    results: dict[str, list[tuple[int, float, bool]]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for _ in range(args.runs):
                for name, value in one_run(args.store, browser).items():
                    results.setdefault(name, []).append(value)
        finally:
            browser.close()
    print(f"{'action':42} clicks  wall time (median of {args.runs}, min–max)")
    for name, values in results.items():
        times = [t for _, t, _ in values]
        note = "  (one a tick of the guard-override box)" if values[0][2] else ""
        print(f"{name:42} {values[0][0]:>6}  {statistics.median(times):.2f} s "
              f"({min(times):.2f}–{max(times):.2f}){note}")


if __name__ == "__main__":
    main()
