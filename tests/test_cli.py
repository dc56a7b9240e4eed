"""The batch job end to end through the `er` CLI, on generated data in temp folders."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from conftest import CONFIG, run_cli, trained_model_uri


def _tables(job_dir):
    con = duckdb.connect(str(job_dir / "job.duckdb"), read_only=True)
    return con


def test_dedup_writes_contract_tables_and_accounts_for_every_record(
    tmp_path, demo_files, trained_model
):
    customers, truth = demo_files
    out = tmp_path / "out"
    result = run_cli(
        "dedup", "--config", CONFIG, "--model", trained_model, "--input", customers, "--out", out
    )
    assert "entities out" in result.output
    con = _tables(out)
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert {"records", "rejected", "pairs", "crosswalk", "entities", "review_queue"} <= tables
    n_input = len(pd.read_csv(customers, dtype=str))
    n_cross = con.execute("SELECT count(*) FROM crosswalk").fetchall()[0][0]
    n_rej = con.execute("SELECT count(*) FROM rejected").fetchall()[0][0]
    assert n_cross + n_rej == n_input
    dup = con.execute(
        "SELECT count(*) FROM (SELECT record_id FROM crosswalk GROUP BY 1 HAVING count(*) > 1)"
    ).fetchall()[0][0]
    assert dup == 0
    # golden records: one per entity, counts agree with the crosswalk
    bad = con.execute(
        """SELECT count(*) FROM entities e
           JOIN (SELECT entity_id, count(*) n FROM crosswalk GROUP BY 1) c USING (entity_id)
           WHERE e.record_count <> c.n"""
    ).fetchall()[0][0]
    assert bad == 0
    assert con.execute("SELECT count(*) FROM entities").fetchall()[0][0] == con.execute(
        "SELECT count(DISTINCT entity_id) FROM crosswalk"
    ).fetchall()[0][0]
    # lineage points at a member record of the same entity
    wrong_lineage = con.execute(
        """SELECT count(*) FROM entities e WHERE e.lineage.customer_name.record_id IS NOT NULL
           AND e.lineage.customer_name.record_id NOT IN
               (SELECT record_id FROM crosswalk c WHERE c.entity_id = e.entity_id)"""
    ).fetchall()[0][0]
    assert wrong_lineage == 0
    for name in ("crosswalk", "entities", "review_queue"):
        assert len(pd.read_parquet(out / f"{name}.parquet")) == con.execute(
            f"SELECT count(*) FROM {name}"
        ).fetchall()[0][0]
    # confidences are probabilities
    lo, hi = con.execute(
        "SELECT min(membership_confidence), max(membership_confidence) FROM crosswalk"
    ).fetchall()[0]
    assert 0.0 <= lo <= hi <= 1.0

    ev = run_cli("evaluate", "--out", out, "--truth", truth, "--json")
    import json

    metrics = json.loads(ev.output)
    assert metrics["records"] == n_cross
    assert metrics["pairwise_f1"] > 0.8  # a real model on real-looking data, not a constant


def test_rerun_gives_identical_entity_ids(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(customers, dtype=str).sample(frac=1.0, random_state=5).to_csv(shuffled, index=False)
    runs = []
    for i, inp in enumerate([customers, customers, shuffled]):
        out = tmp_path / f"run{i}"
        run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", inp, "--out", out)
        runs.append(
            _tables(out)
            .execute("SELECT record_id, entity_id FROM crosswalk ORDER BY record_id")
            .fetchall()
        )
    assert runs[0] == runs[1]
    assert runs[0] == runs[2]  # row order does not decide IDs


def test_chunked_prediction_scores_the_same_pairs_as_one_pass(tmp_path, demo_files, trained_model):
    """resources.predict_chunk_pairs splits prediction into Splink's hash chunks of the
    records; every candidate pair is scored once, so pairs and entities are unchanged."""
    import yaml

    customers, _ = demo_files
    cfg = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    cfg["quality"]["track_in_mlflow"] = False
    cfg["resources"]["predict_chunk_pairs"] = 300  # ~10 chunks on the 1,500 demo records
    chunked = tmp_path / "chunked.yaml"
    chunked.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    cfg["resources"]["predict_chunk_pairs"] = None
    single = tmp_path / "single.yaml"
    single.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    got = {}
    for name, config in (("chunked", chunked), ("single", single)):
        out = tmp_path / name
        run_cli("dedup", "--config", config, "--model", trained_model, "--input", customers,
                "--out", out)
        con = _tables(out)
        got[name] = (con.execute("SELECT * FROM pairs ORDER BY ALL").fetchall(),
                     con.execute("SELECT record_id, entity_id FROM crosswalk ORDER BY ALL").fetchall(),
                     json.loads((out / "summary.json").read_text("utf-8"))["candidate_pairs"])
        con.close()
    assert got["chunked"][2] > 300 * 5  # it did take several chunks
    assert len(got["single"][0]) > 500
    assert got["chunked"] == got["single"]


def test_standardize_cache_between_jobs(tmp_path, demo_files, trained_model):
    """With resources.standardize_cache the second job on the same input reads every
    standardized value from the cache, says so in summary.json, and gives the same records
    and entities."""
    import yaml

    customers, _ = demo_files
    cfg = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    cfg["quality"]["track_in_mlflow"] = False
    cfg["resources"]["standardize_cache"] = str(tmp_path / "cache" / "std.duckdb")
    (tmp_path / "cache").mkdir()
    config = tmp_path / "cached.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    got = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        res = run_cli("dedup", "--config", config, "--model", trained_model, "--input",
                      customers, "--out", out)
        assert ("standardized values from cache" in res.output) == (i == 1)
        summary = json.loads((out / "summary.json").read_text("utf-8"))
        con = _tables(out)
        got.append((
            summary["standardized_values"], summary["standardize_cache_hits"],
            con.execute("SELECT * FROM records ORDER BY record_id")
            .fetchall(),
            con.execute("SELECT record_id, entity_id FROM crosswalk ORDER BY ALL").fetchall(),
        ))
        con.close()
    assert got[0][0] > 1500 and got[0][1] == 0
    assert got[1][1] == got[1][0] == got[0][0]
    assert got[0][2:] == got[1][2:]


def test_rejected_rows_and_the_rest_proceed(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    df = pd.read_csv(customers, dtype=str).head(300)
    extra = df.head(2).copy()
    extra.loc[:, "customer_name"] = "重复"
    empty = df.head(1).copy()
    empty.loc[:, "record_id"] = None
    bad = tmp_path / "bad.csv"
    pd.concat([df, extra, empty]).to_csv(bad, index=False)
    out = tmp_path / "out"
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", bad, "--out", out)
    con = _tables(out)
    reasons = [r[0] for r in con.execute("SELECT reason FROM rejected ORDER BY _row").fetchall()]
    assert len(reasons) == 3
    assert sum(r.startswith("duplicate record_id") for r in reasons) == 2
    assert "empty record_id" in reasons
    assert con.execute("SELECT count(*) FROM crosswalk").fetchall()[0][0] == 300


def test_model_references(tmp_path, demo_files, trained_model, mlflow_store):
    customers, _ = demo_files
    small = tmp_path / "small.csv"
    pd.read_csv(customers, dtype=str).head(200).to_csv(small, index=False)
    import mlflow

    mlflow.set_tracking_uri(mlflow_store)
    client = mlflow.MlflowClient()
    name, version = trained_model.removeprefix("models:/").split("/")
    client.set_registered_model_alias(name, "champion", version)
    mv = client.get_model_version(name, version)
    results = []
    for ref in (f"models:/{name}@champion", trained_model, mv.run_id):
        out = tmp_path / ref.replace("/", "_").replace(":", "").replace("@", "_")
        run_cli("dedup", "--config", CONFIG, "--model", ref, "--input", small, "--out", out)
        results.append(_tables(out).execute("SELECT * FROM crosswalk ORDER BY 1").fetchall())
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize(
    "model, message",
    [
        ("models:/no_such_model/1", "cannot load model"),
        ("not-a-model", "unknown model reference"),
        ("missing.json", "model file not found"),
    ],
)
def test_unknown_model_reference(tmp_path, demo_files, mlflow_store, model, message):
    customers, _ = demo_files
    r = run_cli(
        "dedup", "--config", CONFIG, "--model", model, "--input", customers, "--out", tmp_path,
        expect=2,
    )
    assert message in r.output
    assert "Traceback" not in r.output


def test_user_errors_are_one_line(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    bad_cfg = tmp_path / "bad.yaml"
    bad_cfg.write_text(CONFIG.read_text(encoding="utf-8").replace("thresholds:", "thresholds:\n  mach: 1"), encoding="utf-8")
    no_col = tmp_path / "nocol.csv"
    no_col.write_text("id,name\n1,华联\n", encoding="utf-8")
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(128, 256)) * 20)
    cases = [
        (["--config", CONFIG, "--input", empty], "empty"),
        (["--config", bad_cfg, "--input", customers], "unknown key 'thresholds.mach'"),
        (["--config", CONFIG, "--input", no_col], "column 'record_id' (mapped to 'record_id' in source.columns) is missing"),
        (["--config", CONFIG, "--input", garbage], "neither UTF-8 nor GBK"),
        (["--config", CONFIG, "--input", tmp_path / "nope.csv"], "not found"),
    ]
    for args, message in cases:
        r = run_cli("dedup", "--model", trained_model, "--out", tmp_path / "o", *args, expect=2)
        assert message in r.output, r.output
        assert "Traceback" not in r.output
        assert r.output.strip().startswith("error:")
    # a failed job leaves no partial output behind
    assert not (tmp_path / "o" / "job.duckdb").exists()


def test_help_has_examples():
    for cmd in ("train", "dedup", "evaluate", "demo"):
        r = run_cli(cmd, "--help")
        assert "Example:" in r.output


def test_calibrated_model_calibrates_job_pairs(tmp_path, demo_files, mlflow_store):
    customers, truth = demo_files
    small = tmp_path / "small.csv"
    pd.read_csv(customers, dtype=str).head(700).to_csv(small, index=False)
    res = run_cli("train", "--config", CONFIG, "--input", small, "--truth", truth,
                  "--name", "calibrated", "--no-charts")
    model = trained_model_uri(res)
    out = tmp_path / "out"
    run_cli("dedup", "--config", CONFIG, "--model", model, "--input", small, "--out", out)
    con = _tables(out)
    cols = {r[0] for r in con.execute("DESCRIBE pairs").fetchall()}
    assert "raw_match_probability" in cols
    changed = con.execute(
        "SELECT count(*) FROM pairs WHERE abs(match_probability - raw_match_probability) > 1e-9"
    ).fetchall()[0][0]
    assert changed > 0
    lo, hi = con.execute("SELECT min(match_probability), max(match_probability) FROM pairs").fetchall()[0]
    assert 0.0 <= lo <= hi <= 1.0


def test_link_only_scores_only_pairs_across_sources(tmp_path, demo_files, mlflow_store):
    customers, _ = demo_files
    df = pd.read_csv(customers, dtype=str).head(800)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    df[df.source_system.isin(["CRM", "SHOP"])].assign(source_system="A").to_csv(a, index=False)
    df[~df.source_system.isin(["CRM", "SHOP"])].assign(source_system="B").to_csv(b, index=False)
    res = run_cli("train", "--config", CONFIG, "--input", a, "--input", b, "--link-type",
                  "link_only", "--name", "linker", "--no-charts")
    model = trained_model_uri(res)
    out = tmp_path / "out"
    run_cli("dedup", "--config", CONFIG, "--model", model, "--input", a, "--input", b, "--out", out)
    con = _tables(out)
    same_source = con.execute(
        """SELECT count(*) FROM pairs p JOIN records l ON l.record_id = p.record_id_l
           JOIN records r ON r.record_id = p.record_id_r WHERE l.source_system = r.source_system"""
    ).fetchall()[0][0]
    assert same_source == 0
    assert con.execute("SELECT count(*) FROM pairs").fetchall()[0][0] > 0
    assert con.execute("SELECT count(*) FROM crosswalk").fetchall()[0][0] == 800


def test_outputs_with_personal_data_are_owner_only(tmp_path, demo_files, trained_model):
    import stat

    customers, _ = demo_files
    small = tmp_path / "s.csv"
    pd.read_csv(customers, dtype=str).head(100).to_csv(small, index=False)
    out = tmp_path / "out"
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", small, "--out", out)
    for name in ("job.duckdb", "store.duckdb", "crosswalk.parquet", "entities.parquet",
                 "review_queue.parquet", "quality.json"):
        mode = stat.S_IMODE((out / name).stat().st_mode)
        assert mode & 0o077 == 0, f"{name} is readable by others: {oct(mode)}"
