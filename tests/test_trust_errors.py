"""Failures the user can fix end in one `error:` line and exit code 2, never a traceback:
an output path that is a file, a read-only or unwritable folder, a full disk, a training
input too small to train on, a standardize cache in a missing folder. And worker
processes end with the job that started them (a kill -9 leaves none behind).

A full disk and a read-only folder are real: small tmpfs mounts (the tests skip, saying
why, where mounting is not permitted). Permission denied is /sys, which refuses even
root (chmod cannot simulate it for root).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFIG, ROOT, run_cli


def _one_error_line(result) -> str:
    """The run ended with exit 2 and exactly one `error:` line, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    errors = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output
    return errors[0]


@contextmanager
def _tmpfs(path: Path, options: str):
    if not sys.platform.startswith("linux"):
        pytest.skip("tmpfs mounts are Linux only")
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                       capture_output=True, text=True, check=False)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): "
                    f"{(r.stderr or r.stdout).strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def _dedup(model: str, customers: Path, out: Path, *extra):
    return run_cli("dedup", "--config", CONFIG, "--model", model, "--input", customers,
                   "--out", out, *extra, expect=None)


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    a_file = tmp_path / "results.csv"
    a_file.write_text("not a folder\n", encoding="utf-8")
    r = _dedup(trained_model, customers, a_file)
    line = _one_error_line(r)
    assert str(a_file) in line and "not a folder" in line, line
    assert "ingest" not in r.output  # refused before reading the input
    assert a_file.read_text(encoding="utf-8") == "not a folder\n"

    # a folder below a file (ENOTDIR) names the file that is in the way
    line = _one_error_line(run_cli("profile", "--config", CONFIG, "--input", customers,
                                   "--out", a_file / "report", expect=None))
    assert f"{a_file} is a file, not a folder" in line, line


def test_read_only_output_folder_is_refused_before_any_work(tmp_path, demo_files,
                                                           trained_model):
    customers, _ = demo_files
    with _tmpfs(tmp_path / "ro", "size=1m,ro") as ro:
        for out in (ro, ro / "new"):  # an existing folder, and one to create
            r = _dedup(trained_model, customers, out, "--store", tmp_path / "store.duckdb")
            line = _one_error_line(r)
            assert f"{out} is on a read-only file system" in line, line
            assert "ingest" not in r.output
    assert not (tmp_path / "store.duckdb").exists()


def test_full_disk_is_one_line(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    with _tmpfs(tmp_path / "small", "size=2m") as small:
        r = _dedup(trained_model, customers, small / "out", "--store",
                   tmp_path / "store.duckdb")
        line = _one_error_line(r)
    assert "no space left on the disk holding" in line and str(small) in line, line
    assert "free space" in line


def test_permission_denied_is_one_line(tmp_path, demo_files):
    """/sys refuses new folders even to root; the review CLI maps it the same way."""
    customers, _ = demo_files
    target = Path("/sys/er-test-report")
    try:
        target.mkdir()
    except OSError:
        pass
    else:  # pragma: no cover - a /sys that takes folders cannot show the refusal
        target.rmdir()
        pytest.skip("/sys accepted a new folder here")
    r = run_cli("profile", "--config", CONFIG, "--input", customers, "--out", target,
                expect=None)
    line = _one_error_line(r)
    assert "permission denied" in line and str(target) in line, line
    assert "ingest" not in r.output

    r = run_cli("review", "export-labels", "--store", tmp_path / "store.duckdb",
                "--out", target / "pairs.csv", expect=None)
    assert "permission denied" in _one_error_line(r)


def test_training_on_too_few_pairs_says_how_many_are_needed(tmp_path, mlflow_store):
    """300 records taken from a larger set hold a handful of duplicate pairs: EM drove λ
    to 1 and Splink failed on `cast(inf as float8)` with a traceback."""
    from training.demo_data import write_demo

    big, _ = write_demo(tmp_path / "big", n_records=10_000, seed=7)
    small = tmp_path / "first300.csv"
    lines = big.read_text(encoding="utf-8").splitlines(keepends=True)
    small.write_text("".join(lines[:301]), encoding="utf-8")
    r = run_cli("train", "--config", CONFIG, "--input", small, "--name", "too_small",
                "--no-charts", expect=None)
    line = _one_error_line(r)
    assert "too few record pairs" in line and "300 records" in line, line
    # each EM rule with its count, brackets and all (rich markup used to eat "[name_core]")
    assert "pairs under ['name_core']" in line and "at least 50" in line, line
    assert "train on more records" in line


def test_standardize_cache_in_a_missing_folder_is_refused_before_any_work(tmp_path,
                                                                          demo_files):
    customers, _ = demo_files
    cfg = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    missing = tmp_path / "no-such-folder"
    cfg.setdefault("resources", {})["standardize_cache"] = str(missing / "std.duckdb")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "report"
    r = run_cli("profile", "--config", config, "--input", customers, "--out", out,
                expect=None)
    line = _one_error_line(r)
    assert "resources.standardize_cache" in line and str(missing) in line, line
    assert "ingest" not in r.output and not (out / "quality.json").exists()
    assert not missing.exists()


def test_kill_9_during_standardize_leaves_no_worker_behind(tmp_path):
    """The standardize pool (forkserver, resource tracker, workers of ~330 MB each) ends
    within seconds of the job's kill -9; its workers used to wait forever."""
    psutil = pytest.importorskip("psutil")
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: standardize runs without worker processes")
    from training.demo_data import write_demo

    # enough distinct values for the pool (standardize.PARALLEL_MIN_VALUES) and a
    # standardize stage of several seconds
    customers, _ = write_demo(tmp_path / "data", n_records=30_000, seed=5)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    job = subprocess.Popen(
        [sys.executable, "-m", "resolution.cli", "profile", "--config", str(CONFIG),
         "--input", str(customers), "--out", str(tmp_path / "report")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    kids: list = []
    try:
        deadline = time.monotonic() + 90
        # workers are grandchildren (forked by the forkserver): wait for one of them
        while time.monotonic() < deadline and job.poll() is None:
            kids = psutil.Process(job.pid).children(recursive=True)
            if any(k.ppid() != job.pid for k in kids):
                break
            time.sleep(0.1)
        assert any(k.ppid() != job.pid for k in kids), "the job started no worker processes"
        time.sleep(0.5)
        kids = psutil.Process(job.pid).children(recursive=True)
        os.kill(job.pid, signal.SIGKILL)
        job.wait()
        _gone, alive = psutil.wait_procs(kids, timeout=10)
        alive = [k for k in alive if _running(psutil, k)]
        assert not alive, f"still running 10 s after the job's kill -9: {alive}"
    finally:
        if job.poll() is None:
            job.kill()
        for k in kids:
            try:
                k.kill()
            except psutil.Error:
                pass


def _running(psutil, proc) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
