"""Crash safety: `er dedup` and `er match` run as real processes and are killed with
SIGKILL at several points (ER_FAULT_AT, resolution/faults.py). After each kill the
previous outputs and the store are intact and pass `er store verify`; a re-run gives
the same crosswalk as an uninterrupted run.

Run with `pytest -s tests/test_trust_crash.py` to see each fault and its outcome.
A kill before the store is opened for writing (ingest, predict) leaves the store and the
outputs untouched (asserted), so its re-run is an uninterrupted run from the same state;
to keep the suite fast those re-runs are made only with ER_CRASH_FULL=1. Kills during the
store commit or the output moves are always re-run.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEDUP_FAULTS = ("ingest", "predict", "commit", "outputs", "switched")
MATCH_FAULTS = ("ingest", "predict", "commit")
ALWAYS_RERUN = ("commit", "outputs", "switched")


def _er(*args, env_extra=None, env=None):
    e = {**env, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "resolution.cli", *map(str, args)],
        cwd=ROOT, env=e, capture_output=True, text=True, timeout=300, check=False,
    )


def _crosswalk(store: Path) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT record_id, entity_id FROM crosswalk ORDER BY 1").fetchall()
    finally:
        con.close()


def _jobs(store: Path) -> list[str]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT job_id FROM jobs ORDER BY 1").fetchall()]
    finally:
        con.close()


def _outputs(out: Path) -> tuple:
    """The output folder's job (summary.json), the job job.duckdb names, and the
    crosswalk its Parquet copy and job.duckdb hold."""
    job = json.loads((out / "summary.json").read_text("utf-8"))["job_id"]
    con = duckdb.connect()
    try:
        pq = con.execute(
            f"SELECT record_id, entity_id FROM '{out / 'crosswalk.parquet'}' ORDER BY 1"
        ).fetchall()
        con.execute(f"ATTACH '{out / 'job.duckdb'}' AS j (READ_ONLY)")
        db = con.execute("SELECT record_id, entity_id FROM j.crosswalk ORDER BY 1").fetchall()
        db_job = con.execute("SELECT job_id FROM j.job").fetchall()[0][0]
    finally:
        con.close()
    return job, db_job, pq, db


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from resolution.config import load_config
    from resolution.model.settings import build_settings
    from training.demo_data import write_demo

    root = tmp_path_factory.mktemp("crash")
    cfg_text = (ROOT / "configs" / "customer_zh.yaml").read_text("utf-8")
    cfg_text = cfg_text.replace("track_in_mlflow: true", "track_in_mlflow: false")
    config = root / "config.yaml"
    config.write_text(cfg_text, "utf-8")
    settings = root / "settings.json"
    settings.write_text(json.dumps(build_settings(load_config(config)), ensure_ascii=False), "utf-8")
    customers, _ = write_demo(root / "data", n_records=300, seed=5)
    with customers.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]

    def write(name, part):
        p = root / name
        with p.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *part])
        return p

    files = {"base": write("base.csv", body[:240]), "all": write("all.csv", body),
             "new": write("new.csv", body[240:])}
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    env.pop("ER_FAULT_AT", None)
    w = {"root": root, "config": config, "settings": settings, "env": env, **files}
    r = _er("dedup", "--config", config, "--model", settings, "--input", files["base"],
            "--out", root / "out0", "--store", root / "store0.duckdb", env=env)
    assert r.returncode == 0, r.stderr
    return w


def _copy(w, name):
    d = w["root"] / name
    d.mkdir()
    shutil.copy(w["root"] / "store0.duckdb", d / "store.duckdb")
    shutil.copytree(w["root"] / "out0", d / "out", symlinks=True)
    return d


def _dedup(w, d, fault=None):
    return _er("dedup", "--config", w["config"], "--model", w["settings"], "--input", w["all"],
               "--out", d / "out", "--store", d / "store.duckdb", env=w["env"],
               env_extra={"ER_FAULT_AT": fault} if fault else None)


def _match(w, d, fault=None):
    return _er("match", "--config", w["config"], "--model", w["settings"], "--input", w["new"],
               "--store", d / "store.duckdb", env=w["env"],
               env_extra={"ER_FAULT_AT": fault} if fault else None)


def test_kill_at_each_stage_leaves_store_and_outputs_intact(world):
    w = world
    store0 = w["root"] / "store0.duckdb"
    before_xw, before_jobs = _crosswalk(store0), _jobs(store0)
    before_out = _outputs(w["root"] / "out0")
    cases = [("dedup", f) for f in DEDUP_FAULTS] + [("match", f) for f in MATCH_FAULTS]
    cases += [("dedup", None), ("match", None)]  # the uninterrupted references

    def run(case):
        kind, fault = case
        d = _copy(w, f"{kind}-{fault or 'ref'}")
        first = (_dedup if kind == "dedup" else _match)(w, d, fault)
        killed = None
        if fault:
            killed = first
            verify = _er("store", "verify", "--store", d / "store.duckdb", env=w["env"])
            state = (_crosswalk(d / "store.duckdb"), _jobs(d / "store.duckdb"),
                     _outputs(d / "out"), verify)
            if fault in ALWAYS_RERUN or os.environ.get("ER_CRASH_FULL"):
                rerun = (_dedup if kind == "dedup" else _match)(w, d)
            else:
                rerun = None
        else:
            state, rerun = None, first
        after = _er("store", "verify", "--store", d / "store.duckdb", env=w["env"])
        if kind == "dedup" and rerun is not None and rerun.returncode == 0:
            outs = _outputs(d / "out")
            runs = sorted(p.name for p in (d / "out" / ".runs").iterdir())
            assert outs[0] == outs[1] == _jobs(d / "store.duckdb")[-1] and outs[2] == outs[3], (
                f"{kind} {fault}: re-run outputs disagree")
            assert runs == [outs[0]], f"{kind} {fault}: old runs left behind: {runs}"
        return case, killed, state, rerun, _crosswalk(d / "store.duckdb"), after

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, cases))
    refs = {c[0]: xw for c, _k, _s, rerun, xw, _a in results if c[1] is None}
    problems = []
    for (kind, fault), killed, state, rerun, xw, after in results:
        assert rerun is None or rerun.returncode == 0, (
            f"{kind} {fault}: re-run failed\n{rerun.stderr[-2000:]}"
        )
        assert after.returncode == 0, f"{kind} {fault}: verify after re-run\n{after.stdout}"
        if fault is None:
            continue
        assert killed.returncode == -9, (
            f"{kind} killed at {fault}: exit {killed.returncode}, not SIGKILL\n{killed.stderr[-2000:]}"
        )
        cw, jobs, outs, verify = state
        if verify.returncode != 0:
            problems.append(f"{kind} killed at {fault}: verify failed: {verify.stdout}")
        if rerun is not None and xw != refs[kind]:
            problems.append(f"{kind} killed at {fault}: re-run differs from an uninterrupted run")
        rerun_note = "re-run = uninterrupted run" if rerun is not None else (
            "re-run skipped (state identical to before; ER_CRASH_FULL=1 runs it)")
        consistent = outs[0] == outs[1] and outs[2] == outs[3]
        if not consistent:
            problems.append(f"{kind} killed at {fault}: output files disagree "
                            f"(summary.json {outs[0]}, job.duckdb {outs[1]})")
        if fault in ("outputs", "switched"):
            # The store has committed (it commits before the output switch).
            if len(jobs) != len(before_jobs) + 1 or verify.returncode != 0:
                problems.append(f"{kind} killed at {fault}: store not committed and valid")
            if fault == "outputs" and outs != before_out:
                problems.append(f"{kind} killed at {fault}: previous outputs not intact")
            if fault == "switched" and (outs[0] not in jobs or outs[0] == before_out[0]):
                problems.append(f"{kind} killed at {fault}: outputs are not the new job's")
            shows = "previous job" if outs == before_out else "new job"
            outcome = (f"store committed and valid; outputs show the {shows} ({outs[0]}), "
                       f"summary.json and job.duckdb agree: {consistent}; {rerun_note}")
        else:
            if cw != before_xw or jobs != before_jobs:
                problems.append(f"{kind} killed at {fault}: store changed")
            if kind == "dedup" and outs != before_out:
                problems.append(f"{kind} killed at {fault}: previous outputs not intact")
            outcome = f"store and previous outputs intact, verify ok, {rerun_note}"
        print(f"SIGKILL {kind} at {fault}: exit {killed.returncode}; {outcome}")
    assert not problems, "\n".join(problems)


def test_outputs_of_an_older_layout_are_adopted(world, tmp_path):
    """An output folder holding plain files (an older version, or a copy that followed the
    links) is taken over: afterwards the names are links to the new job's run."""
    w = world
    d = tmp_path / "legacy"
    d.mkdir()
    shutil.copy(w["root"] / "store0.duckdb", d / "store.duckdb")
    shutil.copytree(w["root"] / "out0", d / "out", symlinks=False)  # plain files, a `current` folder
    assert not (d / "out" / "job.duckdb").is_symlink()
    r = _dedup(w, d)
    assert r.returncode == 0, r.stderr[-2000:]
    out = d / "out"
    job, db_job, pq, db = _outputs(out)
    assert job == db_job == _jobs(d / "store.duckdb")[-1] and pq == db
    assert all((out / n).is_symlink() for n in ("job.duckdb", "summary.json", "quality.html"))
    assert os.readlink(out / "current") == f".runs/{job}"
    assert sorted(p.name for p in (out / ".runs").iterdir()) == [job]


def test_a_plain_file_among_the_links_is_adopted_with_the_rest(world, tmp_path):
    w = world
    d = tmp_path / "mixed"
    d.mkdir()
    shutil.copy(w["root"] / "store0.duckdb", d / "store.duckdb")
    shutil.copytree(w["root"] / "out0", d / "out", symlinks=True)
    q = d / "out" / "quality.json"
    text = q.read_text("utf-8")
    q.unlink()
    q.write_text(text, "utf-8")  # e.g. written by hand or by another tool
    r = _dedup(w, d)
    assert r.returncode == 0, r.stderr[-2000:]
    job, db_job, pq, db = _outputs(d / "out")
    assert job == db_job == _jobs(d / "store.duckdb")[-1] and pq == db
    assert q.is_symlink() and json.loads(q.read_text("utf-8"))
    assert sorted(p.name for p in (d / "out" / ".runs").iterdir()) == [job]
