"""`er store rollback JOB_ID`: undo one job's changes to the store, through the CLI.

Job 1 resolves a demo set; job 2 resolves a changed copy (records that now copy another
entity's customer, so entities merge; records rewritten as someone else, so entities
split; records dropped). Rolling back job 2 must give back job 1's tables exactly.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from resolution import crypto
from tests.conftest import CONFIG, run_cli

TABLES = ("records", "pairs", "crosswalk", "entities", "review_queue", "cluster_splits",
          "entity_registry")


def _tables(store: Path) -> dict[str, list]:
    con = crypto.open_file(store, read_only=True)
    try:
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}
    finally:
        con.close()


def _job_id(out: Path) -> str:
    return json.loads((out / "summary.json").read_text("utf-8"))["job_id"]


@pytest.fixture(scope="module")
def world(tmp_path_factory, mlflow_store):
    from resolution.config import load_config
    from resolution.model.settings import build_settings
    from training.demo_data import write_demo

    root = tmp_path_factory.mktemp("rollback")
    text = CONFIG.read_text("utf-8").replace("track_in_mlflow: true", "track_in_mlflow: false")
    (root / "config.yaml").write_text(text, "utf-8")
    (root / "settings.json").write_text(
        json.dumps(build_settings(load_config(root / "config.yaml")), ensure_ascii=False), "utf-8")
    customers, _truth = write_demo(root / "data", n_records=300, seed=11)
    with customers.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    # job 2's input: 10 records copy another record's customer (merges), 10 become a new
    # customer (splits), 10 are dropped
    changed = [dict(r) for r in rows]
    for i in range(10):
        src, dst = changed[2 * i], changed[100 + 2 * i]
        for k in header:
            if k not in ("record_id", "source_system", "updated_at"):
                dst[k] = src[k]
    for i in range(10):
        r = changed[200 + i]
        r.update(customer_name=f"独立测试客户{i:02d}有限公司", mobile=f"1390000{i:04d}",
                 email=f"solo{i}@example.cn", uscc="", id_card="", contact_name=f"测{i}",
                 phone="", address=f"测试路{i + 1}号")
    changed = changed[:280]
    second = root / "second.csv"
    with second.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(changed)
    store = root / "store.duckdb"
    common = ["--config", root / "config.yaml", "--model", root / "settings.json", "--store", store]
    run_cli("dedup", "--input", customers, "--out", root / "out1", *common)
    after1 = _tables(store)
    shutil.copy(store, root / "after1.duckdb")
    run_cli("dedup", "--input", second, "--out", root / "out2", *common)
    return {"root": root, "store": store, "after1": after1, "job1": _job_id(root / "out1"),
            "job2": _job_id(root / "out2"), "config": root / "config.yaml"}


def _fresh(world, tmp_path) -> Path:
    p = tmp_path / "store.duckdb"
    shutil.copy(world["store"], p)
    return p


def test_job2_merges_and_splits(world):
    con = crypto.open_file(world["store"], read_only=True)
    kinds = {r[0] for r in con.execute(
        "SELECT DISTINCT event FROM entity_events WHERE job_id = ?", [world["job2"]]).fetchall()}
    con.close()
    assert {"merge", "split", "records_removed"} <= kinds, kinds


def test_rollback_gives_back_job1_tables_and_verifies(world, tmp_path):
    store = _fresh(world, tmp_path)
    dry = run_cli("store", "rollback", world["job2"], "--store", store, "--dry-run")
    assert "would roll back job" in dry.output and "dry run: nothing changed" in dry.output
    assert "merge" in dry.output or "split" in dry.output
    assert _tables(store) == _tables(world["store"])  # the dry run changed nothing
    r = run_cli("store", "rollback", world["job2"], "--store", store)
    assert f"rolled back job {world['job2']} (dedup)" in r.output
    assert _tables(store) == world["after1"]
    assert run_cli("store", "verify", "--store", store).output.startswith("ok: 0 breach(es)")
    con = crypto.open_file(store, read_only=True)
    rb = con.execute("SELECT job_id, summary FROM jobs WHERE kind = 'rollback'").fetchall()
    events = con.execute("SELECT count(*) FROM entity_events WHERE job_id = ?", [rb[0][0]]).fetchall()
    con.close()
    assert len(rb) == 1 and json.loads(rb[0][1])["rolls_back"] == world["job2"]
    assert events[0][0] > 0
    # twice: a clear refusal naming the rollback
    again = run_cli("store", "rollback", world["job2"], "--store", store, expect=2)
    assert again.output.startswith("error: ") and "already rolled back by " + rb[0][0] in again.output
    # then job 1 (now the latest in force) can go too: back to an empty store
    run_cli("store", "rollback", world["job1"], "--store", store)
    assert run_cli("store", "verify", "--store", store).exit_code == 0


def test_rollback_refuses_when_a_later_job_is_in_force(world, tmp_path):
    store = _fresh(world, tmp_path)
    r = run_cli("store", "rollback", world["job1"], "--store", store, expect=2)
    assert r.output.startswith("error: ") and f"roll back {world['job2']} first" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_unknown_job_is_one_error_line(world, tmp_path):
    store = _fresh(world, tmp_path)
    r = run_cli("store", "rollback", "20000101T000000-deadbeef", "--store", store, expect=2)
    assert r.output.startswith("error: no job 20000101T000000-deadbeef")
    assert world["job2"] in r.output and "Traceback" not in r.output


def test_review_decision_on_a_changed_entity_blocks_then_undo_unblocks(world, tmp_path):
    from resolution.review import actions
    from resolution.review.store_access import ensure_schema

    store = _fresh(world, tmp_path)
    con = crypto.open_file(store)
    ensure_schema(con)
    # an entity job 2 changed (it merged records into it)
    eid = con.execute(
        "SELECT entity_id FROM entity_events WHERE job_id = ? AND event = 'merge' ORDER BY 1 LIMIT 1",
        [world["job2"]]).fetchall()[0][0]
    cfg = actions.load_review_config(con, world["config"])
    did = actions.confirm(con, cfg, "alice", eid, actions.entity_version(con, eid))
    con.close()
    r = run_cli("store", "rollback", world["job2"], "--store", store, expect=2)
    assert r.output.startswith(f"error: steward decision {did} (confirm by alice")
    assert "undo it in the review app first" in r.output
    con = crypto.open_file(store)
    actions.undo(con, cfg, "alice", eid, actions.entity_version(con, eid), did)
    con.close()
    # the undo restored membership but recomputed golden records and confidences; if they
    # match job 2's exactly the rollback goes through, else it names the undo
    r = run_cli("store", "rollback", world["job2"], "--store", store, expect=None)
    if r.exit_code == 0:
        assert run_cli("store", "verify", "--store", store).exit_code == 0
    else:
        assert r.exit_code == 2 and "steward decision" in r.output


def test_a_first_job_is_checked_by_fingerprint_and_a_decision_blocks_it(world, tmp_path):
    """A job that created the store's tables keeps no second copy of them, only their row
    counts and hashes; a steward decision that changed them still blocks its rollback."""
    from resolution.review import actions
    from resolution.review.store_access import ensure_schema

    store = tmp_path / "store.duckdb"
    shutil.copy(world["root"] / "after1.duckdb", store)
    con = crypto.open_file(store)
    copies = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'undo' AND table_name LIKE ?",
        [world["job1"] + "%"]).fetchall()}
    hashed = {r[0] for r in con.execute(
        "SELECT table_name FROM undo_log WHERE job_id = ? AND mode = 'created' "
        "AND added_hash IS NOT NULL", [world["job1"]]).fetchall()}
    # the registry exists in every store, so job 1 keeps the diff of it
    assert hashed == set(TABLES) - {"entity_registry"}
    assert {c.split("__")[1] for c in copies} == {"entity_registry"}
    ensure_schema(con)
    eid = con.execute("SELECT entity_id FROM entities WHERE record_count >= 2 ORDER BY 1 LIMIT 1"
                      ).fetchall()[0][0]
    cfg = actions.load_review_config(con, world["config"])
    did = actions.confirm(con, cfg, "alice", eid, actions.entity_version(con, eid))
    con.close()
    r = run_cli("store", "rollback", world["job1"], "--store", store, expect=2)
    assert r.output.startswith(f"error: steward decision {did} (confirm by alice")
    assert len(r.output.strip().splitlines()) == 1


def test_decisions_that_change_no_rows_the_job_wrote_are_kept(world, tmp_path):
    """A steward's note (review app) and a CLI cannot-link change no table the job wrote:
    the rollback keeps both, and the constraint stays active for the next run."""
    from resolution.review import actions
    from resolution.review.store_access import ensure_schema

    store = _fresh(world, tmp_path)
    con = crypto.open_file(store)
    ensure_schema(con)
    eid, a, b = con.execute(
        "SELECT entity_id, min(record_id), max(record_id) FROM crosswalk GROUP BY 1 "
        "HAVING count(*) >= 2 ORDER BY 1 LIMIT 1").fetchall()[0]
    cfg = actions.load_review_config(con, world["config"])
    note = actions.comment(con, cfg, "bob", eid, "电话已核实")
    con.close()
    cli_decision = run_cli("store", "cannot-link", "--store", store, a, b).output.strip()
    r = run_cli("store", "rollback", world["job2"], "--store", store)
    assert "steward decisions since, kept: 2" in r.output
    con = crypto.open_file(store, read_only=True)
    kept = con.execute("SELECT count(*) FROM decisions WHERE decision_id IN (?, ?)",
                       [note, cli_decision]).fetchall()[0][0]
    active = con.execute("SELECT count(*) FROM constraints WHERE active AND decision_id = ?",
                         [cli_decision]).fetchall()[0][0]
    con.close()
    assert (kept, active) == (2, 1)
    assert {k: v for k, v in _tables(store).items()} == world["after1"]
    assert run_cli("store", "verify", "--store", store).exit_code == 0


def test_rollback_of_an_incremental_match(world, tmp_path):
    """`er match` writes the store too; rolling it back gives back the tables before it."""
    from training.demo_data import write_demo

    store = _fresh(world, tmp_path)
    run_cli("store", "rollback", world["job2"], "--store", store)
    before = _tables(store)
    new, _ = write_demo(tmp_path / "new", n_records=30, seed=99)
    with new.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:  # fresh record IDs, and a few of the store's customers again
        r["record_id"] = "NEW-" + r["record_id"]
    with (tmp_path / "new.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    run_cli("match", "--config", world["config"], "--model", world["root"] / "settings.json",
            "--input", tmp_path / "new.csv", "--store", store)
    con = crypto.open_file(store, read_only=True)
    match_id = con.execute("SELECT job_id FROM jobs WHERE kind = 'match'").fetchall()[0][0]
    con.close()
    assert _tables(store) != before
    r = run_cli("store", "rollback", match_id, "--store", store)
    assert f"rolled back job {match_id} (match)" in r.output
    assert _tables(store) == before
    assert run_cli("store", "verify", "--store", store).exit_code == 0


def test_only_the_latest_jobs_keep_rollback_records(world, tmp_path, monkeypatch):
    import resolution.store.undo as store_module

    monkeypatch.setattr(store_module, "UNDO_KEEP", 1)
    store = _fresh(world, tmp_path)
    run_cli("dedup", "--input", world["root"] / "data" / "customers.csv", "--out", tmp_path / "o3",
            "--config", world["config"], "--model", world["root"] / "settings.json",
            "--store", store)
    con = crypto.open_file(store, read_only=True)
    logged = {r[0] for r in con.execute("SELECT job_id FROM undo_log").fetchall()}
    undo_tables = {r[0].split("__")[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'undo'").fetchall()}
    con.close()
    job3 = _job_id(tmp_path / "o3")
    assert logged == undo_tables == {job3}
    run_cli("store", "rollback", job3, "--store", store)
    r = run_cli("store", "rollback", world["job2"], "--store", store, expect=2)
    assert r.output.startswith(f"error: job {world['job2']} has no rollback record")
    assert "restore a backup" in r.output


def test_rollback_help_has_an_example():
    r = run_cli("store", "rollback", "--help")
    assert "Example: er store rollback" in r.output and "--dry-run" in r.output


def test_rollback_marks_the_job_output_folder(world, tmp_path):
    """After a rollback the job's output folder says so (ROLLED_BACK.json beside its
    outputs, summary.json's `rolled_back`); a folder moved away is named and the rollback
    still goes through (the store is the truth); a later job in the folder replaces it."""
    store = tmp_path / "store.duckdb"
    shutil.copy(world["root"] / "after1.duckdb", store)
    out = tmp_path / "out"
    job = ["--config", world["config"], "--model", world["root"] / "settings.json", "--store", store]
    run_cli("dedup", "--input", world["root"] / "second.csv", "--out", out, *job)
    job_id = _job_id(out)

    moved_store = tmp_path / "moved-store.duckdb"
    shutil.copy(store, moved_store)
    out.rename(tmp_path / "moved")
    r = run_cli("store", "rollback", job_id, "--store", moved_store)
    assert f"rolled back job {job_id}" in r.output
    assert f"output folder {out} not marked" in r.output and "not found" in r.output, r.output
    (tmp_path / "moved").rename(out)
    assert not (out / "current" / "ROLLED_BACK.json").exists()

    r = run_cli("store", "rollback", job_id, "--store", store)
    rollback_id = r.output.split("rollback recorded as job ")[1].split(";")[0]
    assert f"output folder {out} marked as rolled back" in r.output, r.output
    mark = json.loads((out / "current" / "ROLLED_BACK.json").read_text("utf-8"))
    assert (mark["job_id"], mark["rollback_job_id"]) == (job_id, rollback_id)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["job_id"] == job_id and summary["rolled_back"] == mark
    run = (out / "summary.json").resolve().parent
    assert {f.name for f in run.iterdir()} >= {"ROLLED_BACK.json", "summary.json"}
    assert not [f for f in run.iterdir() if f.name.startswith(".")]  # no temporary files
    for f in ("ROLLED_BACK.json", "summary.json"):
        assert (run / f).stat().st_mode & 0o777 == 0o600

    run_cli("dedup", "--input", world["root"] / "data" / "customers.csv", "--out", out, *job)
    assert not (out / "current" / "ROLLED_BACK.json").exists()
    assert "rolled_back" not in json.loads((out / "summary.json").read_text("utf-8"))
