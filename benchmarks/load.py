"""Concurrent load on the entry-time check (`er check serve`, POST /check) and the steward
review app (`er review serve`: queue and entity pages), both on 127.0.0.1 only.

    python benchmarks/load.py [--records 2000] [--clients 8] [--requests 400] [--seconds 60]

Builds a store of N demo records in WORKDIR (default .bench/load-N; a Splink settings
model from the config, no MLflow), starts each server in its own process on a free
loopback port, then runs C concurrent clients until R requests in total are done or S
seconds have passed (each bound is per server). Prints per endpoint: requests, errors,
throughput and latency p50 / p95 / max. Both servers are stopped at the end.
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
    from resolution.demo_data import write_demo
    from resolution.pipeline import dedup
    from training.settings import build_settings

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


def run_load(name: str, make_client, clients: int, total: int, seconds: float) -> dict:
    """`make_client()` returns a callable doing one request (raising on failure)."""
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))
    stop_at = time.monotonic() + seconds

    def worker():
        try:
            one = make_client()
        except Exception as exc:  # noqa: BLE001 - reported as an error
            with lock:
                errors.append(f"client setup: {exc}")
            return
        while time.monotonic() < stop_at:
            with lock:
                if next(counter, None) is None:
                    return
            t0 = time.perf_counter()
            try:
                one()
                ok = True
            except Exception as exc:  # noqa: BLE001
                ok, err = False, f"{type(exc).__name__}: {exc}"[:200]
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt) if ok else errors.append(err)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    r = {
        "endpoint": name, "clients": clients, "requests": len(lat), "errors": len(errors),
        "seconds": round(wall, 2), "per_second": round(len(lat) / wall, 1) if wall else 0,
        "p50_ms": round(_pct(lat, 0.50) * 1000, 1), "p95_ms": round(_pct(lat, 0.95) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1) if lat else None,
        "first_errors": sorted(set(errors))[:3],
    }
    _say(json.dumps(r, ensure_ascii=False))
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=400, help="per endpoint, at most")
    ap.add_argument("--seconds", type=float, default=60, help="per endpoint, at most")
    ap.add_argument("--workdir", type=Path, default=None)
    a = ap.parse_args()
    work = a.workdir or ROOT / ".bench" / f"load-{a.records}"
    store, config, settings, customers = build(work, a.records)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    with customers.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    results = []

    port = _free_port()
    srv = _start(["check", "serve", "--store", str(store), "--model", str(settings),
                  "--config", str(config), "--host", HOST, "--port", str(port)], port, env)
    try:
        url = f"http://{HOST}:{port}/check"

        def check_client():
            rnd = random.Random(threading.get_ident())

            def one():
                r = rnd.choice(rows)
                body = {k: r[k] for k in ("customer_name", "mobile", "address", "uscc") if r.get(k)}
                req = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=30) as resp:
                    json.loads(resp.read())
            return one

        results.append(run_load("POST /check", check_client, a.clients, a.requests, a.seconds))
    finally:
        _stop(srv)

    password = "load-test-" + os.urandom(6).hex()
    add = subprocess.run([sys.executable, "-m", "resolution.cli", "users", "add", "loadtest",
                          "--role", "steward", "--store", str(store), "--password-stdin"],
                         input=password + "\n", cwd=ROOT, env=env, capture_output=True, text=True)
    if add.returncode != 0 and "exists" not in (add.stdout + add.stderr):
        raise SystemExit(f"users add failed: {add.stdout}{add.stderr}")
    port = _free_port()
    srv = _start(["review", "serve", "--store", str(store), "--host", HOST, "--port", str(port),
                  "--config", str(config)], port, env)
    try:
        base = f"http://{HOST}:{port}"
        import duckdb

        con = duckdb.connect(str(store), read_only=True)
        entities = [r[0] for r in con.execute(
            "SELECT entity_id FROM review_queue ORDER BY entity_id LIMIT 200").fetchall()]
        con.close()

        def review_client():
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            page = opener.open(f"{base}/login", timeout=30).read().decode()
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            data = urllib.parse.urlencode({"csrf": csrf, "next": "/queue", "username": "loadtest",
                                           "password": password}).encode()
            opener.open(f"{base}/login", data, timeout=30).read()
            rnd = random.Random(threading.get_ident())

            def one():
                path = "/queue" if rnd.random() < 0.3 or not entities else \
                    f"/entity/{rnd.choice(entities)}"
                with opener.open(base + path, timeout=30) as resp:
                    body = resp.read()
                    if resp.status != 200 or b"login" in resp.geturl().encode():
                        raise RuntimeError(f"{path}: {resp.status} {resp.geturl()}")
                    assert body
            return one

        results.append(run_load("review GET /queue, /entity/ID", review_client, a.clients,
                                a.requests, a.seconds))
    finally:
        _stop(srv)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
