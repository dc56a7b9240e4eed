"""Two jobs at once: real `er` processes on one store and on one output folder.

The first job is paused mid-way (after scoring, before it computes entity IDs against the
store and commits; `ER_PAUSE_AT`, resolution/faults.py) while a second process starts. A
second job on the same store or output folder is refused in one line naming the running
job, or queues behind it with `--wait`; read-only commands keep working; after every
commit `er store verify` is clean.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _er(*args, env, **kw):
    return subprocess.run([sys.executable, "-m", "resolution.cli", *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
                          **kw)


def _start(*args, env):
    return subprocess.Popen([sys.executable, "-m", "resolution.cli", *map(str, args)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from resolution.config import load_config
    from resolution.model.settings import build_settings
    from training.demo_data import write_demo

    root = tmp_path_factory.mktemp("concurrency")
    cfg_text = (ROOT / "configs" / "customer_zh.yaml").read_text("utf-8")
    config = root / "config.yaml"
    config.write_text(cfg_text.replace("track_in_mlflow: true", "track_in_mlflow: false"), "utf-8")
    settings = root / "settings.json"
    settings.write_text(json.dumps(build_settings(load_config(config)), ensure_ascii=False), "utf-8")
    customers, _ = write_demo(root / "data", n_records=400, seed=17)
    with customers.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]

    def write(name, part):
        p = root / name
        with p.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *part])
        return p

    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    for k in ("ER_FAULT_AT", "ER_PAUSE_AT", "ER_PAUSE_FILE"):
        env.pop(k, None)
    return {"root": root, "config": config, "settings": settings, "env": env,
            "first": write("first.csv", body[:300]), "second": write("second.csv", body[100:])}


class Paused:
    """`er dedup` in its own process, held at the `predict` fault point until released."""

    def __init__(self, w, out: Path, store: Path, name: str):
        self.hold = w["root"] / f"{name}.hold"
        self.hold.write_text("")
        env = {**w["env"], "ER_PAUSE_AT": "predict", "ER_PAUSE_FILE": str(self.hold)}
        self.proc = _start("dedup", "--config", w["config"], "--model", w["settings"],
                           "--input", w["first"], "--out", out, "--store", store, env=env)
        paused = self.hold.with_name(self.hold.name + ".paused")
        deadline = time.monotonic() + 240
        while not paused.exists():
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "the first job never reached its pause"
            time.sleep(0.1)

    def release(self) -> tuple[int, str]:
        self.hold.unlink()
        stdout, stderr = self.proc.communicate(timeout=300)
        return self.proc.returncode, stdout + stderr


def _dedup(w, inp, out, store, *extra):
    return _er("dedup", "--config", w["config"], "--model", w["settings"], "--input", inp,
               "--out", out, "--store", store, *extra, env=w["env"])


def _verify_clean(w, store):
    r = _er("store", "verify", "--store", store, env=w["env"])
    assert r.returncode == 0, r.stdout + r.stderr


def _jobs(store):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT job_id FROM jobs ORDER BY finished_at, job_id")
                .fetchall()]
    finally:
        con.close()


def _one_error_line(r) -> str:
    text = r.stdout + r.stderr
    assert r.returncode == 2, text
    assert "Traceback" not in text, text
    errors = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, text
    return errors[0]


def test_second_job_on_a_store_is_refused_or_queues(world):
    w = world
    store = w["root"] / "shared" / "store.duckdb"
    store.parent.mkdir()
    first = _dedup(w, w["first"], w["root"] / "out-base", store)
    assert first.returncode == 0, first.stdout + first.stderr
    _verify_clean(w, store)
    base_job = _jobs(store)[-1]

    a = Paused(w, w["root"] / "out-a", store, "a")
    try:
        # another dedup, a match and a rollback on the same store: refused, naming the job
        b = _dedup(w, w["second"], w["root"] / "out-b", store)
        line = _one_error_line(b)
        assert "in use by job" in line and "dedup" in line and "--wait" in line, line
        m = _er("match", "--config", w["config"], "--model", w["settings"], "--input",
                w["second"], "--store", store, env=w["env"])
        assert "in use by job" in _one_error_line(m)
        rb = _er("store", "rollback", base_job, "--store", store, env=w["env"])
        assert "in use by job" in _one_error_line(rb)
        # read-only work goes on meanwhile
        _verify_clean(w, store)
        # a job that may wait queues behind the running one
        c = _start("dedup", "--config", w["config"], "--model", w["settings"], "--input",
                   w["second"], "--out", w["root"] / "out-c", "--store", store,
                   "--wait", "240", env=w["env"])
        time.sleep(3)
        assert c.poll() is None, "the queued job did not wait"
        assert _jobs(store) == [base_job]
    finally:
        code, text = a.release()
    assert code == 0, text
    _verify_clean(w, store)
    c_out, c_err = c.communicate(timeout=300)
    assert c.returncode == 0, c_out + c_err
    assert "waiting for job" in c_out + c_err
    _verify_clean(w, store)
    jobs = _jobs(store)
    assert len(jobs) == 3 and jobs[0] == base_job
    # the refused jobs left nothing in the store, and the queued one committed after A
    a_job = json.loads((w["root"] / "out-a" / "summary.json").read_text("utf-8"))["job_id"]
    c_job = json.loads((w["root"] / "out-c" / "summary.json").read_text("utf-8"))["job_id"]
    assert jobs[1:] == [a_job, c_job]
    assert not (w["root"] / "out-b" / "summary.json").exists()


def test_second_job_on_an_output_folder_is_refused(world):
    w = world
    out = w["root"] / "out-shared"
    a = Paused(w, out, w["root"] / "store-a.duckdb", "shared")
    try:
        b = _dedup(w, w["second"], out, w["root"] / "store-b.duckdb")
        line = _one_error_line(b)
        assert "output folder" in line and "in use by job" in line, line
    finally:
        code, text = a.release()
    assert code == 0, text
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert (out / "crosswalk.parquet").exists() and (out / "job.duckdb").exists()
    assert _jobs(w["root"] / "store-a.duckdb") == [summary["job_id"]]
    assert not (w["root"] / "store-b.duckdb").exists()
    _verify_clean(w, w["root"] / "store-a.duckdb")


def test_a_killed_job_leaves_no_lock(world):
    w = world
    out, store = w["root"] / "out-killed", w["root"] / "store-killed.duckdb"
    a = Paused(w, out, store, "killed")
    a.proc.kill()
    a.proc.communicate()
    a.hold.unlink()
    r = _dedup(w, w["first"], out, store)
    assert r.returncode == 0, r.stdout + r.stderr
    _verify_clean(w, store)
