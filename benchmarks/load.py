"""Concurrent load on the entry-time check (`er check serve`, POST /check) and the steward
review app (`er review serve`: queue and entity pages), both on 127.0.0.1 only.

    python benchmarks/load.py [--records 2000] [--clients 5,20] [--requests 400]
                              [--seconds 60] [--decisions 0.15]

    # the issue's size: 185,000 records resolve to ~105,600 entities
    python benchmarks/load.py --records 185000 --clients 5,20 --seconds 30 --requests 1000000

Builds a store of N demo records once in WORKDIR (default .bench/load-N; a Splink settings
model from the config, no MLflow) and runs each benchmark on a fresh copy of it (so the
cached store stays as built). Starts each server in its own process on a free loopback
port, then runs C concurrent clients until R requests in total are done or S seconds
have passed (each bound is per server and client count; `--clients 5,20` runs 5, then
20). `/check` is called with an API token of role `check` (`er tokens create`); before
the load, a request without one must be refused (401) and the token's candidates must
carry masked mobiles. In the review app a share D of the steps are
steward decisions (a confirm on a queue entity, sent with the version its page showed
and a unique comment; a decision step loads the entity page, confirms, and loads the page
that shows the decision's ID, and the confirm alone is reported beside it); two clients confirming one entity at once is a refusal (409),
not an error. After the run every decision the app acknowledged must be in the store
exactly once, none the app refused may be, and `er store verify` must pass. Prints per
endpoint and client count: requests, errors, throughput, latency p50 / p95 / p99 / max
and the load average (`uptime`'s 1-minute figure) as the run ended; per server and client
count also the server process's CPU (`server_cores`, `server_cpu_ms_per_request`, with
psutil from the `benchmarks` extra), which moves much less than latency with what else
the machine runs.
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CONFIG = ROOT / "configs" / "customer_zh.yaml"
HOST = "127.0.0.1"


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build(work: Path, n: int) -> tuple[Path, Path, Path, Path]:
    from resolution.config import load_config
    from resolution.model.settings import build_settings
    from resolution.pipeline import dedup
    from training.demo_data import write_demo

    store = work / "store.duckdb"
    config = work / "config.yaml"
    settings = work / "settings.json"
    customers = work / "data" / "customers.csv"
    if store.exists():
        return store, config, settings, customers
    work.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG.read_text("utf-8").replace("track_in_mlflow: true",
                                                         "track_in_mlflow: false"), "utf-8")
    cfg = load_config(config)
    s = build_settings(cfg)
    settings.write_text(json.dumps(s, ensure_ascii=False), "utf-8")
    customers, _ = write_demo(work / "data", n_records=n, seed=23)
    _say(f"dedup {n} records into {store}")
    dedup(cfg, s, [customers], work / "out", store_path=store)
    return store, config, settings, customers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _start(args: list[str], port: int, env: dict) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "resolution.cli", *args], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise SystemExit(f"server exited: {p.stderr.read()[-2000:]}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return p
        except OSError:
            time.sleep(0.3)
    p.kill()
    raise SystemExit("server did not start within 120 s")


def _stop(p: subprocess.Popen) -> None:
    p.send_signal(signal.SIGINT)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))] if s else float("nan")


def _cpu_seconds(pid: int | None) -> float | None:
    """The CPU time (user + system) a process has used so far; None without psutil."""
    try:
        import psutil
    except ImportError:
        return None
    if pid is None:
        return None
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def run_load(name: str, make_client, clients: int, total: int, seconds: float,
             split=None, server_pid: int | None = None) -> list[dict]:
    """`make_client()` returns a callable doing one request (raising on failure); it may
    return a label, and with `split` each label is reported as its own endpoint too.
    With `server_pid`, the server's CPU over the run is reported too (`server_cores`,
    `server_cpu_ms_per_request`): latency and throughput move with whatever else the
    machine runs, the CPU a request costs much less."""
    lat: list[float] = []
    labelled: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))
    stop_at = time.monotonic() + seconds

    def worker():
        try:
            one = make_client()
        except Exception as exc:
            with lock:
                errors.append(f"client setup: {exc}")
            return
        while time.monotonic() < stop_at:
            with lock:
                if next(counter, None) is None:
                    return
            t0 = time.perf_counter()
            label, parts = None, {}
            try:
                label = one()
                if isinstance(label, tuple):  # (label, {part: seconds}) of a multi-step one
                    label, parts = label
                ok = True
            except Exception as exc:
                ok, err = False, f"{type(exc).__name__}: {exc}"[:200]
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt) if ok else errors.append(err)
                if ok and label:
                    labelled.setdefault(label, []).append(dt)
                for part, seconds_taken in parts.items():
                    labelled.setdefault(part, []).append(seconds_taken)

    t0 = time.perf_counter()
    cpu0 = _cpu_seconds(server_pid)
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu1 = _cpu_seconds(server_pid)
    server_cpu = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
    def stats(label, values, errs):
        return {
            "endpoint": label, "clients": clients, "requests": len(values), "errors": len(errs),
            "seconds": round(wall, 2), "per_second": round(len(values) / wall, 1) if wall else 0,
            "p50_ms": round(_pct(values, 0.50) * 1000, 1),
            "p95_ms": round(_pct(values, 0.95) * 1000, 1),
            "p99_ms": round(_pct(values, 0.99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1) if values else None,
            "first_errors": sorted(set(errs))[:3],
            # the machine's 1-minute load average as the run ends (others' work included)
            "load_avg": round(os.getloadavg()[0], 2),
        }

    out = [stats(name, lat, errors)]
    if server_cpu is not None:
        out[0]["server_cores"] = round(server_cpu / wall, 2) if wall else None
        out[0]["server_cpu_ms_per_request"] = (round(server_cpu / len(lat) * 1000, 1)
                                               if lat else None)
    for label in sorted(labelled) if split else []:
        out.append(stats(f"  {label}", labelled[label], []))
    for r in out:
        _say(json.dumps(r, ensure_ascii=False))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--clients", default="5,20",
                    help="concurrent clients; a comma-separated list runs each in turn")
    ap.add_argument("--requests", type=int, default=400, help="per endpoint, at most")
    ap.add_argument("--seconds", type=float, default=60, help="per endpoint, at most")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--decisions", type=float, default=0.15,
                    help="share of review-app steps that are steward decisions (0 for none)")
    ap.add_argument("--hold-store", type=float, default=0.5,
                    help="er review serve --hold-store (0: open the store for every request)")
    a = ap.parse_args()
    counts = [int(c) for c in str(a.clients).split(",") if c.strip()]
    work = a.workdir or ROOT / ".bench" / f"load-{a.records}"
    built, config, settings, customers = build(work, a.records)
    import shutil

    import duckdb

    store = work / "run-store.duckdb"  # a fresh copy per run; the built store stays as built
    for f in (store, store.with_name(store.name + ".wal")):
        f.unlink(missing_ok=True)
    shutil.copy(built, store)
    os.chmod(store, 0o600)
    con = duckdb.connect(str(store), read_only=True)
    facts = con.execute("SELECT (SELECT count(*) FROM crosswalk), (SELECT count(*) FROM entities), "
                        "(SELECT count(*) FROM review_queue)").fetchall()[0]
    con.close()
    _say(f"store: {facts[0]:,} records, {facts[1]:,} entities, {facts[2]:,} in the review queue")
    _say(f"load average before the runs: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
         f"({os.cpu_count()} CPUs)")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    with customers.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    results = []

    made = subprocess.run([sys.executable, "-m", "resolution.cli", "tokens", "create", "--store",
                           str(store), "--name", "load-test", "--role", "check"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise SystemExit(f"tokens create failed: {made.stdout}{made.stderr}")
    token = made.stdout.strip().splitlines()[-1]
    port = _free_port()
    srv = _start(["check", "serve", "--store", str(store), "--model", str(settings),
                  "--config", str(config), "--host", HOST, "--port", str(port)], port, env)
    try:
        url = f"http://{HOST}:{port}/check"

        def post_check(body: dict, auth: bool = True) -> dict:
            headers = {"Content-Type": "application/json"}
            if auth:
                headers["Authorization"] = f"Bearer {token}"
            req = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())

        probe = next(r for r in rows if r.get("mobile") and r.get("customer_name"))
        probe = {"customer_name": probe["customer_name"], "mobile": probe["mobile"]}
        try:
            post_check(probe, auth=False)
            raise SystemExit("POST /check without a token was answered; it must be refused")
        except urllib.error.HTTPError as exc:
            if exc.code != 401:
                raise SystemExit(f"POST /check without a token: {exc.code}, expected 401")
        answer = post_check(probe)
        mobiles = [c["entity"].get("mobile") for c in answer["candidates"]]
        if not any(mobiles) or any(m and "****" not in m for m in mobiles):
            raise SystemExit(f"a check token's candidates should carry masked mobiles: {mobiles}")
        _say(f"/check: 401 without a token; a check token's candidates masked ({mobiles[0]})")

        def check_client():
            rnd = random.Random(threading.get_ident())

            def one():
                r = rnd.choice(rows)
                post_check({k: r[k] for k in ("customer_name", "mobile", "address", "uscc")
                            if r.get(k)})
            return one

        for clients in counts:
            results += run_load("POST /check", check_client, clients, a.requests, a.seconds,
                                server_pid=srv.pid)
    finally:
        _stop(srv)

    password = "load-test-" + os.urandom(6).hex()
    add = subprocess.run(check=False, args=[sys.executable, "-m", "resolution.cli", "users", "add", "loadtest",
                          "--role", "steward", "--store", str(store), "--password-stdin"],
                         input=password + "\n", cwd=ROOT, env=env, capture_output=True, text=True)
    if add.returncode != 0 and "exists" not in (add.stdout + add.stderr):
        raise SystemExit(f"users add failed: {add.stdout}{add.stderr}")
    con = duckdb.connect(str(store), read_only=True)  # before the app holds the store
    entities = [r[0] for r in con.execute(
        "SELECT entity_id FROM review_queue ORDER BY entity_id LIMIT 200").fetchall()]
    con.close()
    port = _free_port()
    srv = _start(["review", "serve", "--store", str(store), "--host", HOST, "--port", str(port),
                  "--config", str(config), "--hold-store", str(a.hold_store)], port, env)
    try:
        base = f"http://{HOST}:{port}"
        acknowledged: dict[str, str] = {}  # comment token -> decision ID the app reported
        refused: list[str] = []  # tokens the app refused as stale (409)
        seq = iter(range(10**9))
        tally = threading.Lock()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None

        def review_client():
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            post = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
            page = opener.open(f"{base}/login", timeout=30).read().decode()
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            data = urllib.parse.urlencode({"csrf": csrf, "next": "/queue", "username": "loadtest",
                                           "password": password}).encode()
            opener.open(f"{base}/login", data, timeout=30).read()
            rnd = random.Random(threading.get_ident())

            def get(path):
                with opener.open(base + path, timeout=30) as resp:
                    body = resp.read()
                    if resp.status != 200 or b"login" in resp.geturl().encode():
                        raise RuntimeError(f"{path}: {resp.status} {resp.geturl()}")
                    assert body
                    return body.decode()

            def decide():
                eid = rnd.choice(entities)
                page = get(f"/entity/{eid}")
                version = re.search(r'name="version" value="([^"]+)"', page).group(1)
                tok = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
                with tally:
                    token = f"load-{next(seq)}"
                form = urllib.parse.urlencode({"csrf": tok, "version": version,
                                               "comment": token}).encode()
                t_post = time.perf_counter()
                try:
                    post.open(f"{base}/entity/{eid}/confirm", form, timeout=30).read()
                    raise RuntimeError(f"confirm {eid}: no redirect")
                except urllib.error.HTTPError as exc:
                    if exc.code == 409:
                        with tally:
                            refused.append(token)
                        return "decision (refused: stale)"
                    if exc.code != 303:
                        raise
                posted = time.perf_counter() - t_post
                flash = get(f"/entity/{eid}")
                found = re.search(r"\((D\d{14}-[0-9a-f]{8})\)", flash)
                if not found:
                    raise RuntimeError(f"confirm {eid}: no decision ID in the page")
                with tally:
                    acknowledged[token] = found.group(1)
                # the whole step is three requests (the page, the confirm, the page with
                # the decision's ID); the confirm alone is reported beside it
                return "decision (accepted)", {"decision: the POST confirm alone": posted}

            def one():
                x = rnd.random()
                if entities and x < a.decisions:
                    return decide()
                if x < a.decisions + 0.3 or not entities:
                    get("/queue")
                    return "GET /queue"
                get(f"/entity/{rnd.choice(entities)}")
                return "GET /entity/ID"
            return one

        for clients in counts:
            results += run_load("review app (GET /queue, GET /entity/ID, POST confirm)",
                                review_client, clients, a.requests, a.seconds, split=True,
                                server_pid=srv.pid)
    finally:
        _stop(srv)

    # every acknowledged decision in the store exactly once, no refused one
    con = duckdb.connect(str(store), read_only=True)
    stored = con.execute("SELECT comment, list(decision_id) FROM decisions "
                         "WHERE comment LIKE 'load-%' GROUP BY 1").fetchall()
    con.close()
    stored = dict(stored)
    lost = [t for t in acknowledged if t not in stored]
    duplicated = [t for t, ids in stored.items() if len(ids) > 1]
    wrong_id = [t for t, d in acknowledged.items() if t in stored and stored[t] != [d]]
    refused_but_stored = [t for t in refused if t in stored]
    unacknowledged = [t for t in stored if t not in acknowledged and t not in refused]
    verify = subprocess.run(check=False, args=[sys.executable, "-m", "resolution.cli", "store", "verify",
                             "--store", str(store)], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    check = {
        "decisions_acknowledged": len(acknowledged), "decisions_refused_stale": len(refused),
        "in_store": len(stored), "lost": len(lost), "duplicated": len(duplicated),
        "wrong_decision_id": len(wrong_id), "refused_but_stored": len(refused_but_stored),
        "stored_but_not_acknowledged": len(unacknowledged),
        "store_verify": verify.stdout.strip().splitlines()[-1][:200] if verify.stdout else
        verify.stderr.strip()[-200:],
    }
    _say(json.dumps(check, ensure_ascii=False))
    results.append({"decisions": check})
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
