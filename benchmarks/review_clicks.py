"""Clicks and wall time of a steward working through the review queue in Chromium
(Playwright, Debian's /usr/bin/chromium): N entities confirmed the plain way (open from
the queue, confirm, back to the queue) and N with "save & next" (open the first, then
one click per entity), and N confirmed at once with the bulk confirm.

    python benchmarks/review_clicks.py --store demo/store.duckdb [--n 10]

Works on a copy of the store (with a throw-away steward), never on the store itself.
Prints per path: entities, clicks, clicks per entity, wall time, seconds per entity.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import socket
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Clicks:
    """A page whose clicks are counted."""

    def __init__(self, page):
        self.page, self.n = page, 0

    def click(self, selector: str) -> None:
        self.n += 1
        self.page.click(selector)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--n", type=int, default=10)
    args = ap.parse_args()

    import uvicorn
    from playwright.sync_api import sync_playwright

    from resolution.review.app import create_app

    work = Path(tempfile.mkdtemp(prefix="review-clicks-"))
    store = work / "store.duckdb"
    shutil.copy(args.store, store)
    password = secrets.token_urlsafe(12)
    subprocess.run([sys.executable, "-m", "resolution.cli", "users", "add", "bench", "--role",
                    "steward", "--store", str(store), "--password-stdin"],
                   input=password + "\n", text=True, check=True, cwd=ROOT, capture_output=True)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port,
                                        log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(20_000)
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "bench")
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url("**/queue")
            c = Clicks(page)

            # plain: queue → entity → confirm → back to the queue, per entity
            page.goto(f"{base}/queue?reason=near")
            t0 = time.perf_counter()
            for _ in range(args.n):
                c.click("table.queue tbody tr td.name a")
                page.wait_for_url("**/entity/**")
                c.click("#btn-confirm")
                page.wait_for_selector(".flash")
                c.click("a.back")
                page.wait_for_url("**/queue**")
            results.append(("confirm (open, confirm, back)", args.n, c.n,
                            time.perf_counter() - t0))

            # save & next: open the first entry, then one click per entity
            c.n = 0
            page.goto(f"{base}/queue?reason=near")
            t0 = time.perf_counter()
            c.click("table.queue tbody tr td.name a")
            for _ in range(args.n):
                url = page.url
                c.click("#btn-save-next")
                page.wait_for_function("u => location.href !== u", arg=url)
                page.wait_for_selector(".flash")
            results.append(("save & next", args.n, c.n, time.perf_counter() - t0))

            # bulk: check N rows, confirm selected, confirm on the confirmation page
            c.n = 0
            page.goto(f"{base}/queue?reason=near")
            t0 = time.perf_counter()
            boxes = page.locator("table.queue tbody input[name=entity]")
            for i in range(args.n):
                c.n += 1
                boxes.nth(i).check()
            c.click("#btn-bulk-confirm")
            page.wait_for_selector("#btn-bulk-go")
            c.click("#btn-bulk-go")
            page.wait_for_selector("#done-count")
            done = int(page.locator("#done-count").inner_text())
            results.append(("bulk confirm (check N, confirm, confirm)", done, c.n,
                            time.perf_counter() - t0))
            browser.close()
    finally:
        srv.should_exit = True
    verify = subprocess.run([sys.executable, "-m", "resolution.cli", "store", "verify",
                             "--store", str(store)], check=False, cwd=ROOT, capture_output=True,
                            text=True)
    print(f"{'path':42} {'entities':>8} {'clicks':>6} {'clicks/entity':>13} {'wall s':>7} "
          f"{'s/entity':>8}")
    for name, n, clicks, secs in results:
        print(f"{name:42} {n:8d} {clicks:6d} {clicks / n:13.1f} {secs:7.2f} {secs / n:8.2f}")
    print(f"er store verify: exit {verify.returncode}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
