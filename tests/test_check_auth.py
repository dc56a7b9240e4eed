"""`er check serve` served safely: a real server process on a real store, driven over
HTTP. Requests need an API token (`er tokens create`), hashed at rest, scoped by role and
revocable while the server runs; refusals are audited in `access_log`; candidates are
masked unless the token's role may see them whole; a job committed into the store while
the server runs is picked up without POST /reload."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import run_cli

from resolution.review.mask import mask_phone
from resolution.store import connect_store

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sql(store: Path, query: str, params: list | None = None) -> list[tuple]:
    """Read the store as another process would, waiting while the server writes it."""
    con = connect_store(store, read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def _token(store: Path, name: str, role: str) -> str:
    out = run_cli("tokens", "create", "--store", store, "--name", name, "--role", role).output
    return out.strip().splitlines()[-1]


class Server:
    def __init__(self, url: str, proc: subprocess.Popen):
        self.url, self.proc = url, proc

    def call(self, method: str, path: str, body: object = None, token: str | None = None,
             raw: bytes | None = None) -> tuple[int, dict, dict]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read()), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}"), dict(exc.headers)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from resolution.config import load_config
    from resolution.model.settings import build_settings
    from training.demo_data import write_demo

    root = tmp_path_factory.mktemp("check_auth")
    config = root / "config.yaml"
    config.write_text((ROOT / "configs" / "customer_zh.yaml").read_text("utf-8")
                      .replace("track_in_mlflow: true", "track_in_mlflow: false"), "utf-8")
    settings = root / "settings.json"
    settings.write_text(json.dumps(build_settings(load_config(config)), ensure_ascii=False),
                        "utf-8")
    customers, _ = write_demo(root / "data", n_records=400, seed=29)
    with customers.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def write(name: str, part: list[dict]) -> Path:
        p = root / name
        with p.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(part[0]))
            w.writeheader()
            w.writerows(part)
        return p

    first, everything = write("first.csv", rows[:300]), write("all.csv", rows)
    store = root / "store.duckdb"
    dedup = ["dedup", "--config", config, "--model", settings, "--store", store]
    run_cli(*dedup, "--input", first, "--out", root / "job1")
    tokens = {role: _token(store, f"form-{role}", role)
              for role in ("check", "check_full", "check_admin")}

    port = _free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "resolution.cli", "check", "serve", "--store", str(store),
         "--model", str(settings), "--config", str(config), "--port", str(port),
         "--poll", "0.2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 180
    while True:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "er check serve did not start"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    server = Server(f"http://127.0.0.1:{port}", proc)
    yield {"server": server, "store": store, "tokens": tokens, "rows": rows, "root": root,
           "dedup": dedup, "everything": everything}
    proc.terminate()
    proc.communicate(timeout=30)


def _refusals(store: Path, reason: str, wait: float = 10.0) -> list[tuple]:
    """access_log rows of /check refusals with `reason`, once the server wrote them."""
    deadline = time.monotonic() + wait
    while True:
        found = _sql(store, "SELECT who, role, method, path, status, reason, client "
                     "FROM access_log WHERE reason = ? ORDER BY happened_at", [reason])
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_check_without_a_valid_token_is_refused_and_audited(world):
    srv, store = world["server"], world["store"]
    form = {"customer_name": "旺拓食品", "mobile": "13766700872"}
    status, body, headers = srv.call("POST", "/check", form)
    assert status == 401 and body["error"] == "no token"
    assert headers.get("www-authenticate", headers.get("WWW-Authenticate", "")).startswith(
        "Bearer")
    # refused before the body is read: no token and a broken body is still a 401, not a 422
    assert srv.call("POST", "/check", raw=b"not json")[0] == 401
    real = world["tokens"]["check"]
    forged = real[:-4] + ("aaaa" if not real.endswith("aaaa") else "bbbb")
    assert srv.call("POST", "/check", form, token=forged)[0] == 401
    assert srv.call("POST", "/check", form, token="Basic abc")[0] == 401
    assert srv.call("POST", "/check", form, token=real)[0] == 200
    # every path but /health and the API docs is closed, a mistyped one too
    assert srv.call("GET", "/nothing-here")[0] == 401
    assert srv.call("GET", "/health")[0] == 200

    logged = _refusals(store, "no token")
    assert logged and logged[0][2:6] == ("POST", "/check", 401, "no token")
    assert logged[0][6] == "127.0.0.1"
    assert _refusals(store, "invalid token")


def test_tokens_are_hashed_at_rest_and_listed_without_the_secret(world):
    store, tokens = world["store"], world["tokens"]
    token = tokens["check"]
    secret = token.split("_", 2)[2]  # erc_<id>_<secret>; the secret may hold "_"
    blob = b"".join(p.read_bytes() for p in (store, store.with_name(store.name + ".wal"))
                    if p.exists())
    assert secret.encode() not in blob and token.encode() not in blob
    stored = dict(_sql(store, "SELECT name, secret_hash FROM api_tokens"))
    assert stored["form-check"] == hashlib.sha256(secret.encode()).hexdigest()
    listing = run_cli("tokens", "list", "--store", store).output
    assert "form-check" in listing and "check_full" in listing and secret not in listing
    # user mistakes are one error line
    for args, says in ((("--name", "x", "--role", "steward"), "unknown token role"),
                       (("--name", "x", "--expires", "0"), "at least 1"),
                       (("--name", "form-check"), "exists; revoke it first")):
        bad = run_cli("tokens", "create", "--store", store, *args, expect=2).output
        assert bad.startswith("error:") and says in bad, bad


def test_candidates_are_masked_unless_the_role_may_see_them(world):
    srv, tokens = world["server"], world["tokens"]
    row = next(r for r in world["rows"][:300] if r["mobile"] and r["customer_name"])
    form = {"customer_name": row["customer_name"], "mobile": row["mobile"]}
    status, full, _ = srv.call("POST", "/check?min_probability=0", form, tokens["check_full"])
    assert status == 200 and full["candidates"]
    status, masked, _ = srv.call("POST", "/check?min_probability=0", form, tokens["check"])
    assert status == 200
    assert [c["entity_id"] for c in masked["candidates"]] == \
        [c["entity_id"] for c in full["candidates"]]
    shown = 0
    for m, f in zip(masked["candidates"], full["candidates"]):
        # what a form needs stays: the entity, its name, the score, the fields that matched
        assert m["entity"]["customer_name"] == f["entity"]["customer_name"]
        assert m["match_probability"] == f["match_probability"]
        assert m["matched_fields"] == f["matched_fields"]
        for col in ("mobile", "phone", "email", "id_card"):
            if f["entity"].get(col):
                assert m["entity"][col] != f["entity"][col], col
                shown += 1
        if f["entity"].get("mobile"):
            assert m["entity"]["mobile"] == mask_phone(f["entity"]["mobile"])
    assert shown, "the candidates should carry some contact data to mask"
    assert re.sub(r"\D", "", row["mobile"])[-8:] not in json.dumps(masked["candidates"])


def test_concurrent_checks_each_get_their_own_answer(world):
    """Requests arriving together are scored together (one query for all of them): each
    still gets the answer it gets alone, masked as its own token says."""
    from concurrent.futures import ThreadPoolExecutor

    srv, tokens = world["server"], world["tokens"]
    rows = [r for r in world["rows"][:300] if r["customer_name"]][:48]
    jobs = [({k: r[k] for k in ("customer_name", "mobile", "address") if r[k]},
             tokens["check_full" if i % 3 == 0 else "check"]) for i, r in enumerate(rows)]

    def ask(job):
        form, token = job
        return srv.call("POST", "/check?min_probability=0", form, token)

    alone = [ask(j) for j in jobs]
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(ask, jobs))
    assert all(status == 200 for status, _b, _h in alone + together)
    for (_s, a, _h), (_s2, t, _h2) in zip(alone, together):
        assert [c["entity_id"] for c in t["candidates"]] == \
            [c["entity_id"] for c in a["candidates"]]
        assert [c["match_probability"] for c in t["candidates"]] == \
            [c["match_probability"] for c in a["candidates"]]
        assert [c["entity"] for c in t["candidates"]] == [c["entity"] for c in a["candidates"]]
        assert t["standardized"] == a["standardized"]
    assert any(a["candidates"] for _s, a, _h in alone)


def test_roles_scope_what_a_token_may_do(world):
    srv, tokens = world["server"], world["tokens"]
    for role in ("check", "check_full"):
        status, body, _ = srv.call("POST", "/reload", token=tokens[role])
        assert status == 403, (role, body)
    status, body, _ = srv.call("POST", "/reload", token=tokens["check_admin"])
    assert status == 200 and body["records"] == 300
    assert srv.call("POST", "/reload")[0] == 401
    assert _refusals(world["store"], "role check may not POST /reload")

    # a check token is no key to the review app
    from fastapi.testclient import TestClient

    from resolution.review.app import create_app

    app = create_app(world["store"], ROOT / "configs" / "customer_zh.yaml")
    try:
        client = TestClient(app)
        r = client.get("/queue", headers={"Authorization": f"Bearer {tokens['check_admin']}"},
                       follow_redirects=False)
        assert r.status_code in (303, 401) and "login" in r.headers.get("location", "/login")
    finally:
        app.state.store.close()


def test_a_token_revoked_while_the_server_runs_is_refused(world):
    srv, store = world["server"], world["store"]
    token = _token(store, "soon-gone", "check")
    form = {"customer_name": "旺拓食品"}
    created_at = time.monotonic()  # a new token, like a revoked one, counts from a poll on
    while srv.call("POST", "/check", form, token)[0] != 200:
        assert time.monotonic() - created_at < 5, "the new token does not work after 5 s"
        time.sleep(0.05)
    run_cli("tokens", "revoke", "soon-gone", "--store", store)
    revoked_at = time.monotonic()
    while srv.call("POST", "/check", form, token)[0] == 200:
        assert time.monotonic() - revoked_at < 5, "the revoked token still works after 5 s"
        time.sleep(0.05)
    status, body, _ = srv.call("POST", "/check", form, token)
    assert status == 401 and body["error"] == "token revoked"
    assert ("soon-gone", "check") in [r[:2] for r in _refusals(store, "token revoked")]
    assert "revoked" in run_cli("tokens", "list", "--store", store).output
    assert "no live token" in run_cli("tokens", "revoke", "soon-gone", "--store", store,
                                      expect=2).output


def test_a_new_job_is_served_without_a_reload(world):
    """`er dedup` commits 100 more records into the store while the server runs and
    answers checks: the server picks the job up by itself, and no check fails meanwhile."""
    srv, store, token = world["server"], world["store"], world["tokens"]["check"]
    before = srv.call("GET", "/health")[1]
    assert before["records"] == 300
    new = next(r for r in world["rows"][300:] if r["mobile"] and r["customer_name"])
    form = {"customer_name": new["customer_name"], "mobile": new["mobile"]}
    statuses: list[int] = []
    stop = threading.Event()

    def keep_checking():
        while not stop.is_set():
            statuses.append(srv.call("POST", "/check", form, token)[0])

    t = threading.Thread(target=keep_checking)
    t.start()
    try:
        run_cli(*world["dedup"], "--input", world["everything"], "--out", world["root"] / "job2")
        job = _sql(store, "SELECT job_id FROM jobs ORDER BY finished_at DESC LIMIT 1")[0][0]
        assert job != before["job_id"]
        deadline = time.monotonic() + 60
        while (health := srv.call("GET", "/health")[1])["job_id"] != job:
            assert time.monotonic() < deadline, f"still serving job {health['job_id']}"
            time.sleep(0.2)
    finally:
        stop.set()
        t.join()
    assert health["records"] == 400
    assert statuses and set(statuses) == {200}
    status, body, _ = srv.call("POST", "/check?min_probability=0", form, token)
    assert status == 200
    crosswalk = dict(_sql(store, "SELECT record_id, entity_id FROM crosswalk"))
    assert crosswalk[new["record_id"]] in [c["entity_id"] for c in body["candidates"]]
