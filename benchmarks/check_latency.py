"""Latency and recall of the data-entry duplicate check (`er check`) against a store.

    python benchmarks/check_latency.py --records 100000 [--checks 1000] [--http 500]

Builds (or reuses) a store of N demo records in WORKDIR (default .bench/check-N): the
demo generator writes N + H records, H of them (--holdout) are kept out of the store;
the rest are trained on (a sample of at most --train-records) and deduplicated with the
store. Then it checks held-out records, both true duplicates of stored customers (their
entity has other records in the store) and new customers (it has none), and prints:

- start-up: time to load the store snapshot, and the process's memory;
- latency in-process (Checker.check) and over HTTP (`er check serve` in its own process,
  loopback, one request at a time): p50 / p95 / p99;
- recall@1 and @3 of duplicates (the store entity holding most of the true customer's
  records is among the top candidates), how many duplicates are flagged as likely
  duplicates, and how many new customers are wrongly flagged.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CONFIG = ROOT / "configs" / "customer_zh.yaml"


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build(
    workdir: Path,
    n: int,
    holdout: int,
    train_records: int,
    seed: int,
    max_comparisons: float | None = None,
) -> None:
    """Generate, split, train and deduplicate into workdir/store.duckdb. Each step is
    skipped when its output is already there, so a failed build resumes."""

    from resolution.config import load_config
    from resolution.pipeline import dedup
    from training.demo_data import write_demo

    if (workdir / "model.json").exists() and (workdir / "store.duckdb").exists():
        _say(f"reusing the store in {workdir}")
        return
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{workdir / 'mlflow.db'}")
    if not (workdir / "train.csv").exists():
        t0 = time.perf_counter()
        customers, _truth = write_demo(workdir / "data", n_records=n + holdout, seed=seed)
        _say(f"generated {n + holdout:,} records ({time.perf_counter() - t0:.0f}s)")
        _split(workdir, customers, holdout, train_records, seed)
    config = load_config(CONFIG)
    # one job's quality report is enough; keep MLflow out of the timing. A million demo
    # records need more comparisons than the default limit (common person names).
    model = config.model
    if max_comparisons:
        model = model.model_copy(update={"max_comparisons": max_comparisons})
    config = config.model_copy(
        update={
            "quality": config.quality.model_copy(update={"track_in_mlflow": False}),
            "model": model,
        }
    )
    if not (workdir / "model.json").exists():
        import training

        t0 = time.perf_counter()
        with training.train(workdir / "train.csv", config, name="check_bench", register=True,
                            charts=False) as trained:
            (workdir / "model.json").write_text(json.dumps(trained.settings), "utf-8")
        _say(f"trained on {min(train_records, n):,} records ({time.perf_counter() - t0:.0f}s)")
    settings = json.loads((workdir / "model.json").read_text("utf-8"))
    t0 = time.perf_counter()
    summary = dedup(
        config,
        settings,
        [workdir / "store_input.csv"],
        workdir / "job",
        "model.json",
        store_path=workdir / "store.duckdb",
        on_stage=lambda s: _say(f"  dedup: {s}"),
    )
    _say(
        f"deduplicated {summary.accepted:,} records into {summary.entities:,} entities "
        f"({time.perf_counter() - t0:.0f}s)"
    )


def _split(workdir: Path, customers: Path, holdout: int, train_records: int, seed: int) -> None:
    """holdout.csv (records kept out of the store), store_input.csv, train.csv (a sample
    of the store's records)."""
    import duckdb

    from resolution.db import quote_literal

    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE c AS SELECT * FROM read_csv({quote_literal(str(customers))}, all_varchar=true)")
        con.execute(
            f"CREATE TABLE held AS SELECT record_id FROM c ORDER BY hash(record_id, {seed}) "
            f"LIMIT {holdout}"
        )
        con.execute("CREATE TABLE kept AS SELECT * FROM c ANTI JOIN held USING (record_id)")
        con.execute(
            f"COPY (SELECT * FROM c SEMI JOIN held USING (record_id) ORDER BY record_id) "
            f"TO {quote_literal(str(workdir / 'holdout.csv'))} (HEADER)"
        )
        con.execute(
            f"COPY (SELECT * FROM kept ORDER BY record_id) TO {quote_literal(str(workdir / 'store_input.csv'))} "
            "(HEADER)"
        )
        con.execute(
            f"COPY (SELECT * FROM kept ORDER BY hash(record_id, 1) LIMIT {train_records}) "
            f"TO {quote_literal(str(workdir / 'train.csv'))} (HEADER)"
        )
    finally:
        con.close()


def held_out(workdir: Path, k: int, seed: int) -> list[tuple[dict, str | None]]:
    """Up to k held-out records, each with the store entity it should find (None: new)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{workdir / 'store.duckdb'}' AS st (READ_ONLY)")
        con.execute(
            f"CREATE TABLE truth AS SELECT * FROM read_csv('{workdir / 'data' / 'truth.csv'}', "
            "all_varchar=true)"
        )
        # the store entity holding most of each true customer's stored records
        con.execute(
            """CREATE TABLE expect AS
               SELECT t.entity_id AS true_id, arg_max(x.entity_id, n) AS store_entity
               FROM (SELECT t.entity_id, x.entity_id AS e, count(*) AS n
                     FROM truth t JOIN st.crosswalk x USING (record_id) GROUP BY ALL) s
               JOIN truth t ON t.entity_id = s.entity_id
               JOIN st.crosswalk x ON x.entity_id = s.e
               GROUP BY t.entity_id"""
        )
        cur = con.execute(
            f"""SELECT h.*, e.store_entity
                FROM read_csv('{workdir / "holdout.csv"}', all_varchar=true) h
                JOIN truth t USING (record_id)
                LEFT JOIN expect e ON e.true_id = t.entity_id
                ORDER BY hash(h.record_id, {seed}) LIMIT {k}"""
        )
        names = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            rec = dict(zip(names, row))
            expected = rec.pop("store_entity")
            # a form has no record ID or source system yet
            rec.pop("record_id", None)
            rec.pop("source_system", None)
            out.append((rec, expected))
        return out
    finally:
        con.close()


def _percentiles(ms: list[float]) -> str:
    import numpy as np

    a = np.asarray(ms)
    return (
        f"p50 {np.percentile(a, 50):6.2f} ms  p95 {np.percentile(a, 95):6.2f} ms  "
        f"p99 {np.percentile(a, 99):6.2f} ms  max {a.max():6.2f} ms  (n={len(a)})"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_latency(
    workdir: Path, samples: list[dict], n: int
) -> tuple[list[float], list[float], float]:
    """Start `er check serve` in its own process; time n sequential POST /check calls
    (at the client, and the check itself as the server reports it) and the server's CPU
    time per request."""
    import httpx

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    store = workdir / "store.duckdb"
    made = subprocess.run(  # the server answers API tokens only (`er tokens create`)
        [sys.executable, "-m", "resolution.cli", "tokens", "create", "--store", str(store),
         "--name", f"latency-{os.getpid()}", "--role", "check"],
        env=env, capture_output=True, text=True, check=True,
    )
    auth = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "resolution.cli",
            "check",
            "serve",
            "--store",
            str(store),
            "--model",
            str(workdir / "model.json"),
            "--config",
            str(CONFIG),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 900
        with httpx.Client(timeout=30, headers=auth) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
                try:
                    if client.get(f"{url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.time() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.5)
            for rec in samples[:20]:  # warm the connection and the server
                client.post(f"{url}/check", json=rec)
            times, server = [], []
            cpu0 = _cpu_seconds(proc.pid)
            for rec in (samples * (n // max(len(samples), 1) + 1))[:n]:
                t0 = time.perf_counter()
                r = client.post(f"{url}/check", json=rec)
                times.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
                server.append(r.json()["elapsed_ms"])
            server_cpu_ms = (_cpu_seconds(proc.pid) - cpu0) * 1000 / max(n, 1)
            return times, server, server_cpu_ms
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000, help="records in the store")
    ap.add_argument("--holdout", type=int, default=2000, help="records kept out of the store")
    ap.add_argument("--checks", type=int, default=1000, help="in-process checks to time")
    ap.add_argument("--http", type=int, default=500, help="HTTP requests to time (0: skip)")
    ap.add_argument("--train-records", type=int, default=100_000, help="training sample")
    ap.add_argument("--workdir", type=Path, default=None, help="default .bench/check-N")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument(
        "--max-comparisons",
        type=float,
        default=None,
        help="raise the config's model.max_comparisons for the build (1M demo records: 1.5e8)",
    )
    args = ap.parse_args()
    workdir = args.workdir or Path(".bench") / f"check-{args.records}"

    build(workdir, args.records, args.holdout, args.train_records, args.seed, args.max_comparisons)

    from resolution.check import Checker, settle_heap
    from resolution.config import load_config

    config = load_config(CONFIG)
    settings = json.loads((workdir / "model.json").read_text("utf-8"))
    t0 = time.perf_counter()
    checker = Checker(workdir / "store.duckdb", settings, config, model_reference="model.json")
    load_s = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    info = checker.snapshot_info()

    samples = held_out(workdir, args.checks, args.seed)
    settle_heap()  # as `er check serve` does after loading
    times, cpu, hits1, hits3, flagged_dup, flagged_new, n_dup, n_new = [], [], 0, 0, 0, 0, 0, 0
    scored = []
    for rec, expected in samples:
        t0, c0 = time.perf_counter(), time.process_time()
        res = checker.check(rec, top_k=3, min_probability=0.0)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        scored.append(res.candidates_scored)
        top = [c.entity_id for c in res.candidates]
        if expected is None:
            n_new += 1
            flagged_new += res.likely_duplicate
        else:
            n_dup += 1
            hits1 += expected in top[:1]
            hits3 += expected in top[:3]
            flagged_dup += (
                bool(res.candidates) and res.candidates[0].likely_duplicate and (top[0] == expected)
            )

    print()
    print(f"store: {info['records']:,} records, {info['entities']:,} entities ({workdir})")
    print(
        f"start-up: snapshot loaded in {load_s:.1f} s; process max RSS {rss_mb:,.0f} MB; "
        f"{os.cpu_count()} cores"
    )
    print(
        f"checks: {len(samples)} held-out records: {n_dup} duplicates of stored customers, "
        f"{n_new} new customers; store records scored per check: median "
        f"{sorted(scored)[len(scored) // 2]}, max {max(scored)}"
    )
    # wall time is what a form waits for; CPU time shows what other load on the machine
    # added to it (process_time has a coarse clock: read its percentiles, not its max)
    load = os.getloadavg()[0]
    print(f"in-process latency: {_percentiles(times)}   (1-min load average {load:.1f})")
    print(f"in-process CPU:     {_percentiles(cpu)}")
    if args.http:
        http, server, server_cpu = http_latency(workdir, [r for r, _ in samples], args.http)
        print(
            f"HTTP latency:       {_percentiles(http)}   (1-min load average "
            f"{os.getloadavg()[0]:.1f})"
        )
        print(f"  of which check:   {_percentiles(server)}")
        print(f"  server CPU per request (HTTP + check): {server_cpu:.2f} ms")
    if n_dup:
        print(
            f"duplicates: recall@1 {hits1 / n_dup:.3f}  recall@3 {hits3 / n_dup:.3f}  "
            f"flagged as likely duplicate of the right entity {flagged_dup / n_dup:.3f}"
        )
    if n_new:
        print(
            f"new customers: wrongly flagged as likely duplicates {flagged_new / n_new:.3f} "
            f"({flagged_new} of {n_new})"
        )
    print(f"(likely duplicate = match probability >= thresholds.match {config.thresholds.match})")


if __name__ == "__main__":
    main()
