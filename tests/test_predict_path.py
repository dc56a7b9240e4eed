"""One predict path: `er dedup`, the Python API, `er evaluate --model` and the registered
pyfunc model give the same pairs and entities for the same records (the model's training
term frequencies, its calibrator once, one threshold), the pyfunc loads without
`training`, and every job records the model's name, version, training run and threshold.

One model is trained on labelled demo records (so it has a calibrator and a recommended
threshold) and registered once for the module; the batches are ten of its records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import CONFIG, ROOT, run_cli, trained_model_uri

MODEL = "pp_model"


@pytest.fixture(scope="module")
def model(mlflow_store, demo_files):
    """(registered model URI, run ID, version) of a model trained on the labelled demo."""
    customers, truth = demo_files
    result = run_cli("train", "--config", CONFIG, "--input", customers, "--truth", truth,
                     "--name", MODEL, "--no-charts")
    uri = trained_model_uri(result)
    import mlflow

    mlflow.set_tracking_uri(mlflow_store)
    client = mlflow.MlflowClient()
    version = uri.rsplit("/", 1)[-1]
    client.set_registered_model_alias(MODEL, "champion", version)
    return uri, client.get_model_version(MODEL, version).run_id, version


def _groups(rows) -> set[frozenset[str]]:
    by: dict[str, set[str]] = {}
    for record_id, entity_id in rows:
        by.setdefault(str(entity_id), set()).add(str(record_id))
    return {frozenset(g) for g in by.values()}


@pytest.fixture(scope="module")
def batch(model, demo_files, tmp_path_factory):
    """Ten demo records: two customers of three records each that the model links on the
    whole training data, and four records it leaves alone; with the expected entities."""
    customers, truth = demo_files
    full = tmp_path_factory.mktemp("full")
    run_cli("dedup", "--config", CONFIG, "--model", model[0], "--input", customers,
            "--out", full / "out")
    con = duckdb.connect()
    found = _groups(con.execute(
        f"SELECT record_id, entity_id FROM '{full / 'out' / 'crosswalk.parquet'}'").fetchall())
    true = _groups(con.execute(
        f"SELECT record_id, entity_id FROM read_csv('{truth}', all_varchar=true)").fetchall())
    both = sorted((sorted(g) for g in found & true), key=lambda g: g[0])
    triples = [g for g in both if len(g) == 3][:2]
    singles = [g[0] for g in both if len(g) == 1][:4]
    assert len(triples) == 2 and len(singles) == 4, "the demo has no such customers"
    ids = [i for g in triples for i in g] + singles
    frame = pd.read_csv(customers, dtype=str, keep_default_na=False)
    frame = frame[frame["record_id"].isin(ids)].reset_index(drop=True)
    path = tmp_path_factory.mktemp("batch") / "ten.csv"
    frame.to_csv(path, index=False)
    expected = {frozenset(g) for g in triples} | {frozenset([s]) for s in singles}
    return path, frame, expected


def _job(out: Path) -> tuple[set[frozenset[str]], list[tuple]]:
    con = duckdb.connect()
    groups = _groups(con.execute(
        f"SELECT record_id, entity_id FROM '{out / 'crosswalk.parquet'}'").fetchall())
    con.execute(f"ATTACH '{out / 'job.duckdb'}' AS j (READ_ONLY)")
    pairs = con.execute("SELECT record_id_l, record_id_r, round(match_probability, 9) "
                        "FROM j.pairs ORDER BY 1, 2").fetchall()
    return groups, pairs


def test_ten_records_resolve_alike_by_cli_api_evaluate_and_pyfunc(model, batch, tmp_path):
    import mlflow.pyfunc

    import resolution as er

    uri = model[0]
    path, frame, expected = batch
    run_cli("dedup", "--config", CONFIG, "--model", uri, "--input", path,
            "--out", tmp_path / "cli")
    cli_groups, cli_pairs = _job(tmp_path / "cli")
    assert cli_groups == expected

    loaded = er.load_model(uri)
    assert loaded.tf_tables and loaded.calibrator is not None  # shipped in the model
    er.dedup(frame, er.load_config(CONFIG), loaded, out=tmp_path / "api")
    api_groups, api_pairs = _job(tmp_path / "api")
    assert (api_groups, api_pairs) == (cli_groups, cli_pairs)

    crosswalk = mlflow.pyfunc.load_model(uri).predict(frame)
    assert _groups(crosswalk[["record_id", "entity_id"]].itertuples(index=False)) == expected

    # er evaluate --model runs the same path: the ten records' truth is what the job found
    truth = tmp_path / "truth.csv"
    pd.DataFrame([(r, min(g)) for g in expected for r in g],
                 columns=["record_id", "entity_id"]).to_csv(truth, index=False)
    result = run_cli("evaluate", "--model", uri, "--config", CONFIG, "--input", path,
                     "--truth", truth, "--json", "--no-mlflow")
    metrics = json.loads(result.output)
    assert metrics["pairwise_f1"] == 1.0 and metrics["predicted_pairs"] == 6


def test_the_pyfunc_model_loads_and_predicts_without_training(model, batch, mlflow_store):
    path, _frame, expected = batch
    script = (
        "import sys, json\n"
        "sys.modules['training'] = None  # as where only the runtime is installed\n"
        "import mlflow.pyfunc, pandas as pd\n"
        f"frame = pd.read_csv({str(path)!r}, dtype=str, keep_default_na=False)\n"
        f"out = mlflow.pyfunc.load_model({model[0]!r}).predict(frame)\n"
        "print(json.dumps(out[['record_id', 'entity_id']].values.tolist()))\n"
        "assert not any(m == 'training' or m.startswith('training.') for m in sys.modules\n"
        "               if sys.modules[m] is not None)\n"
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store}
    done = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _groups(json.loads(done.stdout.strip().splitlines()[-1])) == expected
    # the model lists the project among its requirements
    import mlflow

    local = mlflow.artifacts.download_artifacts(f"{model[0]}/requirements.txt")
    assert any(line.startswith("resolution==") for line in Path(local).read_text().splitlines())


def _store_job(store: Path) -> dict:
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS s (READ_ONLY)")
    cur = con.execute("SELECT * FROM s.jobs ORDER BY finished_at DESC LIMIT 1")
    return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def test_dedup_records_model_version_run_and_the_threshold_option(model, batch, tmp_path):
    uri, run_id, version = model
    path, frame, _expected = batch
    result = run_cli("dedup", "--config", CONFIG, "--model", f"models:/{MODEL}@champion",
                     "--input", path, "--out", tmp_path / "out", "--threshold", "0.5")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    assert (summary["model"], summary["model_name"], summary["model_version"]) == (
        f"models:/{MODEL}@champion", MODEL, version)
    assert summary["model_run_id"] == run_id
    assert (summary["threshold"], summary["threshold_source"]) == (0.5, "option")
    assert summary["quality_run_id"]  # the config tracks quality in MLflow
    job = _store_job(tmp_path / "out" / "store.duckdb")
    assert (job["model_name"], job["model_version"], job["model_run_id"], job["threshold"]) == (
        MODEL, version, run_id, 0.5)
    assert json.loads(job["summary"])["quality_run_id"] == summary["quality_run_id"]
    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'out' / 'store.duckdb'}' AS s (READ_ONLY)")
    config = json.loads(con.execute("SELECT config FROM s.job_configs").fetchone()[0])
    assert config["thresholds"]["match"] == 0.5  # the review app sees the job's threshold
    assert f"{MODEL} version {version}" in result.output
    # the pyfunc model takes the same threshold as a param and links the same records
    import mlflow.pyfunc

    crosswalk = mlflow.pyfunc.load_model(uri).predict(frame, params={"threshold": 0.5})
    assert _groups(crosswalk[["record_id", "entity_id"]].itertuples(index=False)) == _job(
        tmp_path / "out")[0]


def test_use_recommended_threshold_links_at_the_models_calibrated_recommendation(
        model, batch, tmp_path):
    import resolution as er

    path, _frame, _expected = batch
    loaded = er.load_model(model[0])
    raw = loaded.meta["recommended_threshold"]
    run_cli("dedup", "--config", CONFIG, "--model", model[0], "--input", path,
            "--out", tmp_path / "out", "--use-recommended-threshold")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    # jobs compare calibrated probabilities, so the raw recommendation is calibrated too
    assert summary["threshold_source"] == "recommended"
    assert summary["threshold"] == pytest.approx(float(loaded.calibrator([raw])[0]))
    assert _store_job(tmp_path / "out" / "store.duckdb")["threshold"] == summary["threshold"]


def test_threshold_options_refused_in_one_line(model, batch, tmp_path):
    import resolution as er

    path, _frame, _expected = batch
    bare = tmp_path / "bare.json"  # settings alone: no training.json, no recommendation
    bare.write_text(json.dumps(er.load_model(model[0]).settings), "utf-8")
    for args, says in (
        (["--model", bare, "--use-recommended-threshold"], "no recommended threshold"),
        (["--model", model[0], "--threshold", "1.5"], "between 0 and 1"),
        (["--model", model[0], "--threshold", "0.5", "--use-recommended-threshold"], "not both"),
    ):
        result = run_cli("dedup", "--config", CONFIG, "--input", path, "--out", tmp_path / "o",
                         *args, expect=2)
        assert result.output.startswith("error:") and says in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not (tmp_path / "o" / "summary.json").exists()
