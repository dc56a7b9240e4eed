"""`er store verify`, `er store backup`, `er store restore` on a small real store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CONFIG, run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    from resolution.config import load_config
    from resolution.model.settings import build_settings
    from resolution.pipeline import dedup
    from training.demo_data import write_demo

    root = tmp_path_factory.mktemp("trust")
    text = CONFIG.read_text("utf-8").replace("track_in_mlflow: true", "track_in_mlflow: false")
    (root / "config.yaml").write_text(text, "utf-8")
    cfg = load_config(root / "config.yaml")
    customers, _ = write_demo(root / "data", n_records=200, seed=7)
    dedup(cfg, build_settings(cfg), [customers], root / "out", store_path=root / "store.duckdb")
    return root / "store.duckdb"


def _copy(store: Path, tmp_path: Path) -> Path:
    p = tmp_path / "s.duckdb"
    shutil.copy(store, p)
    return p


def _sql(path: Path, *stmts: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for s in stmts:
            con.execute(s)
    finally:
        con.close()


def test_verify_passes_on_a_fresh_store(store):
    r = run_cli("store", "verify", "--store", store)
    assert r.output.startswith("ok: 0 breach(es)")


def test_verify_reports_each_breach_in_one_line(store, tmp_path):
    p = _copy(store, tmp_path)
    con = duckdb.connect(str(p))
    multi = con.execute(
        "SELECT entity_id, list(record_id ORDER BY record_id) FROM crosswalk GROUP BY 1 "
        "HAVING count(*) >= 2 ORDER BY 1 LIMIT 2").fetchall()
    single = con.execute(
        "SELECT entity_id, any_value(record_id) FROM crosswalk GROUP BY 1 HAVING count(*) = 1 "
        "ORDER BY 1 LIMIT 3").fetchall()
    con.close()
    (e1, m1), (e2, m2) = multi
    _sql(
        p,
        # a record in two entities
        f"INSERT INTO crosswalk SELECT record_id, source_system, '{e2}', membership_confidence "
        f"FROM crosswalk WHERE record_id = '{m1[0]}'",
        # a crosswalk record that is not in records
        f"INSERT INTO crosswalk VALUES ('GHOST-1', 'CRM', '{e1}', 1.0)",
        # an entity whose members vanished, and one missing from entities and the registry
        f"DELETE FROM crosswalk WHERE entity_id = '{single[0][0]}'",
        f"DELETE FROM entities WHERE entity_id = '{single[1][0]}'",
        f"DELETE FROM entity_registry WHERE entity_id = '{single[1][0]}'",
        # an honoured-by-now cannot-link inside one entity, a must-link across two
        "INSERT INTO decisions VALUES ('D1', TIMESTAMP '2000-01-01', 't', 'cannot_link', "
        f"['{m1[0]}', '{m1[1]}'], NULL, NULL, NULL, NULL, NULL, NULL)",
        f"INSERT INTO constraints VALUES ('{m1[0]}', '{m1[1]}', 'cannot_link', 'D1', true)",
        "INSERT INTO decisions VALUES ('D2', TIMESTAMP '2000-01-01', 't', 'must_link', "
        f"['{m2[0]}', '{single[2][1]}'], NULL, NULL, NULL, NULL, NULL, 'D9')",
        f"INSERT INTO constraints VALUES ('{m2[0]}', '{single[2][1]}', 'must_link', 'D2', true)",
        "UPDATE entities SET record_count = record_count + 5 WHERE entity_id = "
        f"'{e2}'",
        # a rollback of a job the store never ran, twice
        *["INSERT INTO jobs (job_id, kind, summary) VALUES "
          f"('R{i}', 'rollback', '{{\"rolls_back\": \"NOPE\"}}')" for i in (1, 2)],
    )
    r = run_cli("store", "verify", "--store", p, expect=1)
    lines = r.output.splitlines()
    breaches = [x for x in lines if x.startswith("breach: ")]
    text = "\n".join(breaches)
    for rule in (
        "record in more than one entity", "crosswalk record missing from records",
        "entity without members", "record_count differs", "crosswalk entity missing from entities",
        "live entity missing from entity_registry", "must-link not honoured",
        "cannot-link not honoured", "decision undone by an unknown decision",
        "undone decision still has active constraints", "job rolled back more than once",
        "rollback of a job that is not in jobs",
    ):
        assert rule in text, (rule, r.output)
    assert lines[-1].startswith("FAILED")


def test_constraint_made_after_the_last_batch_is_pending_not_a_breach(store, tmp_path):
    p = _copy(store, tmp_path)
    con = duckdb.connect(str(p))
    (a, b), = con.execute(
        "SELECT min(record_id), max(record_id) FROM crosswalk WHERE entity_id = "
        "(SELECT min(entity_id) FROM crosswalk)").fetchall() or [(None, None)]
    other = con.execute(
        f"SELECT min(record_id) FROM crosswalk WHERE entity_id <> "
        f"(SELECT entity_id FROM crosswalk WHERE record_id = '{a}')").fetchall()[0][0]
    con.close()
    run_cli("store", "must-link", "--store", p, a, other)
    r = run_cli("store", "verify", "--store", p)
    assert "pending_constraints 1" in r.output


def test_backup_and_restore_round_trip(store, tmp_path):
    p = _copy(store, tmp_path)
    r = run_cli("store", "backup", "--store", p, "--to", tmp_path / "bk")
    assert "backed up" in r.output
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text("utf-8"))
    assert manifest["counts"]["crosswalk"] == 200 and len(manifest["jobs"]) == 1
    assert len(manifest["sha256"]) == 64 and set(manifest["hashes"]) == set(manifest["counts"])
    run_cli("store", "verify", "--store", tmp_path / "bk" / "store.duckdb")
    # a second backup into the same folder is refused
    r = run_cli("store", "backup", "--store", p, "--to", tmp_path / "bk", expect=2)
    assert "error:" in r.output
    # damage the live store, then restore
    _sql(p, "DELETE FROM crosswalk WHERE record_id IN (SELECT record_id FROM crosswalk LIMIT 3)")
    run_cli("store", "verify", "--store", p, expect=1)
    r = run_cli("store", "restore", tmp_path / "bk", "--store", p)
    assert "replaced: 1 job(s)" in r.output and "restored: 1 job(s)" in r.output
    assert "previous store kept as" in r.output and "warning" not in r.output
    run_cli("store", "verify", "--store", p)
    con = duckdb.connect(str(p), read_only=True)
    assert con.execute("SELECT count(*) FROM crosswalk").fetchall()[0][0] == 200
    con.close()
    kept = [f for f in tmp_path.iterdir() if ".replaced-" in f.name]
    assert len(kept) == 1


def test_restore_refuses_a_backup_that_does_not_match_its_manifest(store, tmp_path):
    p = _copy(store, tmp_path)
    run_cli("store", "backup", "--store", p, "--to", tmp_path / "bk")
    m = tmp_path / "bk" / "manifest.json"
    d = json.loads(m.read_text("utf-8"))
    d["counts"]["crosswalk"] += 1
    m.write_text(json.dumps(d), "utf-8")
    before = p.read_bytes()
    r = run_cli("store", "restore", tmp_path / "bk", "--store", p, expect=2)
    assert "does not match its manifest" in r.output
    assert p.read_bytes() == before
    r = run_cli("store", "restore", tmp_path / "nothing", "--store", p, expect=2)
    assert "is not a backup" in r.output


def test_key_set_for_a_store_written_in_clear_is_refused(store, tmp_path, monkeypatch):
    """A store written without a key is never opened (nor silently left in clear) with
    one: one line, nothing changed (tests/test_trust_encryption.py covers encrypted ones)."""
    p = _copy(store, tmp_path)
    before = p.read_bytes()
    monkeypatch.setenv("ER_ENCRYPTION_KEY", "0123456789abcdef")
    for args in (("store", "verify", "--store", p),
                 ("store", "backup", "--store", p, "--to", tmp_path / "bk"),
                 ("store", "must-link", "--store", p, "A", "B")):
        r = run_cli(*args, expect=2)
        assert r.output.startswith("error:") and "is not encrypted but ER_ENCRYPTION_KEY is set" \
            in r.output, r.output
    assert p.read_bytes() == before and not (tmp_path / "bk" / "store.duckdb").exists()


def test_backup_waits_for_a_writer_and_takes_a_consistent_snapshot(store, tmp_path):
    """A writer (as a job's commit would) holds the store for a moment: the backup waits
    for it and copies the state after its transaction, never half of it."""
    import subprocess
    import sys
    import time

    p = _copy(store, tmp_path)
    writer = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); c.execute('BEGIN'); "
         "c.execute(\"DELETE FROM review_queue\"); print('holding', flush=True); "
         "time.sleep(1.5); c.execute('COMMIT'); c.close()", str(p)],
        stdout=subprocess.PIPE, text=True,
    )
    assert writer.stdout.readline().strip() == "holding"
    t0 = time.monotonic()
    run_cli("store", "backup", "--store", p, "--to", tmp_path / "bk")
    waited = time.monotonic() - t0
    writer.wait(10)
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text("utf-8"))
    assert manifest["counts"]["review_queue"] == 0, "backup did not see the committed change"
    assert waited > 0.5


def test_review_app_holding_the_store_lets_a_waiting_job_in(store, tmp_path):
    """`er review serve --hold-store` keeps the store open between requests; a job or CLI
    command waiting for it (connect_store / attach_store leave a marker) gets it at once,
    long before the hold expires, and the app reopens it on its next request."""
    import subprocess
    import sys
    import time

    from resolution.review.store_access import StoreAccess

    p = tmp_path / "run-store.duckdb"  # a name SQL must quote (the app adds its indexes)
    shutil.copy(store, p)
    access = StoreAccess(p, hold=30.0)
    try:
        with access.connect() as con:
            n = con.execute("SELECT count(*) FROM crosswalk").fetchall()[0][0]
        plain = subprocess.run(
            [sys.executable, "-c", f"import duckdb; duckdb.connect({str(p)!r}, read_only=True)"],
            capture_output=True, text=True, check=False)
        assert plain.returncode != 0 and "lock" in plain.stderr.lower()  # really held
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "resolution.cli", "store", "verify", "--store",
                            str(p)], cwd=ROOT, capture_output=True, text=True, timeout=60,
                           check=False)
        waited = time.monotonic() - t0
        assert r.returncode == 0 and r.stdout.startswith("ok: 0 breach(es)"), r.stdout + r.stderr
        assert waited < 15, waited  # not the 30 s hold
        with access.connect() as con:
            assert con.execute("SELECT count(*) FROM crosswalk").fetchall()[0][0] == n
    finally:
        access.close()
    assert not list(tmp_path.glob("*.wanted-*"))


def _two_members_of_different_entities(path: Path) -> tuple[str, str, str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        (e1, r1), (e2, r2) = con.execute(
            "SELECT entity_id, min(record_id) FROM crosswalk GROUP BY 1 HAVING count(*) >= 2 "
            "ORDER BY 1 LIMIT 2").fetchall()
    finally:
        con.close()
    return e1, r1, e2, r2


def _left_beside(folder: Path) -> list[str]:
    """Files a refused restore must not leave: temporary copies and kept old stores."""
    return sorted(f.name for f in folder.iterdir() if ".restore-" in f.name or ".replaced-" in f.name)


@pytest.mark.parametrize("edit", ["golden value", "entity swap"])
def test_restore_refuses_an_edited_backup_with_the_same_counts(store, tmp_path, edit):
    """The backup's store.duckdb is edited after the backup, keeping every row count: one
    entity's golden value changed, or two records swapped between two entities (which
    the store's invariants cannot see). The restore names the table and changes nothing."""
    p = _copy(store, tmp_path)
    run_cli("store", "backup", "--store", p, "--to", tmp_path / "bk")
    bk = tmp_path / "bk" / "store.duckdb"
    e1, r1, e2, r2 = _two_members_of_different_entities(bk)
    if edit == "golden value":
        stmts = [f"UPDATE entities SET customer_name = '篡改' WHERE entity_id = '{e1}'"]
        table = "entities"
    else:
        stmts = [f"UPDATE crosswalk SET entity_id = '{e2}' WHERE record_id = '{r1}'",
                 f"UPDATE crosswalk SET entity_id = '{e1}' WHERE record_id = '{r2}'"]
        table = "crosswalk"
    _sql(bk, *stmts)
    before = p.read_bytes()
    r = run_cli("store", "restore", tmp_path / "bk", "--store", p, expect=2)
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert "does not match its manifest" in r.output and table in r.output, r.output
    assert p.read_bytes() == before
    assert _left_beside(tmp_path) == []


def test_restore_verifies_a_backup_whose_manifest_was_rewritten_to_match(store, tmp_path):
    """Invariants broken in the backup, and a manifest re-written to match it (counts,
    content hashes, file checksum: here `er store backup` of the edited copy writes exactly
    what a careful tamperer would): the checksums pass, `verify` on the restored copy
    refuses it before it replaces the store."""
    p = _copy(store, tmp_path)
    broken = tmp_path / "broken.duckdb"
    shutil.copy(store, broken)
    _e1, r1, _e2, _r2 = _two_members_of_different_entities(broken)
    _sql(broken, f"DELETE FROM crosswalk WHERE record_id = '{r1}'")
    run_cli("store", "backup", "--store", broken, "--to", tmp_path / "bk")
    before = p.read_bytes()
    r = run_cli("store", "restore", tmp_path / "bk", "--store", p, expect=2)
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert "breaks the store's invariants" in r.output, r.output
    assert "record missing from crosswalk" in r.output and r1 in r.output, r.output
    assert p.read_bytes() == before
    assert _left_beside(tmp_path) == []


def test_restore_of_a_backup_without_checksums_warns(store, tmp_path):
    """A backup made by a version before checksums (its manifest has counts only) still
    restores, checked by its counts and `verify`, and says so."""
    p = _copy(store, tmp_path)
    run_cli("store", "backup", "--store", p, "--to", tmp_path / "bk")
    m = tmp_path / "bk" / "manifest.json"
    d = json.loads(m.read_text("utf-8"))
    legacy = {k: v for k, v in d.items() if k in ("store", "backed_up_at", "file", "counts", "jobs")}
    m.write_text(json.dumps(legacy), "utf-8")
    r = run_cli("store", "restore", tmp_path / "bk", "--store", p)
    assert "warning: " in r.output and "no checksums" in r.output, r.output
    assert "restored: 1 job(s)" in r.output
    run_cli("store", "verify", "--store", p)


def test_restore_or_backup_into_a_path_that_is_not_a_folder_is_one_error_line(store, tmp_path):
    run_cli("store", "backup", "--store", store, "--to", tmp_path / "bk")
    (tmp_path / "a-file").write_text("x", "utf-8")
    r = run_cli("store", "restore", tmp_path / "bk", "--store", tmp_path / "a-file" / "s.duckdb",
                expect=2)
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "a-file" in r.output, r.output
    for to in (tmp_path / "a-file", tmp_path / "a-file" / "bk"):
        r = run_cli("store", "backup", "--store", store, "--to", to, expect=2)
        assert r.output.startswith("error: cannot back up into") and "a-file" in r.output, r.output
