"""The review app under concurrent use, over HTTP against `er review serve` in its own
process: a page read held up does not hold up another user's pages or decisions, and
decisions sent by several stewards at once are each stored exactly once.

A read is held up with the `review_read` pause point (resolution/faults.py): the app's
first page read waits, inside its read transaction, until the test removes a file.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import warnings

import pytest
from conftest import CONFIG, ROOT, run_cli
from test_review import PASSWORD, q, review_store_template  # noqa: F401

from resolution.store import connect_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve(tmp_path, review_store_template):  # noqa: F811
    """Start `er review serve` on a copy of the review store (extra environment allowed);
    yields a function (env) -> (base URL, store path); stops the servers afterwards."""
    procs = []

    def start(env: dict | None = None):
        store = tmp_path / "store.duckdb"
        shutil.copy(review_store_template, store)
        port = _free_port()
        p = subprocess.Popen(
            [sys.executable, "-m", "resolution.cli", "review", "serve", "--store", str(store),
             "--config", str(CONFIG), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        procs.append(p)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert p.poll() is None, p.stderr.read()[-2000:]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return f"http://127.0.0.1:{port}", store
            except OSError:
                time.sleep(0.1)
        raise AssertionError("er review serve did not start within 60 s")

    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _signed_in(base: str, user: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"csrf": csrf, "username": user, "password": PASSWORD,
                               "next": "/queue"})
    assert r.status_code == 303, r.text[:500]
    return c


def _form(page: str) -> dict:
    return {"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1),
            "version": re.search(r'name="version" value="([^"]+)"', page).group(1)}


def _queued(store, n: int) -> list[str]:
    return [r[0] for r in q(store, "SELECT entity_id FROM review_queue ORDER BY entity_id "
                                   "LIMIT ?", [n])]


def _stored(store, sql: str) -> list[tuple]:
    """Read the store while the app runs: like a CLI command, wait for the app to let go."""
    con = connect_store(store, wait=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_held_up_page_read_does_not_hold_up_other_users(
    serve, tmp_path, review_store_template  # noqa: F811
):
    hold = tmp_path / "hold"
    hold.touch()
    paused = tmp_path / "hold.paused"
    first, second = _queued(review_store_template, 2)
    base, store = serve({"ER_PAUSE_AT": "review_read", "ER_PAUSE_FILE": str(hold)})
    wang, li = _signed_in(base, "wang"), _signed_in(base, "li")
    slow: dict = {}
    reader = threading.Thread(target=lambda: slow.setdefault("r", wang.get(f"/entity/{first}")))
    reader.start()
    try:
        deadline = time.monotonic() + 20
        while not paused.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert paused.exists(), "wang's page read never reached the review_read pause point"
        # wang's page is mid-read; li works meanwhile: pages and a decision
        t0 = time.monotonic()
        page = li.get(f"/entity/{second}")
        assert page.status_code == 200 and second in page.text
        assert li.get("/queue").status_code == 200
        done = li.post(f"/entity/{second}/confirm", data={**_form(page.text),
                                                         "comment": "while wang reads"})
        assert done.status_code == 303, done.text[:500]
        assert li.get(f"/entity/{second}").status_code == 200
        assert time.monotonic() - t0 < 15
        assert reader.is_alive() and "r" not in slow, "wang's read was not held up"
    finally:
        hold.unlink()
        reader.join(30)
    # wang's read went on from the state its transaction started with
    assert slow["r"].status_code == 200 and first in slow["r"].text
    wang.close()
    li.close()
    assert _stored(store, "SELECT count(*) FROM decisions "
                          "WHERE comment = 'while wang reads'") == [(1,)]


def test_decisions_sent_at_once_by_several_stewards_are_each_stored_once(
    serve, review_store_template  # noqa: F811
):
    entities = _queued(review_store_template, 4)
    base, store = serve()
    stewards = [("wang", entities[0]), ("li", entities[1]), ("boss", entities[2]),
                ("wang", entities[3]), ("li", entities[3])]  # the last two: one entity
    clients = {name: _signed_in(base, name) for name in ("wang", "li", "boss")}
    # each steward's page and form first, then every confirm sent at the same moment
    forms = [_form(clients[who].get(f"/entity/{eid}").text) for who, eid in stewards]
    start = threading.Barrier(len(stewards))
    answers: list = [None] * len(stewards)

    def decide(i: int) -> None:
        who, eid = stewards[i]
        # one client per thread: a cookie jar is not shared across threads
        with httpx.Client(base_url=base, timeout=30, follow_redirects=False,
                          cookies=clients[who].cookies) as c:
            start.wait()
            answers[i] = c.post(f"/entity/{eid}/confirm",
                                data={**forms[i], "comment": f"at once {i}"}).status_code

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(len(stewards))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in clients.values():
        c.close()
    assert answers[:3] == [303, 303, 303]
    # two stewards confirming one entity from the same page: one is taken, the other
    # finds the entity changed since its page was loaded
    assert sorted(answers[3:]) == [303, 409], answers
    stored = dict(_stored(store, "SELECT comment, count(*) FROM decisions "
                                 "WHERE comment LIKE 'at once %' GROUP BY 1"))
    taken = {f"at once {i}" for i, a in enumerate(answers) if a == 303}
    assert stored == dict.fromkeys(taken, 1)
    run_cli("store", "verify", "--store", store)
