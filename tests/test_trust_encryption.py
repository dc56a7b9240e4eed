"""Encryption at rest (README, "Encryption at rest"): with ER_ENCRYPTION_KEY set, no file
the engine writes (outputs, store, standardize cache, backup) holds a customer's name,
mobile, ID card or address in clear; everything reads back with the key; without the key
or with a wrong one a reader stops with one `error:` line; and when DuckDB cannot encrypt
(its httpfs extension does not load) a job refuses before it writes any file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from resolution import crypto
from tests.conftest import CONFIG, run_cli

KEY = "correct horse 'battery' staple"  # a quote in it: the key reaches SQL quoted


def _known_values(customers: Path) -> set[str]:
    """Names, mobiles, ID cards and addresses from the input, long enough to be unique."""
    found: set[str] = set()
    with customers.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for col, min_len in (("customer_name", 3), ("mobile", 11), ("id_card", 15),
                                 ("address", 10)):
                v = (row.get(col) or "").strip()
                if len(v) >= min_len:
                    found.add(v)
    return found


def _scan(root: Path, values: set[str], skip: Path) -> tuple[int, list[str]]:
    """(files scanned, 'file: value' for each known value found in a file's bytes)."""
    needles = [(v, v.encode("utf-8")) for v in values]
    hits, files = [], 0
    for p in sorted(root.rglob("*")):
        if not p.is_file() or p.is_symlink() or p == skip:
            continue
        files += 1
        data = p.read_bytes()
        hits += [f"{p.relative_to(root)}: {v}" for v, b in needles if b in data]
    return files, hits


def _job(tmp: Path, trained_model: str, customers: Path, **env) -> list[str]:
    cfg = yaml.safe_load(CONFIG.read_text("utf-8"))
    cfg.setdefault("resources", {})["standardize_cache"] = str(tmp / "cache" / "std.duckdb")
    cfg["resources"]["temp_directory"] = str(tmp / "spill")
    (tmp / "cache").mkdir(parents=True)
    (tmp / "store").mkdir()
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
    store = tmp / "store" / "store.duckdb"
    return ["--config", str(config), "--model", trained_model, "--input", str(customers),
            "--out", str(tmp / "out"), "--store", str(store)]


def test_encrypted_job_writes_no_personal_data_in_clear(
    trained_model, demo_files, tmp_path, monkeypatch
):
    customers, truth = demo_files
    values = _known_values(customers)
    assert len(values) > 500

    # control: without a key the same scan finds the values (so the scan can fail)
    plain = tmp_path / "plain"
    monkeypatch.delenv(crypto.KEY_ENV, raising=False)
    run_cli("dedup", *_job(plain, trained_model, customers))
    n_plain, hits_plain = _scan(plain, values, skip=customers)
    leaking = {h.split(":")[0] for h in hits_plain}
    assert {"store/store.duckdb", "cache/std.duckdb"} <= leaking, sorted(leaking)

    enc = tmp_path / "enc"
    monkeypatch.setenv(crypto.KEY_ENV, KEY)
    args = _job(enc, trained_model, customers)
    run_cli("dedup", *args)
    store = enc / "store" / "store.duckdb"
    # er match and er store rollback on the encrypted store
    new = tmp_path / "new.csv"  # outside the scanned folder
    with customers.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:20]
    with new.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows({**r, "record_id": "NEW-" + r["record_id"]} for r in rows)
    run_cli("match", *args[:4], "--input", new, "--store", store)
    con = crypto.open_file(store, read_only=True)
    try:
        (match_job,) = con.execute("SELECT job_id FROM jobs WHERE kind = 'match'").fetchall()[0]
    finally:
        con.close()
    run_cli("store", "rollback", match_job, "--store", store)
    run_cli("store", "backup", "--store", store, "--to", enc / "backup")
    n_files, hits = _scan(enc, values, skip=customers)
    written = {str(p.relative_to(enc)) for p in enc.rglob("*") if p.is_file()}
    print(f"[encryption] without key: {len(hits_plain)} hits in {n_plain} files; "
          f"with key: {len(hits)} hits in {n_files} files, {len(values)} values")
    for must in ("store/store.duckdb", "cache/std.duckdb", "backup/store.duckdb",
                 "backup/manifest.json"):
        assert must in written, (must, sorted(written))
    assert any(w.endswith("job.duckdb") for w in written)
    assert any(w.endswith("crosswalk.parquet") for w in written)
    assert not hits, hits[:10]

    summary = json.loads((enc / "out" / "summary.json").read_text("utf-8"))
    assert summary["encrypted"] is True
    # everything reads back with the key
    verify = run_cli("store", "verify", "--store", store)
    assert verify.output.startswith("ok: 0 breach"), verify.output
    evaluated = run_cli("evaluate", "--truth", truth, "--out", enc / "out", "--json")
    assert json.loads(evaluated.output[evaluated.output.index("{"):])
    con = crypto.connect()
    try:
        n = con.execute(
            "SELECT count(*) FROM read_parquet(?, encryption_config = {footer_key: 'er_key'})",
            [str(enc / "out" / "crosswalk.parquet")],
        ).fetchall()[0][0]
    finally:
        con.close()
    assert n == summary["accepted"]
    # Parquet pages are compressed, so the byte scan alone would miss clear Parquet: any
    # other reader without the key cannot open the copies
    import pyarrow.parquet as pq

    for t in ("crosswalk", "entities", "review_queue"):
        with pytest.raises(OSError, match="encrypted"):
            pq.read_table(enc / "out" / f"{t}.parquet")
    # the cache serves the next job (it opened with the key), and a restore works
    run_cli("dedup", *args)
    assert json.loads((enc / "out" / "summary.json").read_text("utf-8"))[
        "standardize_cache_hits"] > 0
    run_cli("store", "restore", enc / "backup", "--store", store)
    run_cli("store", "verify", "--store", store)

    # without the key, or with another one: one line, exit 2
    for env in (None, "another key"):
        if env is None:
            monkeypatch.delenv(crypto.KEY_ENV)
        else:
            monkeypatch.setenv(crypto.KEY_ENV, env)
        r = run_cli("store", "verify", "--store", store, expect=2)
        lines = [line for line in r.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), r.output
        assert crypto.KEY_ENV in lines[0]
        assert KEY not in r.output


def test_job_refuses_before_writing_when_duckdb_cannot_encrypt(
    trained_model, demo_files, tmp_path, monkeypatch
):
    customers, _ = demo_files
    monkeypatch.setenv(crypto.KEY_ENV, KEY)
    monkeypatch.setenv(crypto.EXTENSION_ENV, str(tmp_path / "missing" / "httpfs.duckdb_extension"))
    args = _job(tmp_path / "job", trained_model, customers)
    before = sorted(p for p in tmp_path.rglob("*"))
    for cmd in (["dedup", *args], ["profile", "--config", args[1], "--input", str(customers),
                                   "--out", str(tmp_path / "job" / "profile")]):
        r = run_cli(*cmd, expect=2)
        lines = [line for line in r.output.splitlines() if line.strip()]
        assert lines[-1].startswith("error:") and "httpfs" in lines[-1], r.output
        assert KEY not in r.output
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_spark_backend_refused_with_a_key(trained_model, demo_files, tmp_path, monkeypatch):
    """Spark's working files (Parquet of the records) would be written in clear."""
    customers, _ = demo_files
    monkeypatch.setenv(crypto.KEY_ENV, KEY)
    args = _job(tmp_path / "job", trained_model, customers)
    r = run_cli("dedup", *args, "--backend", "spark", expect=2)
    assert "spark" in r.output and not (tmp_path / "job" / "out").exists()
